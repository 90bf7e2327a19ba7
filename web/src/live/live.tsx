import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useSession } from '../session/session';
import { followEventStream, type StreamStatus } from './event-stream';

/** An agent on a ticket, as the staff stream reports them. */
export interface PresentAgent {
  user_id: string;
  email: string;
  state: 'viewing' | 'replying';
  expires_at: string;
}

interface LiveState {
  status: StreamStatus;
  /** Agents per ticket (staff only). */
  presence: ReadonlyMap<string, PresentAgent[]>;
  /** Tickets created since this page was opened, for a highlight in the queue. */
  arrived: ReadonlySet<string>;
}

const LiveContext = createContext<LiveState>({ status: 'connecting', presence: new Map(), arrived: new Set() });

interface FeedEvent {
  type: string;
  ticket_id: string;
}

/**
 * Follows the signed-in person's live stream (a customer's own tickets, or the whole desk for
 * staff) and refreshes what the pages show: the lists and the open ticket are fetched again when
 * an event concerns them, so a reply appears and a badge changes in place, and what someone is
 * typing stays (drafts and forms are the pages' own state, not the fetched data).
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const session = useSession();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const [presence, setPresence] = useState<ReadonlyMap<string, PresentAgent[]>>(new Map());
  const [arrived, setArrived] = useState<ReadonlySet<string>>(new Set());
  const getToken = useRef(session.getToken);
  // The newest token source (Clerk's changes identity as the session refreshes) without reopening the stream.
  useEffect(() => {
    getToken.current = session.getToken;
  });

  useEffect(() => {
    const url = session.isStaff ? '/api/v1/admin/support/events/stream' : '/api/v1/support/events/stream';
    return followEventStream({
      url,
      getToken: () => getToken.current(),
      onStatus: (next) => {
        // A stream that (re)opens is told every agent present: what it knew before may be stale.
        if (next === 'live') setPresence(new Map());
        setStatus(next);
      },
      onMessage: ({ event, data }) => {
        if (event === 'presence') {
          const { ticket_id: ticketId, agents } = data as { ticket_id: string; agents: PresentAgent[] };
          setPresence((current) => new Map(current).set(ticketId, agents));
          return;
        }
        const { type, ticket_id: ticketId } = data as FeedEvent;
        if (session.isStaff) {
          void queryClient.invalidateQueries({ queryKey: ['staff-ticket', ticketId] });
          void queryClient.invalidateQueries({ queryKey: ['queue'] });
          void queryClient.invalidateQueries({ queryKey: ['stats'] });
        } else {
          void queryClient.invalidateQueries({ queryKey: ['ticket', ticketId] });
          void queryClient.invalidateQueries({ queryKey: ['my-tickets'] });
        }
        if (type === 'ticket.created') setArrived((current) => new Set(current).add(ticketId));
      },
    });
  }, [session.isStaff, session.userId, queryClient]);

  const value = useMemo(() => ({ status, presence, arrived }), [status, presence, arrived]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

/** Whether the live stream is up, and who is on which ticket. */
export function useLive(): LiveState {
  return useContext(LiveContext);
}

/** A small dot with a label: live, or reconnecting. */
export function LiveIndicator() {
  const { status } = useLive();
  const label = status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Offline, reconnecting…';
  return (
    <span className={`live-indicator live-${status}`} role="status" title={status === 'live' ? 'Updates appear as they happen' : 'Updates are paused until the connection is back'}>
      <span className="live-dot" aria-hidden="true" />
      {label}
    </span>
  );
}
