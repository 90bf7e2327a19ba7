import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { TYPES, unwrap, type TicketType } from '../../api/client';
import { MAX_LENGTH } from '../../api/limits';
import { AttachmentPicker } from '../../components/attachments';
import { CharacterCount, Field, FormError } from '../../components/field';
import { humanize } from '../../format';
import { PageHeading, useDocumentTitle, useLeaveWarning } from '../../page';
import { useSession } from '../../session/session';
import { checkForm, describeFormError } from '../../validation';

const TYPE_HINTS: Record<TicketType, string> = {
  support: 'A question, or help using the product',
  bug: 'Something does not work as it should',
  feature_request: 'Something you would like the product to do',
  billing: 'Invoices, payments, plans',
  account: 'Sign-in, users, permissions',
  other: 'Anything else',
};

const LIMITS = MAX_LENGTH.CreateTicketBody;
const RULES = {
  title: { empty: 'Please give your ticket a title', noun: 'title', max: LIMITS.title },
  description: { empty: 'Please describe what happened', noun: 'description', max: LIMITS.description },
};

/** Opens a ticket; what is missing or too long is said next to its field, before and after sending. */
export function NewTicketPage() {
  const { api } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [type, setType] = useState<TicketType>('support');
  const [attachments, setAttachments] = useState<string[]>([]);
  // The fields' problems as found before sending; cleared field by field as they are edited.
  const [checked, setChecked] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/support/tickets', { body: { title, description, type, ...(attachments.length > 0 ? { attachments } : {}) } })),
    onSuccess: async (ticket) => {
      await queryClient.invalidateQueries({ queryKey: ['my-tickets'] });
      void navigate(`/tickets/${ticket.ticket_id}`);
    },
  });
  useDocumentTitle('New ticket');
  useLeaveWarning(!create.isSuccess && (title.trim() !== '' || description.trim() !== ''));
  const server = create.error ? describeFormError(create.error, RULES, { title, description }) : { fields: {}, message: undefined };
  const fieldErrors: Record<string, string | undefined> = { ...server.fields, ...checked };
  const formError = Object.keys(checked).length > 0 ? 'Please correct the fields marked below.' : server.message;

  function submit(event: FormEvent) {
    event.preventDefault();
    const problems = checkForm({ title, description }, RULES);
    setChecked(problems);
    if (Object.keys(problems).length === 0) create.mutate();
  }

  const edit = (field: string, set: (value: string) => void) => (value: string) => {
    set(value);
    create.reset();
    setChecked(({ [field]: _, ...rest }) => rest);
  };

  return (
    <>
      <PageHeading>New ticket</PageHeading>
      <form className="card form" onSubmit={submit} noValidate>
        <FormError message={formError} />
        <Field id="title" label="Title" error={fieldErrors.title} hint={<CharacterCount value={title} max={LIMITS.title} />}>
          {(props) => <input {...props} value={title} onChange={(e) => edit('title', setTitle)(e.target.value)} required autoComplete="off" />}
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
        </fieldset>
        <Field id="description" label="Description" error={fieldErrors.description} hint={<CharacterCount value={description} max={LIMITS.description} />}>
          {(props) => (
            <textarea
              {...props}
              rows={8}
              value={description}
              onChange={(e) => edit('description', setDescription)(e.target.value)}
              required
              placeholder="What happened, what you expected, and how to make it happen again"
            />
          )}
        </Field>
        <p className="muted small">You can use Markdown: **bold**, _italic_, `code`, - lists, [links](https://…).</p>
        <AttachmentPicker onChange={setAttachments} />
        <div className="actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create ticket'}
          </button>
        </div>
      </form>
    </>
  );
}
