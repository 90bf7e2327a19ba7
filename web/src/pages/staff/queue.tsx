import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import { useRef, useState, type ReactNode } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { PRIORITIES, TYPES, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { PriorityBadge, StatusBadge } from '../../components/badges';
import { EnumSelect } from '../../components/field';
import { Pager } from '../../components/pager';
import { ErrorState, Loading } from '../../components/states';
import { RelativeTime } from '../../components/time';
import { WaitingBadge } from '../../components/waiting';
import { draftTicketIds } from '../../drafts';
import { formatCount, humanize, personName, ticketNumber } from '../../format';
import { useShortcuts } from '../../keyboard';
import { PageHeading, useDocumentTitle } from '../../page';
import { useSession } from '../../session/session';
import { EMPTY_VIEW, PAGE_SIZE, readQueueParams, SORTS, STATUS_CHOICES, viewCountQuery, VIEW_NAMES, VIEWS, type View } from './queue-params';
import { loadTrail, saveTrail } from './queue-trail';
import { useLive } from '../../live/live';

type QueueTicket = components['schemas']['AdminTicketSummary'];

/**
 * The staff queue: views, filters, full-text search, sort and paging over every tenant, one line
 * per ticket. j and k move through it, Enter or o opens, / searches; each row is one Tab stop.
 */
export function QueuePage() {
  const { api, userId } = useSession();
  const { arrived } = useLive();
  const navigate = useNavigate();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const { view, label, preset, status, waitingOn, sort, page, query } = readQueueParams(params);
  const tickets = useQuery({
    queryKey: ['queue', query],
    queryFn: () => unwrap(api.GET('/api/v1/admin/support/tickets', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  useDocumentTitle(`${label} · Queue`);
  const isFiltered = query.q !== undefined || query.priority !== undefined || query.type !== undefined || query.tenant_id !== undefined || status !== preset.status || waitingOn !== preset.waiting_on;
  // A filtered page's total is not its view's count.
  const counts = useViewCounts(view, isFiltered ? undefined : tickets.data?.total);
  const search = useRef<HTMLInputElement>(null);
  const links = useRef<Array<HTMLAnchorElement | null>>([]);
  const rows = tickets.data?.tickets ?? [];
  // The row j and k move from (by ticket, so it stays put while the list changes): back from a ticket, the one last opened.
  const [selected, setSelected] = useState(() => loadTrail()?.current);
  const selectedIndex = rows.findIndex((t) => t.ticket_id === selected);
  const [isFiltersOpen, setFiltersOpen] = useState(false);
  const [drafts] = useState(() => draftTicketIds(userId));

  function update(changes: Record<string, string | undefined>) {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    if (!('page' in changes)) next.delete('page');
    setParams(next);
  }

  function select(index: number) {
    const bounded = Math.max(0, Math.min(rows.length - 1, index));
    setSelected(rows[bounded]?.ticket_id);
    links.current[bounded]?.focus();
  }

  /** Remembers this page of the queue for [ and ] in the workspace, then (unless a link does it) opens the ticket. */
  function open(ticket: QueueTicket, navigateToo: boolean) {
    saveTrail({ search: location.search, label, ids: rows.map((t) => t.ticket_id), current: ticket.ticket_id });
    if (navigateToo) void navigate(`/staff/tickets/${ticket.ticket_id}`);
  }

  const openSelected = () => {
    const ticket = rows[selectedIndex];
    if (!ticket) return false;
    open(ticket, true);
  };
  useShortcuts({
    j: () => select(selectedIndex < 0 ? 0 : selectedIndex + 1),
    k: () => select(selectedIndex < 0 ? 0 : selectedIndex - 1),
    o: openSelected,
    // On a link or a button, Enter is theirs.
    Enter: (event) => (event.target instanceof Element && event.target.closest('a, button, summary') ? false : openSelected()),
    '/': () => {
      setFiltersOpen(true);
      search.current?.focus();
      search.current?.select();
    },
  });

  // A column that repeats what the view or a filter already says is left out.
  const columns = {
    // A solved ticket waits on no one.
    waiting: status !== 'resolved' && status !== 'closed',
    type: !query.type,
    tenant: !query.tenant_id,
    priority: !query.priority,
    status: status === undefined || status === 'unsolved',
    assignee: preset.assigned_to === undefined,
    opened: sort === 'created_at' || sort === '-created_at',
  };
  const activeFilters = [status !== preset.status, waitingOn !== preset.waiting_on, query.priority, query.type, query.tenant_id, sort !== preset.sort].filter(Boolean).length;

  return (
    <>
      <div className="queue-head">
        <PageHeading>Queue</PageHeading>
        <nav aria-label="Queue views" className="tabs">
          <ul>
            {VIEW_NAMES.map((v) => (
              <li key={v}>
                {/* The count describes the tab rather than naming it: the link is called "Mine" whatever it holds. */}
                <Link to={`/staff/queue?view=${v}`} aria-current={v === view ? 'page' : undefined} aria-describedby={counts[v] === undefined ? undefined : `count-${v}`}>
                  {VIEWS[v].label}
                  {counts[v] === undefined ? null : (
                    <span id={`count-${v}`} className="tab-count" aria-hidden="true">
                      {formatCount(counts[v])}
                      <span className="visually-hidden"> {counts[v] === 1 ? 'ticket' : 'tickets'}</span>
                    </span>
                  )}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </div>
      <form
        role="search"
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          update({ q: String(form.get('q') ?? '').trim(), tenant: String(form.get('tenant') ?? '').trim() });
        }}
      >
        <label className="grow">
          <span className="visually-hidden">Search</span>
          <input
            ref={search}
            type="search"
            name="q"
            defaultValue={query.q ?? ''}
            placeholder="Search text, or #1042 for a number  ( / )"
            maxLength={200}
            aria-keyshortcuts="/"
            key={`q-${query.q}`}
          />
        </label>
        <button type="button" className="filters-toggle" aria-expanded={isFiltersOpen} aria-controls="more-filters" onClick={() => setFiltersOpen(!isFiltersOpen)}>
          Filters{activeFilters > 0 ? ` (${activeFilters})` : ''}
        </button>
        <div id="more-filters" className="more-filters" data-open={isFiltersOpen}>
          <label>
            <span className="visually-hidden">Tenant</span>
            <input name="tenant" defaultValue={query.tenant_id ?? ''} placeholder="Tenant (org_…)" maxLength={200} key={`t-${query.tenant_id}`} />
          </label>
          <EnumSelect label="Status" isLabelHidden value={status ?? 'any'} values={STATUS_CHOICES} any={{ value: 'any', label: 'Any status' }} onChange={(v) => update({ status: v })} />
          <label>
            <span className="visually-hidden">Whose move</span>
            <select value={waitingOn ?? 'any'} onChange={(e) => update({ waiting: e.target.value })}>
              <option value="any">Anyone’s move</option>
              <option value="support">Needs reply</option>
              <option value="customer">Waiting on customer</option>
            </select>
          </label>
          <EnumSelect label="Priority" isLabelHidden value={query.priority ?? ''} values={PRIORITIES} any={{ value: '', label: 'Any priority' }} onChange={(v) => update({ priority: v })} />
          <EnumSelect label="Type" isLabelHidden value={query.type ?? ''} values={TYPES} any={{ value: '', label: 'Any type' }} onChange={(v) => update({ type: v })} />
          <label className="inline">
            Sort
            <select value={sort} onChange={(e) => update({ sort: e.target.value })}>
              {SORTS.map(([value, name]) => (
                <option key={value} value={value}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <button type="submit">Search</button>
      </form>
      {tickets.isPending ? (
        <Loading label="Loading the queue…" />
      ) : tickets.isError ? (
        <ErrorState isInline error={tickets.error} onRetry={() => void tickets.refetch()} />
      ) : rows.length === 0 ? (
        <section className="state empty">
          <h2>No tickets here</h2>
          <p>{isFiltered ? 'Nothing matches this view and these filters.' : EMPTY_VIEW[view]}</p>
        </section>
      ) : (
        <>
          <div className="queue-count">
            <p className="muted" aria-live="polite">
              {/* A search with more matches than the server counts says so: "10,000+ tickets". */}
              {tickets.data.total_is_lower_bound ? `${tickets.data.total.toLocaleString('en-US')}+` : tickets.data.total} {tickets.data.total === 1 && !tickets.data.total_is_lower_bound ? 'ticket' : 'tickets'}
            </p>
            <p className="muted small key-hints" aria-hidden="true">
              <kbd>j</kbd> <kbd>k</kbd> move · <kbd>Enter</kbd> open · <kbd>/</kbd> search · <kbd>?</kbd> all shortcuts
            </p>
          </div>
          <table className="tickets queue">
            <caption className="visually-hidden">{label} tickets</caption>
            <thead>
              <tr>
                <th scope="col" className="number" aria-label="Number">
                  #
                </th>
                <th scope="col">Title</th>
                {columns.waiting ? <th scope="col">Waiting</th> : null}
                {columns.type ? <th scope="col">Type</th> : null}
                <th scope="col">Requester</th>
                {columns.tenant ? <th scope="col">Tenant</th> : null}
                {columns.priority ? <th scope="col">Priority</th> : null}
                {columns.status ? <th scope="col">Status</th> : null}
                {columns.assignee ? <th scope="col">Assignee</th> : null}
                <th scope="col" className="number">
                  Replies
                </th>
                {columns.opened ? <th scope="col">Opened</th> : null}
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((ticket, i) => (
                <tr
                  key={ticket.ticket_id}
                  className={[i === selectedIndex ? 'selected' : '', ticket.unread ? 'unread' : ''].join(' ').trim() || undefined}
                  data-arrived={arrived.has(ticket.ticket_id) || undefined}
                  // The whole line opens the ticket for a mouse; the title link is its keyboard (and only Tab) stop.
                  onClick={(e) => {
                    if (!(e.target instanceof Element && e.target.closest('a, button'))) open(ticket, true);
                  }}
                >
                  <Cell label="Number" className="number ticket-number">
                    {ticketNumber(ticket.number)}
                  </Cell>
                  <td data-label="Title" className="title-cell">
                    {ticket.unread ? (
                      <span className="unread-mark" title="The customer wrote since you last opened it">
                        <span className="visually-hidden">Unread: </span>
                      </span>
                    ) : null}
                    <Link
                      ref={(el) => {
                        links.current[i] = el;
                      }}
                      to={`/staff/tickets/${ticket.ticket_id}`}
                      onClick={() => open(ticket, false)}
                      onFocus={() => setSelected(ticket.ticket_id)}
                    >
                      {ticket.title}
                    </Link>
                    {drafts.has(ticket.ticket_id) ? <span className="draft-mark">Draft</span> : null}
                    <span className="last-message">
                      <span className="from">{ticket.last_message_from === 'customer' ? personName(ticket.created_by_email) : 'Support'}:</span> {ticket.last_message_preview}
                    </span>
                  </td>
                  {columns.waiting ? (
                    <Cell label="Waiting">
                      <WaitingBadge on={ticket.waiting_on} since={ticket.waiting_since} />
                    </Cell>
                  ) : null}
                  {columns.type ? <Cell label="Type">{humanize(ticket.type)}</Cell> : null}
                  <Cell label="Requester" title={ticket.created_by_email}>
                    {personName(ticket.created_by_email)}
                  </Cell>
                  {columns.tenant ? (
                    <Cell label="Tenant">
                      {/* Out of the Tab order (one stop per row); the Tenant filter does the same from the keyboard. */}
                      <button type="button" tabIndex={-1} className="link-button" onClick={() => update({ tenant: ticket.tenant_id })} title="Show only this tenant">
                        {ticket.tenant_id}
                      </button>
                    </Cell>
                  ) : null}
                  {columns.priority ? (
                    <Cell label="Priority">
                      <PriorityBadge priority={ticket.priority} />
                    </Cell>
                  ) : null}
                  {columns.status ? (
                    <Cell label="Status">
                      <StatusBadge status={ticket.status} />
                    </Cell>
                  ) : null}
                  {columns.assignee ? (
                    <Cell label="Assignee" title={ticket.assigned_to_email ?? undefined}>
                      {ticket.assigned_to_email ? personName(ticket.assigned_to_email) : <span className="muted">Nobody</span>}
                    </Cell>
                  ) : null}
                  <Cell label="Replies" className="number">
                    {ticket.comment_count}
                  </Cell>
                  {columns.opened ? (
                    <Cell label="Opened">
                      <RelativeTime iso={ticket.created_at} />
                    </Cell>
                  ) : null}
                  <Cell label="Updated">
                    <RelativeTime iso={ticket.updated_at} />
                  </Cell>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={PAGE_SIZE} total={tickets.data.total} totalIsLowerBound={tickets.data.total_is_lower_bound} onPage={(p) => update({ page: String(p) })} />
        </>
      )}
    </>
  );
}

/**
 * How many tickets each view tab holds: from the tallies (a page of one ticket, whose total they
 * count), or, for the current view unfiltered, from its own page; the waiting views, which the
 * tallies cannot count, only on their own page.
 */
function useViewCounts(current: View, currentTotal: number | undefined): Partial<Record<View, number>> {
  const { api } = useSession();
  const counted = VIEW_NAMES.filter((v) => viewCountQuery(v) !== undefined && !(v === current && currentTotal !== undefined));
  const results = useQueries({
    queries: counted.map((v) => {
      const query = viewCountQuery(v);
      return {
        queryKey: ['queue', 'count', query],
        queryFn: () => unwrap(api.GET('/api/v1/admin/support/tickets', { params: { query } })),
        staleTime: 30_000,
      };
    }),
  });
  const counts: Partial<Record<View, number>> = {};
  counted.forEach((v, i) => {
    const total = results[i]?.data?.total;
    if (total !== undefined) counts[v] = total;
  });
  if (currentTotal !== undefined) counts[current] = currentTotal;
  return counts;
}

function Cell({ label, title, className, children }: { label: string; title?: string | undefined; className?: string; children: ReactNode }) {
  return (
    <td data-label={label} title={title} className={className}>
      {children}
    </td>
  );
}
