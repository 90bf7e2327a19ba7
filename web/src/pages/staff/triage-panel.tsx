import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { PRIORITIES, STATUSES, TYPES, unwrap, type Ticket, type TicketPriority, type TicketStatus, type TicketType } from '../../api/client';
import { describeChange } from '../../components/conversation';
import { EnumSelect, FormError } from '../../components/field';
import { RelativeTime } from '../../components/time';
import { humanize } from '../../format';
import { useSession } from '../../session/session';
import type { Applied, Conflict, TicketChanges } from './use-staff-ticket';
import type { TicketEvent } from './what-changed';

/**
 * The side panel: status, priority, type and assignee, each saved as soon as it is chosen, with
 * an undo for the last change, and what happened instead when someone else changed the ticket first.
 */
export function TriagePanel({ ticket, pending, applied, conflict, error, describeAssignee, onApply, onDismissConflict }: {
  ticket: Ticket;
  /** Changes on their way: the fields show them meanwhile. */
  pending: TicketChanges;
  applied: Applied | undefined;
  conflict: Conflict | undefined;
  error: string | undefined;
  describeAssignee: (userId: string) => string;
  onApply: (changes: TicketChanges, options?: { isUndo?: boolean }) => void;
  onDismissConflict: () => void;
}) {
  const { api, userId } = useSession();
  const agents = useQuery({ queryKey: ['agents'], queryFn: () => unwrap(api.GET('/api/v1/admin/support/agents')) });
  const shown = { ...ticket, ...pending };
  const assignees = agents.data?.agents ?? [];
  const isAssigneeListed = !shown.assigned_to || assignees.some((a) => a.user_id === shown.assigned_to);
  const isSaving = Object.keys(pending).length > 0;

  return (
    <aside className="side-panel card" aria-labelledby="triage-title">
      <h2 id="triage-title">Triage</h2>
      {conflict ? <ConflictNotice conflict={conflict} describeAssignee={describeAssignee} onApply={onApply} onDismiss={onDismissConflict} /> : null}
      <FormError message={error} />
      <div className="triage-fields">
        <EnumSelect label="Status" value={shown.status} values={STATUSES} onChange={(v) => onApply({ status: v as TicketStatus })} />
        <EnumSelect label="Priority" value={shown.priority} values={PRIORITIES} onChange={(v) => onApply({ priority: v as TicketPriority })} />
        <EnumSelect label="Type" value={shown.type} values={TYPES} onChange={(v) => onApply({ type: v as TicketType })} />
        <label>
          Assignee
          <select value={shown.assigned_to ?? ''} onChange={(e) => onApply({ assigned_to: e.target.value || null })}>
            <option value="">Nobody</option>
            {isAssigneeListed ? null : <option value={shown.assigned_to ?? ''}>{describeAssignee(shown.assigned_to ?? '')}</option>}
            {assignees.map((agent) => (
              <option key={agent.user_id} value={agent.user_id}>
                {agent.email}
                {agent.user_id === userId ? ' (me)' : ''}
              </option>
            ))}
          </select>
        </label>
      </div>
      {shown.assigned_to === userId ? null : (
        <div className="actions">
          <button type="button" onClick={() => onApply({ assigned_to: userId })} aria-keyshortcuts="a">
            Assign to me <kbd aria-hidden="true">a</kbd>
          </button>
        </div>
      )}
      <p role="status" className="triage-status">
        {isSaving ? (
          'Saving…'
        ) : applied ? (
          <>
            {describeApplied(applied, describeAssignee, userId)}{' '}
            {applied.isUndo ? null : (
              <button type="button" className="link-button" onClick={() => onApply(applied.undo, { isUndo: true })}>
                Undo
              </button>
            )}
          </>
        ) : null}
      </p>
    </aside>
  );
}

function describeChanges(changes: TicketChanges, describeAssignee: (userId: string) => string, userId: string): string {
  return Object.entries(changes)
    .map(([field, value]) => {
      if (field === 'assigned_to') return value === null ? 'unassigned' : value === userId ? 'assigned to you' : `assigned to ${describeAssignee(String(value))}`;
      return `${field} ${field === 'status' ? 'set' : 'changed'} to ${humanize(String(value))}`;
    })
    .join(', ');
}

function describeApplied(applied: Applied, describeAssignee: (userId: string) => string, userId: string): string {
  const what = describeChanges(applied.changes, describeAssignee, userId);
  const sentence = applied.isUndo ? `Undone: ${what}.` : applied.afterReply ? `Reply sent, ${what}.` : `${what.charAt(0).toUpperCase()}${what.slice(1)}.`;
  return sentence;
}

function describeEvent(event: TicketEvent, describeAssignee: (userId: string) => string): string {
  if (event.what.kind === 'reply') return `${capitalize(event.who)} replied`;
  if (event.what.kind === 'note') return `${capitalize(event.who)} added an internal note`;
  return describeChange(event.who, event.what.field, event.what.value, describeAssignee);
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** "Your change was not saved. Kai changed priority to Urgent 20 s ago." and a re-apply button. */
function ConflictNotice({ conflict, describeAssignee, onApply, onDismiss }: {
  conflict: Conflict;
  describeAssignee: (userId: string) => string;
  onApply: (changes: TicketChanges) => void;
  onDismiss: () => void;
}) {
  const { userId } = useSession();
  const ref = useRef<HTMLDivElement>(null);
  // On a phone the panel may be out of sight after sending from the composer below.
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
  }, [conflict]);
  const attempted = describeChanges(conflict.attempted, describeAssignee, userId);
  return (
    <div ref={ref} role="alert" className="conflict">
      <p>
        <strong>{conflict.afterReply ? `Your reply was sent, but not the status change (${attempted}):` : `Your change (${attempted}) was not saved:`}</strong> the ticket changed after you
        opened it.
      </p>
      {conflict.events.length > 0 ? (
        <ul>
          {conflict.events.map((event) => (
            <li key={event.id}>
              {describeEvent(event, describeAssignee)} <RelativeTime iso={event.at} />
            </li>
          ))}
        </ul>
      ) : null}
      {conflict.isAlreadyApplied ? (
        <p>It already has the values you chose.</p>
      ) : (
        <p className="actions">
          <button type="button" className="primary" onClick={() => onApply(conflict.attempted)}>
            Apply mine again
          </button>
          <button type="button" onClick={onDismiss}>
            Keep theirs
          </button>
        </p>
      )}
    </div>
  );
}
