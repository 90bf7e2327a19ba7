import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { STATUSES, TYPES, unwrap } from '../../api/client';
import { StatusBadge } from '../../components/badges';
import { EnumSelect } from '../../components/field';
import { Pager } from '../../components/pager';
import { ErrorState, Loading } from '../../components/states';
import { RelativeTime } from '../../components/time';
import { humanize } from '../../format';
import { PageHeading, useDocumentTitle } from '../../page';
import { oneOf, pageNumber } from '../../search-params';
import { useSession } from '../../session/session';
import { MailPreference } from './mail-preference';

const PAGE_SIZE = 20;

/** The customer's own tickets, newest first, filtered by status and type. */
export function MyTicketsPage() {
  const { api } = useSession();
  const [params, setParams] = useSearchParams();
  const status = oneOf(params.get('status'), STATUSES);
  const type = oneOf(params.get('type'), TYPES);
  const page = pageNumber(params.get('page'));
  const query = { status, type, limit: PAGE_SIZE, offset: page * PAGE_SIZE };
  const tickets = useQuery({
    queryKey: ['my-tickets', query],
    queryFn: () => unwrap(api.GET('/api/v1/support/tickets', { params: { query } })),
    placeholderData: keepPreviousData,
  });

  function setParam(name: string, value: string | undefined) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== 'page') next.delete('page');
    setParams(next);
  }

  useDocumentTitle('My tickets');
  const isFiltered = Boolean(status || type);
  return (
    <>
      <div className="page-head">
        <PageHeading>My tickets</PageHeading>
        <Link className="button primary" to="/tickets/new">
          New ticket
        </Link>
      </div>
      <form className="filters" aria-label="Filter tickets" onSubmit={(e) => e.preventDefault()}>
        <EnumSelect label="Status" value={status ?? ''} values={STATUSES} any={{ value: '', label: 'Any status' }} onChange={(v) => setParam('status', v)} />
        <EnumSelect label="Type" value={type ?? ''} values={TYPES} any={{ value: '', label: 'Any type' }} onChange={(v) => setParam('type', v)} />
      </form>
      {tickets.isPending ? (
        <Loading label="Loading your tickets…" />
      ) : tickets.isError ? (
        <ErrorState isInline error={tickets.error} onRetry={() => void tickets.refetch()} />
      ) : tickets.data.tickets.length === 0 ? (
        <section className="state empty">
          <h2>{isFiltered ? 'No tickets match these filters' : 'No tickets yet'}</h2>
          {isFiltered ? (
            <button type="button" onClick={() => setParams(new URLSearchParams())}>
              Clear filters
            </button>
          ) : (
            <p>
              When something does not work, <Link to="/tickets/new">open a ticket</Link> and the support team will answer here.
            </p>
          )}
        </section>
      ) : (
        <>
          <table className="tickets">
            <caption className="visually-hidden">Your tickets, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Replies</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {tickets.data.tickets.map((ticket) => (
                <tr key={ticket.ticket_id}>
                  <td data-label="Title">
                    <Link to={`/tickets/${ticket.ticket_id}`}>{ticket.title}</Link>
                  </td>
                  <td data-label="Type">{humanize(ticket.type)}</td>
                  <td data-label="Status">
                    <StatusBadge status={ticket.status} />
                  </td>
                  <td data-label="Replies">{ticket.comment_count}</td>
                  <td data-label="Updated">
                    <RelativeTime iso={ticket.updated_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={PAGE_SIZE} total={tickets.data.total} onPage={(p) => setParam('page', String(p))} />
        </>
      )}
      <MailPreference />
    </>
  );
}
