import type { HistoryEntry, Ticket } from '../../api/client';
import { personName } from '../../format';

/** Something that happened to a ticket: "Kai changed priority to Urgent", at a time. */
export interface TicketEvent {
  id: string;
  at: string;
  who: string;
  /** A history entry's field and value, or a comment. */
  what: { kind: 'change'; field: string; value: string | null } | { kind: 'reply' } | { kind: 'note' };
}

/**
 * What happened to a ticket between two reads of it: the history entries and comments the later
 * one has and the earlier did not (each of them moved the version, which is why a PATCH based on
 * the earlier read was refused). `ignoreCommentIds`: comments of this page's own (a reply just sent).
 */
export function whatChanged(
  before: { ticket: Ticket; history: HistoryEntry[] },
  after: { ticket: Ticket; history: HistoryEntry[] },
  { userId, ignoreCommentIds = [] }: { userId: string; ignoreCommentIds?: string[] },
): TicketEvent[] {
  const seenHistory = new Set(before.history.map((e) => e.history_id));
  const seenComments = new Set([...before.ticket.comments.map((c) => c.comment_id), ...ignoreCommentIds]);
  // Made by this agent elsewhere (another tab): still news to this page.
  const name = (id: string, email: string, isCustomer = false) => (id === userId ? 'you (elsewhere)' : `${personName(email)}${isCustomer ? ' (customer)' : ''}`);
  const events: TicketEvent[] = [
    ...after.history
      .filter((e) => !seenHistory.has(e.history_id))
      .map((e): TicketEvent => ({ id: e.history_id, at: e.created_at, who: name(e.changed_by, e.changed_by_email), what: { kind: 'change', field: e.field_changed, value: e.new_value } })),
    ...after.ticket.comments
      .filter((c) => !seenComments.has(c.comment_id))
      .map(
        (c): TicketEvent => ({
          id: c.comment_id,
          at: c.created_at,
          who: name(c.author_id, c.author_email, c.author_type === 'user'),
          what: c.is_internal ? { kind: 'note' } : { kind: 'reply' },
        }),
      ),
  ];
  return events.sort((a, b) => a.at.localeCompare(b.at));
}
