import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { unwrap } from '../../api/client';
import { ErrorState, Loading } from '../../components/states';
import { formatDuration, humanize } from '../../format';
import { oneOf } from '../../search-params';
import { PageHeading, useDocumentTitle } from '../../page';
import { useSession } from '../../session/session';

const WINDOWS: readonly number[] = [7, 30, 90, 365];

/** Queue counts and median response times over a window of days. */
export function StatsPage() {
  const { api } = useSession();
  const [params, setParams] = useSearchParams();
  const days = oneOf(params.get('days'), WINDOWS) ?? 30;
  const stats = useQuery({
    queryKey: ['stats', days],
    queryFn: () => unwrap(api.GET('/api/v1/admin/support/stats', { params: { query: { days } } })),
  });

  useDocumentTitle('Stats');
  return (
    <>
      <div className="page-head">
        <PageHeading>Stats</PageHeading>
        <label>
          Response times over
          <select value={days} onChange={(e) => setParams({ days: e.target.value })}>
            {WINDOWS.map((d) => (
              <option key={d} value={d}>
                the last {d} days
              </option>
            ))}
          </select>
        </label>
      </div>
      {stats.isPending ? (
        <Loading label="Loading stats…" />
      ) : stats.isError ? (
        <ErrorState isInline error={stats.error} onRetry={() => void stats.refetch()} />
      ) : (
        <>
          <dl className="stat-cards">
            <Stat label="Tickets" value={String(stats.data.total)} />
            <Stat label="Open and unassigned" value={String(stats.data.open_unassigned)} />
            <Stat label="Median first response" value={formatDuration(stats.data.median_first_response_seconds)} note={`over ${stats.data.first_response_sample} tickets`} />
            <Stat label="Median resolution" value={formatDuration(stats.data.median_resolution_seconds)} note={`over ${stats.data.resolution_sample} tickets`} />
          </dl>
          <div className="count-tables">
            <Counts title="By status" counts={stats.data.by_status} />
            <Counts title="By priority" counts={stats.data.by_priority} />
            <Counts title="By type" counts={stats.data.by_type} />
          </div>
        </>
      )}
    </>
  );
}

function Stat({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div className="card stat">
      <dt>{label}</dt>
      <dd>
        <span className="stat-value">{value}</span>
        {note ? <span className="muted small">{note}</span> : null}
      </dd>
    </div>
  );
}

function Counts({ title, counts }: { title: string; counts: Record<string, number> }) {
  return (
    <table className="card counts">
      <caption>{title}</caption>
      <tbody>
        {Object.entries(counts).map(([key, count]) => (
          <tr key={key}>
            <th scope="row">{humanize(key)}</th>
            <td>{count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
