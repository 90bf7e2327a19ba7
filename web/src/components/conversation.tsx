import { useState, type ReactNode } from 'react';
import type { Comment, HistoryEntry } from '../api/client';
import { humanize } from '../format';
import { AttachmentList } from './attachments';
import { Markdown } from './markdown';
import { RelativeTime } from './time';

/** How a page names people: an assignee by user id, whoever made a change, and a comment's author. */
export interface Describers {
  authorName: (comment: Comment) => string;
  describeAssignee: (userId: string) => string;
  describeChanger: (entry: HistoryEntry) => string;
}

// Past this many messages and changes, the older ones fold away behind "Show N earlier".
const FOLD_AFTER = 8;
const SHOWN_WHEN_FOLDED = 5;

/** The id of a thread item's element: where "Jump to latest" goes. */
const itemId = (id: string) => `item-${id}`;

type Item = { kind: 'comment'; at: string; comment: Comment } | { kind: 'change'; at: string; entry: HistoryEntry };

/**
 * A ticket's description, then its conversation with its status and assignment changes in
 * between, oldest first. A long one shows its latest items, with the rest a click away.
 */
export function TicketThread({ description, attachments, comments, history, describers, toolbar, emailedCommentIds }: {
  description: string;
  /** Files attached when the ticket was opened. */
  attachments?: Comment['attachments'];
  comments: Comment[];
  history: HistoryEntry[];
  describers: Describers;
  /** Comments that came in by e-mail (staff only), marked "via e-mail". */
  emailedCommentIds?: ReadonlySet<string> | undefined;
  /** Buttons above the conversation, before "Jump to latest" (the page's "Reply"). */
  toolbar?: ReactNode;
}) {
  const items: Item[] = [
    ...comments.map((comment): Item => ({ kind: 'comment', at: comment.created_at, comment })),
    // Priority and type changes stay in the history; the conversation shows who took it and where it stands.
    ...history.filter((e) => e.field_changed === 'status' || e.field_changed === 'assigned_to').map((entry): Item => ({ kind: 'change', at: entry.created_at, entry })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  const [isUnfolded, setUnfolded] = useState(false);
  const hidden = !isUnfolded && items.length > FOLD_AFTER ? items.slice(0, items.length - SHOWN_WHEN_FOLDED) : [];
  const shown = items.slice(hidden.length);
  const hiddenMessages = hidden.filter((i) => i.kind === 'comment').length;
  const hiddenChanges = hidden.length - hiddenMessages;

  return (
    <>
      <section aria-labelledby="description-title" className="card description">
        <h2 id="description-title" className="visually-hidden">
          Description
        </h2>
        <Markdown text={description} className="message-body" />
        <AttachmentList attachments={attachments} />
      </section>
      <section aria-labelledby="conversation-title" className="thread">
        <div className="thread-head">
          <h2 id="conversation-title">Conversation</h2>
          <p className="thread-tools">
            {toolbar}
            {items.length > 0 ? (
              <button type="button" className="quiet" onClick={() => jumpTo(items.at(-1))}>
                Jump to latest
              </button>
            ) : null}
          </p>
        </div>
        {items.length === 0 ? (
          <p className="muted">No replies yet.</p>
        ) : (
          <ol className="conversation">
            {hidden.length > 0 ? (
              <li className="fold">
                <button type="button" className="quiet" onClick={() => setUnfolded(true)}>
                  Show {hiddenMessages > 0 ? `${hiddenMessages} earlier ${hiddenMessages === 1 ? 'message' : 'messages'}` : ''}
                  {hiddenMessages > 0 && hiddenChanges > 0 ? ' and ' : ''}
                  {hiddenChanges > 0 ? `${hiddenChanges} ${hiddenChanges === 1 ? 'change' : 'changes'}` : ''}
                </button>
              </li>
            ) : null}
            {shown.map((item) =>
              item.kind === 'comment' ? (
                <li key={item.comment.comment_id} id={itemId(item.comment.comment_id)} tabIndex={-1}>
                  <Message comment={item.comment} authorName={describers.authorName} isEmailed={emailedCommentIds?.has(item.comment.comment_id) ?? false} />
                </li>
              ) : (
                <li key={item.entry.history_id} id={itemId(item.entry.history_id)} tabIndex={-1} className="change">
                  <ChangeLine entry={item.entry} describers={describers} />
                </li>
              ),
            )}
          </ol>
        )}
      </section>
    </>
  );
}

/** Scrolls to a thread item and puts focus on it, so reading (or a screen reader) goes on from there. */
function jumpTo(item: Item | undefined) {
  if (!item) return;
  const element = document.getElementById(itemId(item.kind === 'comment' ? item.comment.comment_id : item.entry.history_id));
  element?.scrollIntoView({ block: 'center' });
  element?.focus({ preventScroll: true });
}

function Message({ comment, authorName, isEmailed = false }: { comment: Comment; authorName: (comment: Comment) => string; isEmailed?: boolean }) {
  return (
    <article className={comment.is_internal ? 'message internal' : `message from-${comment.author_type}`}>
      <header>
        {comment.is_internal ? <strong className="internal-label">Internal note · not visible to the customer</strong> : null}
        <span className="author">{authorName(comment)}</span>
        <RelativeTime iso={comment.created_at} />
        {isEmailed ? <span className="via-email">via e-mail</span> : null}
      </header>
      <Markdown text={comment.content} className="message-body" />
      <AttachmentList attachments={comment.attachments} />
    </article>
  );
}

/** "Sam changed status to Resolved · 3 h ago", "Sam assigned it to Kai". */
function ChangeLine({ entry, describers }: { entry: HistoryEntry; describers: Describers }) {
  return (
    <p>
      {describeChange(describers.describeChanger(entry), entry.field_changed, entry.new_value, describers.describeAssignee)} · <RelativeTime iso={entry.created_at} />
    </p>
  );
}

const FIELD_NAMES: Record<string, string> = { status: 'status', priority: 'priority', type: 'type', assigned_to: 'assignee' };

/** One change as a sentence: "Kai changed priority to Urgent", "Kai assigned it to Sam", "Kai took it", "Kai unassigned it". */
export function describeChange(who: string, field: string, value: string | null, describeAssignee: (userId: string) => string): string {
  const assignee = field === 'assigned_to' && value !== null ? describeAssignee(value) : undefined;
  const sentence =
    field === 'assigned_to'
      ? assignee === undefined
        ? `${who} unassigned it`
        : assignee.toLowerCase() === who.toLowerCase()
          ? `${who} took it`
          : `${who} assigned it to ${assignee}`
      : `${who} changed ${FIELD_NAMES[field] ?? humanize(field).toLowerCase()} to ${value === null ? 'nothing' : humanize(value)}`;
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

function describeValue(field: string, value: string | null, describeAssignee: (userId: string) => string): string {
  if (value === null) return field === 'assigned_to' ? 'nobody' : '—';
  return field === 'assigned_to' ? describeAssignee(value) : humanize(value);
}

const HISTORY_FIELD_NAMES: Record<string, string> = { status: 'Status', priority: 'Priority', type: 'Type', assigned_to: 'Assignee' };

/** Every change to the ticket, oldest first; `describeAssignee` names an assignee's user ID, `describeChanger` who made a change. */
export function HistoryTimeline({ history, describeAssignee, describeChanger }: Omit<Describers, 'authorName'> & { history: HistoryEntry[] }) {
  if (history.length === 0) return <p className="muted">No changes yet.</p>;
  return (
    <ol className="timeline">
      {history.map((entry) => (
        <li key={entry.history_id}>
          <span>
            {HISTORY_FIELD_NAMES[entry.field_changed] ?? humanize(entry.field_changed)}: {describeValue(entry.field_changed, entry.old_value, describeAssignee)} →{' '}
            <strong>{describeValue(entry.field_changed, entry.new_value, describeAssignee)}</strong>
          </span>
          <span className="muted">
            {' '}
            by {describeChanger(entry)} · <RelativeTime iso={entry.created_at} />
          </span>
        </li>
      ))}
    </ol>
  );
}
