import type { Comment, HistoryEntry } from '../api/client';
import { formatDateTime, humanize } from '../format';

/** A ticket's description, then its conversation: what the customer and staff pages share. */
export function TicketThread({ description, comments, authorName }: { description: string; comments: Comment[]; authorName: (comment: Comment) => string }) {
  return (
    <>
      <section aria-labelledby="description-title" className="card">
        <h2 id="description-title" className="visually-hidden">
          Description
        </h2>
        <p className="message-body">{description}</p>
      </section>
      <section aria-labelledby="conversation-title">
        <h2 id="conversation-title">Conversation</h2>
        <Conversation comments={comments} authorName={authorName} />
      </section>
    </>
  );
}

/** The comments, oldest first; internal notes are marked as such. */
export function Conversation({ comments, authorName }: { comments: Comment[]; authorName: (comment: Comment) => string }) {
  if (comments.length === 0) return <p className="muted">No replies yet.</p>;
  return (
    <ol className="conversation">
      {comments.map((comment) => (
        <li key={comment.comment_id}>
          <article className={comment.is_internal ? 'message internal' : `message from-${comment.author_type}`}>
            <header>
              {comment.is_internal ? <strong className="internal-label">Internal note · not visible to the customer</strong> : null}
              <span className="author">{authorName(comment)}</span>
              <time dateTime={comment.created_at}>{formatDateTime(comment.created_at)}</time>
            </header>
            <p className="message-body">{comment.content}</p>
          </article>
        </li>
      ))}
    </ol>
  );
}

function describeValue(field: string, value: string | null, describeAssignee: (userId: string) => string): string {
  if (value === null) return field === 'assigned_to' ? 'nobody' : '—';
  return field === 'assigned_to' ? describeAssignee(value) : humanize(value);
}

const FIELD_NAMES: Record<string, string> = { status: 'Status', priority: 'Priority', type: 'Type', assigned_to: 'Assignee' };

/** Every change to the ticket, oldest first; `describeAssignee` names an assignee's user ID, `describeChanger` who made a change. */
export function HistoryTimeline({ history, describeAssignee, describeChanger }: {
  history: HistoryEntry[];
  describeAssignee: (userId: string) => string;
  describeChanger: (entry: HistoryEntry) => string;
}) {
  if (history.length === 0) return <p className="muted">No changes yet.</p>;
  return (
    <ol className="timeline">
      {history.map((entry) => (
        <li key={entry.history_id}>
          <span>
            {FIELD_NAMES[entry.field_changed] ?? humanize(entry.field_changed)}: {describeValue(entry.field_changed, entry.old_value, describeAssignee)} →{' '}
            <strong>{describeValue(entry.field_changed, entry.new_value, describeAssignee)}</strong>
          </span>
          <span className="muted">
            {' '}
            by {describeChanger(entry)} · <time dateTime={entry.created_at}>{formatDateTime(entry.created_at)}</time>
          </span>
        </li>
      ))}
    </ol>
  );
}
