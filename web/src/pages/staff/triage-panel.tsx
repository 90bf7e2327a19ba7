import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { PRIORITIES, STATUSES, TYPES, unwrap, type Ticket, type TicketPriority, type TicketStatus, type TicketType } from '../../api/client';
import { FormError } from '../../components/field';
import { humanize } from '../../format';
import { useSession } from '../../session/session';

export interface TicketChanges {
  status?: TicketStatus;
  priority?: TicketPriority;
  type?: TicketType;
  assigned_to?: string | null;
}

/** The side panel: status, priority, type and assignee, saved together with the ticket's ETag. */
export function TriagePanel({ ticket, isSaving, error, onSave }: { ticket: Ticket; isSaving: boolean; error: string | undefined; onSave: (changes: TicketChanges) => void }) {
  const { api, userId } = useSession();
  const agents = useQuery({ queryKey: ['agents'], queryFn: () => unwrap(api.GET('/api/v1/admin/support/agents')) });
  const [status, setStatus] = useState(ticket.status);
  const [priority, setPriority] = useState(ticket.priority);
  const [type, setType] = useState(ticket.type);
  const [assignee, setAssignee] = useState(ticket.assigned_to ?? '');

  const changes: TicketChanges = {
    ...(status !== ticket.status ? { status } : {}),
    ...(priority !== ticket.priority ? { priority } : {}),
    ...(type !== ticket.type ? { type } : {}),
    ...(assignee !== (ticket.assigned_to ?? '') ? { assigned_to: assignee || null } : {}),
  };
  const isChanged = Object.keys(changes).length > 0;
  const assignees = agents.data?.agents ?? [];
  const isAssigneeListed = !ticket.assigned_to || assignees.some((a) => a.user_id === ticket.assigned_to);

  function submit(event: FormEvent) {
    event.preventDefault();
    onSave(changes);
  }

  return (
    <aside className="side-panel card" aria-labelledby="triage-title">
      <h2 id="triage-title">Triage</h2>
      <FormError message={error} />
      <form onSubmit={submit}>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as TicketStatus)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {humanize(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select value={priority} onChange={(e) => setPriority(e.target.value as TicketPriority)}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {humanize(p)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.target.value as TicketType)}>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {humanize(t)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Assignee
          <select value={assignee} onChange={(e) => setAssignee(e.target.value)}>
            <option value="">Nobody</option>
            {isAssigneeListed ? null : <option value={ticket.assigned_to ?? ''}>{ticket.assigned_to_email ?? ticket.assigned_to}</option>}
            {assignees.map((agent) => (
              <option key={agent.user_id} value={agent.user_id}>
                {agent.email}
                {agent.user_id === userId ? ' (me)' : ''}
              </option>
            ))}
          </select>
        </label>
        <div className="actions">
          <button type="submit" className="primary" disabled={!isChanged || isSaving}>
            {isSaving ? 'Saving…' : 'Save changes'}
          </button>
          {ticket.assigned_to === userId ? null : (
            <button type="button" disabled={isSaving} onClick={() => onSave({ assigned_to: userId })}>
              Assign to me
            </button>
          )}
        </div>
      </form>
    </aside>
  );
}
