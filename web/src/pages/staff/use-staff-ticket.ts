import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { ApiError, unwrap, unwrapResponse, type HistoryEntry, type StaffTicket, type Ticket, type TicketPriority, type TicketStatus, type TicketType } from '../../api/client';
import { useSession } from '../../session/session';
import { describeRequestError } from '../../validation';
import { whatChanged, type TicketEvent } from './what-changed';

/**
 * Opening a ticket the customer wrote on since this agent last opened it records that they read
 * it (PUT …/read), and its unread mark goes, here and in the queue. Should that fail, the mark
 * stays: it is only a mark.
 */
function useMarkRead(ticketId: string, isUnread: boolean): void {
  const { api } = useSession();
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!isUnread) return;
    const path = { ticketId };
    api.PUT('/api/v1/admin/support/tickets/{ticketId}/read', { params: { path } }).then(
      ({ response }) => {
        if (!response.ok) return;
        queryClient.setQueryData<StaffDetail>(['staff-ticket', ticketId], (held) => held && { ...held, ticket: { ...held.ticket, unread: false } });
        void queryClient.invalidateQueries({ queryKey: ['queue'] });
      },
      () => undefined,
    );
  }, [api, queryClient, ticketId, isUnread]);
}

/** A triage change: the fields a PATCH sets. */
export interface TicketChanges {
  status?: TicketStatus;
  priority?: TicketPriority;
  type?: TicketType;
  assigned_to?: string | null;
}

/** The ticket as the workspace holds it: with its history and the ETag its changes are based on. */
export interface StaffDetail {
  ticket: StaffTicket;
  history: HistoryEntry[];
  etag: string | undefined;
}

/** The last change saved, and what undoes it. */
export interface Applied {
  changes: TicketChanges;
  undo: TicketChanges;
  isUndo: boolean;
  afterReply: boolean;
}

/** A change refused because the ticket changed after it was read, and what changed it. */
export interface Conflict {
  attempted: TicketChanges;
  events: TicketEvent[];
  /** The ticket has the attempted values anyway (someone made the same change). */
  isAlreadyApplied: boolean;
  afterReply: boolean;
}

const FIELDS = ['status', 'priority', 'type', 'assigned_to'] as const;

/** The ticket's values of the fields `changes` sets: what puts them back. */
function inverse(ticket: Ticket, changes: TicketChanges): TicketChanges {
  const undo: Record<string, unknown> = {};
  for (const field of FIELDS) if (field in changes) undo[field] = ticket[field];
  return undo as TicketChanges;
}

function hasValues(ticket: Ticket, changes: TicketChanges): boolean {
  return FIELDS.every((field) => !(field in changes) || changes[field] === ticket[field]);
}

const CONFLICT_MESSAGE = 'Someone changed this ticket at the same moment. Please try again.';

/**
 * A ticket as staff work it. Each triage change is its own PATCH with the ETag the workspace last
 * saw; changes made in quick succession go one after another, each with the ETag the one before
 * answered with. A 412 reloads the ticket and says who changed what since (`conflict`), keeping
 * the refused change for a one-click re-apply; the changes queued behind it are dropped, since
 * they were chosen against the same outdated ticket.
 */
export function useStaffTicket(ticketId: string) {
  const { api, userId } = useSession();
  const queryClient = useQueryClient();
  const key = ['staff-ticket', ticketId];
  const path = { ticketId };
  const fetchDetail = async (): Promise<StaffDetail> => {
    const { data, response } = await unwrapResponse(api.GET('/api/v1/admin/support/tickets/{ticketId}', { params: { path } }));
    return { ...data, etag: response.headers.get('etag') ?? undefined };
  };
  // Opened again, it is asked again: what the customer wrote since, and whether it is unread, are news.
  const detail = useQuery({ queryKey: key, queryFn: fetchDetail, refetchOnMount: 'always' });
  useMarkRead(ticketId, detail.data?.ticket.unread === true);
  const [applied, setApplied] = useState<Applied>();
  const [conflict, setConflict] = useState<Conflict>();
  const [error, setError] = useState<string>();
  // What is being saved, or waits to be, over the ticket as last read: what the fields show meanwhile.
  const [pending, setPending] = useState<TicketChanges>({});
  const queue = useRef<Promise<void>>(Promise.resolve());
  const generation = useRef(0);

  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: key }), queryClient.invalidateQueries({ queryKey: ['queue'] })]);
  const reload = () => queryClient.fetchQuery({ queryKey: key, queryFn: fetchDetail, staleTime: 0 });

  /** One PATCH and what comes of it; never rejects, so the changes queued behind it still run. */
  async function patch(changes: TicketChanges, options: { isUndo: boolean; afterReply: boolean }): Promise<void> {
    const held = queryClient.getQueryData<StaffDetail>(key);
    if (!held) return;
    try {
      const { data, response } = await unwrapResponse(
        api.PATCH('/api/v1/admin/support/tickets/{ticketId}', { params: { path, header: { 'if-match': held.etag } }, body: changes }),
      );
      queryClient.setQueryData<StaffDetail>(key, { ...held, ticket: data, etag: response.headers.get('etag') ?? held.etag });
      setApplied({ changes, undo: inverse(held.ticket, changes), ...options });
      void refresh();
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        generation.current++;
        setApplied(undefined);
        const fresh = await reload().catch(() => undefined);
        if (!fresh) {
          setError('Someone else changed this ticket, so your change was not saved, and it could not be loaded again. Please reload the page.');
          return;
        }
        setConflict({
          attempted: changes,
          events: whatChanged(held, fresh, { userId }),
          isAlreadyApplied: hasValues(fresh.ticket, changes),
          afterReply: options.afterReply,
        });
      } else {
        setError(describeRequestError(e, CONFLICT_MESSAGE));
        void refresh();
      }
    }
  }

  /** Saves a triage change after those already on their way; resolves once it is saved or refused. */
  function apply(changes: TicketChanges, options: { isUndo?: boolean; afterReply?: boolean } = {}): Promise<void> {
    const queuedIn = generation.current;
    setPending((current) => ({ ...current, ...changes }));
    setError(undefined);
    setConflict(undefined);
    const run = queue.current.then(async () => {
      // A conflict while this waited: it was chosen against the ticket that turned out outdated.
      if (generation.current === queuedIn) await patch(changes, { isUndo: options.isUndo ?? false, afterReply: options.afterReply ?? false });
      setPending((current) => {
        const left = { ...current };
        for (const field of FIELDS) if (field in changes && left[field] === changes[field]) delete left[field];
        return left;
      });
    });
    queue.current = run;
    return run;
  }

  /**
   * Sends a reply or note; with `statusAfter`, then sets the status (a PATCH with the ETag of the
   * ticket as it is after the reply), unless someone else changed or wrote on the ticket since it
   * was read: then the reply stands and the conflict says what happened. Rejects when the reply
   * was not sent.
   */
  async function send(content: string, isInternal: boolean, statusAfter: TicketStatus | undefined, attachments: string[] = []): Promise<void> {
    const held = queryClient.getQueryData<StaffDetail>(key);
    const comment = await unwrap(api.POST('/api/v1/admin/support/tickets/{ticketId}/comments', { params: { path }, body: { content, is_internal: isInternal, ...(attachments.length > 0 ? { attachments } : {}) } }));
    if (!held || statusAfter === undefined || statusAfter === held.ticket.status) {
      await refresh();
      return;
    }
    setApplied(undefined);
    const fresh = await reload().catch(() => undefined);
    if (!fresh) {
      setError('Your reply was sent, but the status was not changed: the ticket could not be loaded again. Please set it in Triage.');
      return;
    }
    const events = whatChanged(held, fresh, { userId, ignoreCommentIds: [comment.comment_id] });
    if (events.length > 0) {
      generation.current++;
      setConflict({ attempted: { status: statusAfter }, events, isAlreadyApplied: fresh.ticket.status === statusAfter, afterReply: true });
      void queryClient.invalidateQueries({ queryKey: ['queue'] });
      return;
    }
    await apply({ status: statusAfter }, { afterReply: true });
  }

  return {
    detail,
    applied,
    conflict,
    error,
    pending,
    apply,
    send,
    dismissConflict: () => setConflict(undefined),
  };
}
