import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, TYPES, unwrap, type TicketType } from '../../api/client';
import { Field, FormError } from '../../components/field';
import { humanize } from '../../format';
import { useSession } from '../../session/session';

const TYPE_HINTS: Record<TicketType, string> = {
  support: 'A question, or help using the product',
  bug: 'Something does not work as it should',
  feature_request: 'Something you would like the product to do',
  billing: 'Invoices, payments, plans',
  account: 'Sign-in, users, permissions',
  other: 'Anything else',
};

const FIELDS = ['title', 'type', 'description'] as const;

/** Opens a ticket; the server's field errors appear next to their fields. */
export function NewTicketPage() {
  const { api } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [type, setType] = useState<TicketType>('support');
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/support/tickets', { body: { title, description, type } })),
    onSuccess: async (ticket) => {
      await queryClient.invalidateQueries({ queryKey: ['my-tickets'] });
      void navigate(`/tickets/${ticket.ticket_id}`);
    },
  });
  const error = create.error instanceof ApiError ? create.error : undefined;
  const fieldErrors = error?.formErrors(FIELDS).fields ?? {};
  const formError = error ? error.formMessage(FIELDS) : create.error?.message;

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <>
      <h1>New ticket</h1>
      <form className="card form" onSubmit={submit} noValidate>
        <FormError message={formError} />
        <Field id="title" label="Title" error={fieldErrors.title}>
          {(props) => <input {...props} value={title} onChange={(e) => setTitle(e.target.value)} required autoComplete="off" />}
        </Field>
        <fieldset className={fieldErrors.type ? 'type-picker invalid' : 'type-picker'}>
          <legend>Type</legend>
          {TYPES.map((t) => (
            <label key={t} className="type-option">
              <input type="radio" name="type" value={t} checked={type === t} onChange={() => setType(t)} />
              <span>
                <strong>{humanize(t)}</strong>
                <small>{TYPE_HINTS[t]}</small>
              </span>
            </label>
          ))}
          {fieldErrors.type ? <p className="field-error">{fieldErrors.type}</p> : null}
        </fieldset>
        <Field id="description" label="Description" error={fieldErrors.description}>
          {(props) => (
            <textarea {...props} rows={8} value={description} onChange={(e) => setDescription(e.target.value)} required placeholder="What happened, what you expected, and how to make it happen again" />
          )}
        </Field>
        <div className="actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create ticket'}
          </button>
        </div>
      </form>
    </>
  );
}
