import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { unwrap } from '../../api/client';
import { useSession } from '../../session/session';
import { PAGE_SIZE, readQueueParams } from './queue-params';
import { loadTrail, saveTrail, type Trail } from './queue-trail';

// How many queue pages ] looks through for a ticket not yet on the trail before it says the queue is done.
const PAGES_TO_LOOK_AHEAD = 3;

/**
 * Previous and next ticket of the queue the agent came from, for the [ and ] keys and their
 * buttons; without a queue (a ticket opened from a link) only the way back to the queue.
 */
export function useTicketTrail(ticketId: string) {
  const { api } = useSession();
  const navigate = useNavigate();
  const [trail] = useState(() => {
    const stored = loadTrail();
    return stored?.ids.includes(ticketId) ? stored : undefined;
  });
  // Back on the queue, j and k go on from the ticket the agent was on last.
  useEffect(() => {
    if (trail && trail.current !== ticketId) saveTrail({ ...trail, current: ticketId });
  }, [trail, ticketId]);
  const [message, setMessage] = useState<string>();
  const [isLooking, setLooking] = useState(false);
  const index = trail ? trail.ids.indexOf(ticketId) : -1;
  const previousId = trail && index > 0 ? trail.ids[index - 1] : undefined;

  const go = (id: string) => void navigate(`/staff/tickets/${id}`);

  function previous() {
    if (previousId) go(previousId);
    else setMessage(trail ? `This is the first ticket of ${trail.label}.` : undefined);
  }

  /** The next ticket on the trail; past its end, the first one the queue has now that is not on it yet. */
  async function next() {
    if (!trail || isLooking) return;
    const following = trail.ids[index + 1];
    if (following) return go(following);
    setLooking(true);
    try {
      const found = await findMore(trail);
      if (found) {
        saveTrail({ ...trail, ids: [...trail.ids, found], current: found });
        go(found);
      } else {
        setMessage(`That was the last ticket in ${trail.label}.`);
      }
    } catch {
      setMessage('The queue could not be loaded. Please try again.');
    } finally {
      setLooking(false);
    }
  }

  async function findMore(current: Trail): Promise<string | undefined> {
    const { query, page } = readQueueParams(new URLSearchParams(current.search));
    const seen = new Set(current.ids);
    for (let p = page; p < page + PAGES_TO_LOOK_AHEAD; p++) {
      const result = await unwrap(api.GET('/api/v1/admin/support/tickets', { params: { query: { ...query, offset: p * PAGE_SIZE } } }));
      const fresh = result.tickets.find((t) => !seen.has(t.ticket_id));
      if (fresh) return fresh.ticket_id;
      if (!result.has_more) return undefined;
    }
    return undefined;
  }

  return { trail, index, hasPrevious: previousId !== undefined, previous, next, message, isLooking };
}

/** "← Unassigned · 3 of 25 · Previous [ · Next ]" above the ticket. */
export function TicketNav({ nav }: { nav: ReturnType<typeof useTicketTrail> }) {
  const { trail, index } = nav;
  return (
    <nav aria-label="Tickets" className="ticket-nav">
      <Link className="back" to={`/staff/queue${trail?.search ?? ''}`} aria-keyshortcuts="u">
        {trail ? trail.label : 'Queue'}
      </Link>
      {trail ? (
        <>
          <span className="muted">
            {index + 1} of {trail.ids.length}
          </span>
          <button type="button" className="quiet" onClick={nav.previous} disabled={!nav.hasPrevious} aria-keyshortcuts="[">
            Previous <kbd aria-hidden="true">[</kbd>
          </button>
          <button type="button" className="quiet" onClick={() => void nav.next()} disabled={nav.isLooking} aria-keyshortcuts="]">
            Next <kbd aria-hidden="true">]</kbd>
          </button>
        </>
      ) : null}
      <span role="status" className="muted small">
        {nav.message}
      </span>
    </nav>
  );
}
