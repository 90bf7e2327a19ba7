// How many public messages each of a customer's tickets had when they last looked at it, kept in
// this browser: what tells "New reply" (the team wrote since) from "Awaiting your reply" (the
// answer was read, the customer's move). Counting messages, not comparing times, so a change the
// team makes without writing never shows as a reply. A ticket never opened in this browser is
// only "Awaiting your reply": the answer may well have been read elsewhere.

const PREFIX = 'helpdesk.seen:';
// The tickets looked at most recently are kept; an older one only loses its "New reply".
const KEPT = 500;

type Seen = Record<string, number>;

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

const keyOf = (userId: string) => `${PREFIX}${encodeURIComponent(userId)}`;

/** The message count of each ticket `userId` looked at, by ticket id. */
export function loadSeen(userId: string): Seen {
  try {
    const seen = JSON.parse(storage()?.getItem(keyOf(userId)) ?? '{}') as unknown;
    return typeof seen === 'object' && seen !== null && !Array.isArray(seen) ? (seen as Seen) : {};
  } catch {
    return {};
  }
}

/** Records that `userId` has seen a ticket with `count` public messages. */
export function markSeen(userId: string, ticketId: string, count: number): void {
  const seen = loadSeen(userId);
  if (seen[ticketId] === count) return;
  delete seen[ticketId];
  seen[ticketId] = count;
  const ids = Object.keys(seen);
  for (const id of ids.slice(0, Math.max(0, ids.length - KEPT))) delete seen[id];
  try {
    storage()?.setItem(keyOf(userId), JSON.stringify(seen));
  } catch {
    // Storage full or off: no "New reply" marks, nothing else lost.
  }
}

/** Whether the team wrote on a ticket since `userId` last looked at it here. */
export function hasNewReply(seen: Seen, ticket: { ticket_id: string; comment_count: number; waiting_on: string | null }): boolean {
  const count = seen[ticket.ticket_id];
  return ticket.waiting_on === 'customer' && count !== undefined && ticket.comment_count > count;
}
