import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError, PRIORITIES, STATUSES, TYPES, unwrap, type Ticket, type TicketPriority, type TicketStatus, type TicketType } from '../../api/client';
import { EnumSelect, FormError } from '../../components/field';
import { useSession } from '../../session/session';

export interface TicketChanges {
  status?: TicketStatus;
  priority?: TicketPriority;
  type?: TicketType;
  assigned_to?: string | null;
}

/**
 * The side panel: status, priority, type and assignee, saved together with the ticket's ETag.
 * What the agent has changed but not saved is a draft over the ticket: it survives the ticket being
 * fetched again (after a reply, a note, or a customer's message), and the fields it does not touch
 * always show the ticket as it is now. A save clears what it saved; a 412 clears it all, since the
 * ticket it was made against is gone.
 */
export function TriagePanel({ ticket, isSaving, error, onSave }: {
  ticket: Ticket;
  isSaving: boolean;
  error: string | undefined;
  /** Saves the changes; rejects with the ApiError when they were not saved. */
  onSave: (changes: TicketChanges) => Promise<unknown>;
}) {
  const { api, userId } = useSession();
  const agents = useQuery({ queryKey: ['agents'], queryFn: () => unwrap(api.GET('/api/v1/admin/support/agents')) });
  const [draft, setDraft] = useState<TicketChanges>({});
  const status = draft.status ?? ticket.status;
  const priority = draft.priority ?? ticket.priority;
  const type = draft.type ?? ticket.type;
  const assignee = (draft.assigned_to !== undefined ? draft.assigned_to : ticket.assigned_to) ?? '';

  const changes: TicketChanges = {
    ...(status !== ticket.status ? { status } : {}),
    ...(priority !== ticket.priority ? { priority } : {}),
    ...(type !== ticket.type ? { type } : {}),
    ...(assignee !== (ticket.assigned_to ?? '') ? { assigned_to: assignee || null } : {}),
  };
  const isChanged = Object.keys(changes).length > 0;
  const assignees = agents.data?.agents ?? [];
  const isAssigneeListed = !ticket.assigned_to || assignees.some((a) => a.user_id === ticket.assigned_to);

  const edit = (change: TicketChanges) => setDraft((current) => ({ ...current, ...change }));

  async function save(saving: TicketChanges) {
    try {
      await onSave(saving);
      setDraft((current) => Object.fromEntries(Object.entries(current).filter(([field]) => !(field in saving))));
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) setDraft({});
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void save(changes);
  }

  return (
    <aside className="side-panel card" aria-labelledby="triage-title">
      <h2 id="triage-title">Triage</h2>
      <FormError message={error} />
      <form onSubmit={submit}>
        <EnumSelect label="Status" value={status} values={STATUSES} onChange={(v) => edit({ status: v as TicketStatus })} />
        <EnumSelect label="Priority" value={priority} values={PRIORITIES} onChange={(v) => edit({ priority: v as TicketPriority })} />
        <EnumSelect label="Type" value={type} values={TYPES} onChange={(v) => edit({ type: v as TicketType })} />
        <label>
          Assignee
          <select value={assignee} onChange={(e) => edit({ assigned_to: e.target.value || null })}>
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
            <button type="button" disabled={isSaving} onClick={() => void save({ assigned_to: userId })}>
              Assign to me
            </button>
          )}
        </div>
      </form>
    </aside>
  );
}
