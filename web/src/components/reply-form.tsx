import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError } from '../api/client';
import { Field, FormError } from './field';

const FIELDS = ['content'] as const;

/** A comment box that clears itself once the comment is saved. */
export function ReplyForm({ label, submitLabel, onSubmit, isInternal = false, children }: {
  label: string;
  submitLabel: string;
  onSubmit: (content: string) => Promise<unknown>;
  isInternal?: boolean;
  children?: ReactNode;
}) {
  const [content, setContent] = useState('');
  const [error, setError] = useState<unknown>();
  const [pending, setPending] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(undefined);
    try {
      await onSubmit(content);
      setContent('');
    } catch (e) {
      setError(e);
    } finally {
      setPending(false);
    }
  }

  const apiError = error instanceof ApiError ? error : undefined;
  const fieldError = apiError?.formErrors(FIELDS).fields.content;
  // The content's own error sits under the box; anything else (or a form-wide problem) above it.
  const formMessage = apiError ? apiError.formErrors(FIELDS).other.join(' ') || (fieldError ? undefined : apiError.message) : error instanceof Error ? error.message : undefined;
  return (
    <form className={isInternal ? 'reply internal' : 'reply'} onSubmit={(e) => void submit(e)} noValidate>
      {children}
      <FormError message={formMessage} />
      <Field id="reply-content" label={label} error={fieldError}>
        {(props) => <textarea {...props} rows={4} value={content} onChange={(e) => setContent(e.target.value)} required />}
      </Field>
      <div className="actions">
        <button type="submit" className="primary" disabled={pending}>
          {pending ? 'Sending…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
