// Unsent text, per person and ticket, kept in this browser until it is sent: it survives going to
// another page, a reload and a closed tab. Signing out removes the person's drafts, so the next
// person at a shared computer does not find them.

/** A comment not sent yet; `isInternal` too, so a note never comes back as a public reply. */
export interface Draft {
  content: string;
  isInternal: boolean;
  savedAt: string;
}

const PREFIX = 'helpdesk.draft:';
// A draft nobody came back to in a month is not coming back.
const MAX_AGE_MS = 30 * 24 * 3600 * 1000;

// The user id encoded, so no user's prefix is the start of another's.
const userPrefix = (userId: string) => `${PREFIX}${encodeURIComponent(userId)}:`;
const keyOf = (userId: string, ticketId: string) => `${userPrefix(userId)}${ticketId}`;

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined; // storage disabled: drafts live only as long as the page
  }
}

/** The draft of `userId` for a ticket ("new" for a new ticket), if any. */
export function loadDraft(userId: string, ticketId: string): Draft | undefined {
  try {
    const draft = JSON.parse(storage()?.getItem(keyOf(userId, ticketId)) ?? 'null') as Draft | null;
    if (!draft || typeof draft.content !== 'string' || Date.now() - Date.parse(draft.savedAt) > MAX_AGE_MS) return undefined;
    return { content: draft.content, isInternal: draft.isInternal === true, savedAt: draft.savedAt };
  } catch {
    return undefined;
  }
}

/** Keeps the draft, or forgets it when there is no text left. */
export function saveDraft(userId: string, ticketId: string, draft: { content: string; isInternal: boolean }): void {
  const store = storage();
  try {
    if (draft.content.trim() === '') store?.removeItem(keyOf(userId, ticketId));
    else store?.setItem(keyOf(userId, ticketId), JSON.stringify({ ...draft, savedAt: new Date().toISOString() }));
  } catch {
    // Full or refused storage: the text is still in the box.
  }
}

export function clearDraft(userId: string, ticketId: string): void {
  storage()?.removeItem(keyOf(userId, ticketId));
}

/** The ticket ids `userId` has drafts for. */
export function draftTicketIds(userId: string): Set<string> {
  const store = storage();
  const prefix = userPrefix(userId);
  const ids = new Set<string>();
  for (let i = 0; store && i < store.length; i++) {
    const key = store.key(i);
    if (key?.startsWith(prefix) && loadDraft(userId, key.slice(prefix.length))) ids.add(key.slice(prefix.length));
  }
  return ids;
}

/** Forgets every draft of `userId` (on sign-out). */
export function clearDrafts(userId: string): void {
  const store = storage();
  const prefix = userPrefix(userId);
  const keys: string[] = [];
  for (let i = 0; store && i < store.length; i++) {
    const key = store.key(i);
    if (key?.startsWith(prefix)) keys.push(key);
  }
  for (const key of keys) store?.removeItem(key);
}
