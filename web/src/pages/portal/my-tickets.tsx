import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { STATUSES, TYPES, unwrap } from '../../api/client';
import { StatusBadge } from '../../components/badges';
import { EnumSelect } from '../../components/field';
import { Pager } from '../../components/pager';
import { ErrorState, Loading } from '../../components/states';
import { RelativeTime } from '../../components/time';
import { CustomerWaitingBadge } from '../../components/waiting';
import { humanize, ticketNumber } from '../../format';
import { PageHeading, useDocumentTitle } from '../../page';
import { oneOf, pageNumber } from '../../search-params';
import { useSession } from '../../session/session';
import { hasNewReply, loadSeen } from './seen';
import { MailPreference } from './mail-preference';

const PAGE_SIZE = 20;

/**
 * The customer's own tickets, latest activity first (a new answer brings its ticket to the top),
 * each saying whose move it is; filtered by status and type.
 */
export function MyTicketsPage() {
  const { api, userId } = useSession();
  const [params, setParams] = useSearchParams();
  const [seen] = useState(() => loadSeen(userId));
  const status = oneOf(params.get('status'), STATUSES);
  const type = oneOf(params.get('type'), TYPES);
  const page = pageNumber(params.get('page'));
  const query = { status, type, sort: '-updated_at' as const, limit: PAGE_SIZE, offset: page * PAGE_SIZE };
  const tickets = useQuery({
    queryKey: ['my-tickets', query],
    queryFn: () => unwrap(api.GET('/api/v1/support/tickets', { params: { query } })),
    placeholderData: keepPreviousData,
    // Back from a ticket, whose move it is may have changed: the list is asked again.
    refetchOnMount: 'always',
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
            <caption className="visually-hidden">Your tickets, latest activity first</caption>
            <thead>
              <tr>
                <th scope="col">Number</th>
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
                  <td data-label="Number" className="muted">
                    {ticketNumber(ticket.number)}
                  </td>
                  <td data-label="Title">
                    <Link to={`/tickets/${ticket.ticket_id}`}>{ticket.title}</Link> <CustomerWaitingBadge on={ticket.waiting_on} isNew={hasNewReply(seen, ticket)} />
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
