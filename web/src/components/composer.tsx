import { useImperativeHandle, useRef, useState, type FormEvent, type ReactNode, type Ref } from 'react';
import { clearDraft, loadDraft, saveDraft } from '../drafts';
import { isSendKey } from '../keyboard';
import { useLeaveWarning } from '../page';
import { checkText, describeFormError, type TextRule } from '../validation';
import { AttachmentPicker } from './attachments';
import { CharacterCount, Field, FormError } from './field';
import { Markdown } from './markdown';

/** What a page can do with its composer from outside: the r, n and c shortcuts. */
export interface ComposerHandle {
  /** Moves focus into the box; `reply` or `note` switches the kind first (staff only). */
  focus(kind?: 'reply' | 'note'): void;
}

const FIELD_RULES = (rule: TextRule) => ({ content: rule });

/**
 * The box a reply is written in: Markdown with a preview, a character counter, Ctrl/⌘+Enter
 * to send, the text kept as a draft in this browser until it is sent (and a warning before the
 * page is left with it), and messages in people's words when it cannot go.
 */
export function Composer({ ref, userId, ticketId, rule, label, submitLabel, canWriteNotes = false, conflict, onSend, children, footer }: {
  ref?: Ref<ComposerHandle>;
  userId: string;
  ticketId: string;
  rule: TextRule;
  label: (isInternal: boolean) => string;
  submitLabel: (isInternal: boolean) => string;
  /** Staff: a public reply or an internal note. */
  canWriteNotes?: boolean;
  /** What a 409 means here. */
  conflict: string;
  /** Sends it with the IDs of the files attached; rejects when it was not sent (the text then stays). */
  onSend: (content: string, isInternal: boolean, attachments: string[]) => Promise<unknown>;
  /** Above the box (the reply/note choice is drawn here by the composer itself). */
  children?: ReactNode;
  /** Beside the send button (the staff's "status after sending"). */
  footer?: (isInternal: boolean) => ReactNode;
}) {
  const [initial] = useState(() => loadDraft(userId, ticketId));
  const [content, setContent] = useState(initial?.content ?? '');
  const [isInternal, setInternal] = useState(canWriteNotes && (initial?.isInternal ?? false));
  const [isPreview, setPreview] = useState(false);
  const [error, setError] = useState<{ field: string | undefined; form: string | undefined }>({ field: undefined, form: undefined });
  const [pending, setPending] = useState(false);
  const [attachments, setAttachments] = useState<string[]>([]);
  // A new picker (no files) after each message sent.
  const [sent, setSent] = useState(0);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const form = useRef<HTMLFormElement>(null);

  useImperativeHandle(ref, () => ({
    focus(kind) {
      if (canWriteNotes && kind) change(content, kind === 'note');
      const focusBox = () => {
        form.current?.scrollIntoView({ block: 'nearest' });
        textarea.current?.focus();
      };
      if (!isPreview) return focusBox();
      // After the preview gives the box back.
      setPreview(false);
      requestAnimationFrame(focusBox);
    },
  }));

  const hasText = content.trim() !== '';
  useLeaveWarning(hasText);

  function change(nextContent: string, nextInternal: boolean) {
    setContent(nextContent);
    setInternal(nextInternal);
    saveDraft(userId, ticketId, { content: nextContent, isInternal: nextInternal });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (pending) return;
    const problem = checkText(content, rule);
    if (problem) {
      setError({ field: problem, form: undefined });
      setPreview(false);
      return;
    }
    setPending(true);
    setError({ field: undefined, form: undefined });
    try {
      await onSend(content, isInternal, attachments);
      setSent((n) => n + 1);
      setContent('');
      setPreview(false);
      clearDraft(userId, ticketId);
    } catch (e) {
      const described = describeFormError(e, FIELD_RULES(rule), { content }, conflict);
      setError({ field: described.fields.content, form: described.fields.content ? undefined : described.message });
    } finally {
      setPending(false);
    }
  }

  const kindLabel = label(isInternal);
  return (
    <form ref={form} className={isInternal ? 'composer internal' : 'composer'} onSubmit={(e) => void submit(e)} noValidate>
      {canWriteNotes ? (
        <fieldset className="toggle">
          <legend className="visually-hidden">Kind of comment</legend>
          <label>
            <input type="radio" name="kind" checked={!isInternal} onChange={() => change(content, false)} /> Public reply
          </label>
          <label>
            <input type="radio" name="kind" checked={isInternal} onChange={() => change(content, true)} /> Internal note
          </label>
        </fieldset>
      ) : null}
      {children}
      <FormError message={error.form} />
      {isPreview ? (
        <div className="field">
          <span className="label" id="reply-preview-label">
            {kindLabel}: preview
          </span>
          <section className="preview" aria-labelledby="reply-preview-label">
            {hasText ? <Markdown text={content} className="message-body" /> : <p className="muted">Nothing to preview yet.</p>}
          </section>
        </div>
      ) : (
        <Field id="reply-content" label={kindLabel} error={error.field} hint={<CharacterCount value={content} max={rule.max} />}>
          {(props) => (
            <textarea
              {...props}
              ref={textarea}
              rows={5}
              value={content}
              onChange={(e) => change(e.target.value, isInternal)}
              onKeyDown={(e) => {
                if (isSendKey(e)) {
                  e.preventDefault();
                  form.current?.requestSubmit();
                } else if (e.key === 'Escape') {
                  // Out of the box, so single-key shortcuts work again; the draft stays.
                  e.currentTarget.blur();
                }
              }}
            />
          )}
        </Field>
      )}
      <AttachmentPicker key={sent} staff={canWriteNotes} onChange={setAttachments} />
      <div className="composer-actions">
        <button type="button" className="quiet" aria-pressed={isPreview} onClick={() => setPreview(!isPreview)}>
          Preview
        </button>
        <span className="muted small composer-hint">
          Markdown: **bold**, _italic_, `code`, - lists, [links](https://…) · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> sends, <kbd>Esc</kbd> leaves the box
          {hasText ? ' · Draft kept in this browser' : ''}
        </span>
        {footer?.(isInternal)}
        <button type="submit" className="primary" disabled={pending}>
          {pending ? 'Sending…' : submitLabel(isInternal)}
        </button>
      </div>
    </form>
  );
}
