import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { PRIORITIES, STATUSES, TYPES, unwrap } from '../../api/client';
import { PriorityBadge, StatusBadge } from '../../components/badges';
import { EnumSelect } from '../../components/field';
import { Pager } from '../../components/pager';
import { ErrorState, Loading } from '../../components/states';
import { formatDateTime, humanize } from '../../format';
import { oneOf, pageNumber } from '../../search-params';
import { useSession } from '../../session/session';

const PAGE_SIZE = 25;

type Sort = 'created_at' | '-created_at' | 'updated_at' | '-updated_at' | 'priority' | '-priority';
const SORTS: Array<[Sort, string]> = [
  ['-updated_at', 'Recently updated'],
  ['updated_at', 'Least recently updated'],
  ['-created_at', 'Newest'],
  ['created_at', 'Oldest'],
  ['-priority', 'Most urgent first'],
  ['priority', 'Least urgent first'],
];
const SORT_VALUES = SORTS.map(([value]) => value);

// Each view is a preset of filters; a filter chosen on the page wins over the preset.
const VIEWS = {
  unassigned: { label: 'Unassigned', assigned_to: 'none', status: 'open' },
  mine: { label: 'Mine', assigned_to: 'me', status: undefined },
  open: { label: 'All open', assigned_to: undefined, status: 'open' },
  all: { label: 'All', assigned_to: undefined, status: undefined },
} as const;
type View = keyof typeof VIEWS;
const VIEW_NAMES = Object.keys(VIEWS) as View[];

/** The staff queue: views, filters, full-text search, sort and paging over every tenant. */
export function QueuePage() {
  const { api } = useSession();
  const [params, setParams] = useSearchParams();
  const view = oneOf(params.get('view'), VIEW_NAMES) ?? 'unassigned';
  const preset = VIEWS[view];
  const get = (name: string) => params.get(name) || undefined;
  // "any" is a choice of its own: it lifts the view's status preset.
  const statusParam = params.get('status') === 'any' ? 'any' : (oneOf(params.get('status'), STATUSES) ?? preset.status);
  const status = statusParam === 'any' ? undefined : statusParam;
  const sort = oneOf(params.get('sort'), SORT_VALUES) ?? '-updated_at';
  const page = pageNumber(params.get('page'));
  const query = {
    status,
    type: oneOf(params.get('type'), TYPES),
    priority: oneOf(params.get('priority'), PRIORITIES),
    tenant_id: get('tenant'),
    q: get('q'),
    assigned_to: preset.assigned_to,
    sort,
    limit: PAGE_SIZE,
    offset: page * PAGE_SIZE,
  };
  const tickets = useQuery({
    queryKey: ['queue', query],
    queryFn: () => unwrap(api.GET('/api/v1/admin/support/tickets', { params: { query } })),
    placeholderData: keepPreviousData,
  });

  function update(changes: Record<string, string | undefined>) {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    if (!('page' in changes)) next.delete('page');
    setParams(next);
  }

  return (
    <>
      <h1>Queue</h1>
      <nav aria-label="Queue views" className="tabs">
        <ul>
          {VIEW_NAMES.map((v) => (
            <li key={v}>
              <Link to={`/staff/queue?view=${v}`} aria-current={v === view ? 'page' : undefined}>
                {VIEWS[v].label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <form
        role="search"
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          update({ q: String(form.get('q') ?? '').trim(), tenant: String(form.get('tenant') ?? '').trim() });
        }}
      >
        <div className="filter-row">
          <label className="grow">
            Search
            <input type="search" name="q" defaultValue={query.q ?? ''} placeholder="Words in title, description or comments" key={`q-${query.q}`} />
          </label>
          <label>
            Tenant
            <input name="tenant" defaultValue={query.tenant_id ?? ''} placeholder="org_…" key={`t-${query.tenant_id}`} />
          </label>
          <button type="submit">Search</button>
        </div>
        <div className="filter-row">
          <EnumSelect label="Status" value={status ?? 'any'} values={STATUSES} any={{ value: 'any', label: 'Any status' }} onChange={(v) => update({ status: v })} />
          <EnumSelect label="Priority" value={query.priority ?? ''} values={PRIORITIES} any={{ value: '', label: 'Any priority' }} onChange={(v) => update({ priority: v })} />
          <EnumSelect label="Type" value={query.type ?? ''} values={TYPES} any={{ value: '', label: 'Any type' }} onChange={(v) => update({ type: v })} />
          <label>
            Sort
            <select value={sort} onChange={(e) => update({ sort: e.target.value })}>
              {SORTS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        </div>
      </form>
      {tickets.isPending ? (
        <Loading label="Loading the queue…" />
      ) : tickets.isError ? (
        <ErrorState error={tickets.error} onRetry={() => void tickets.refetch()} />
      ) : tickets.data.tickets.length === 0 ? (
        <section className="state empty">
          <h2>No tickets here</h2>
          <p>Nothing matches this view and these filters.</p>
        </section>
      ) : (
        <>
          <p className="muted" aria-live="polite">
            {tickets.data.total} {tickets.data.total === 1 ? 'ticket' : 'tickets'}
          </p>
          <table className="tickets">
            <caption className="visually-hidden">{preset.label} tickets</caption>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Tenant</th>
                <th scope="col">Requester</th>
                <th scope="col">Priority</th>
                <th scope="col">Status</th>
                <th scope="col">Assignee</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {tickets.data.tickets.map((ticket) => (
                <tr key={ticket.ticket_id}>
                  <td data-label="Title">
                    <Link to={`/staff/tickets/${ticket.ticket_id}`}>{ticket.title}</Link>
                    <span className="muted small"> · {humanize(ticket.type)}</span>
                  </td>
                  <td data-label="Tenant">
                    <button type="button" className="link-button" onClick={() => update({ tenant: ticket.tenant_id })} title="Show only this tenant">
                      {ticket.tenant_id}
                    </button>
                  </td>
                  <td data-label="Requester">{ticket.created_by_email}</td>
                  <td data-label="Priority">
                    <PriorityBadge priority={ticket.priority} />
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={ticket.status} />
                  </td>
                  <td data-label="Assignee">{ticket.assigned_to_email ?? <span className="muted">Nobody</span>}</td>
                  <td data-label="Updated">
                    <time dateTime={ticket.updated_at}>{formatDateTime(ticket.updated_at)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={PAGE_SIZE} total={tickets.data.total} onPage={(p) => update({ page: String(p) })} />
        </>
      )}
    </>
  );
}
