import type { ReactNode } from 'react';
import { formatCount, humanize } from '../format';
import { textLength } from '../validation';

/** A labelled form control with its hint (a character counter) and its error right below it. */
export function Field({ id, label, error, hint, children }: {
  id: string;
  label: string;
  error: string | undefined;
  hint?: ReactNode;
  children: (control: ControlProps) => ReactNode;
}) {
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errorId : undefined, hint ? hintId : undefined].filter(Boolean).join(' ');
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy || undefined })}
      {error || hint ? (
        <div className="field-foot">
          {error ? (
            <p id={errorId} className="field-error">
              {error}
            </p>
          ) : null}
          {hint ? (
            <p id={hintId} className="field-hint">
              {hint}
            </p>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

export interface ControlProps {
  id: string;
  'aria-invalid': true | undefined;
  'aria-describedby': string | undefined;
}

/** "1,234 / 20,000 characters", marked once past the limit. */
export function CharacterCount({ value, max }: { value: string; max: number }) {
  const length = textLength(value);
  return (
    <span className={length > max ? 'counter over' : 'counter'}>
      {formatCount(length)} / {formatCount(max)} characters
    </span>
  );
}

/** A form-level message: why the last submit failed. */
export function FormError({ message }: { message: string | undefined }) {
  return message ? (
    <p role="alert" className="form-error">
      {message}
    </p>
  ) : null;
}

/**
 * A labelled select over an enumeration's values, shown humanized. `any` adds a first option
 * that stands for no choice (a filter's "Any status"); `isLabelHidden` keeps the label for
 * assistive technology only, where the options name what they choose.
 */
export function EnumSelect({ label, value, values, any, onChange, isLabelHidden = false, disabled = false }: {
  label: string;
  value: string;
  values: readonly string[];
  any?: { value: string; label: string };
  onChange: (value: string) => void;
  isLabelHidden?: boolean;
  disabled?: boolean;
}) {
  return (
    <label>
      <span className={isLabelHidden ? 'visually-hidden' : undefined}>{label}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)} disabled={disabled}>
        {any ? <option value={any.value}>{any.label}</option> : null}
        {values.map((v) => (
          <option key={v} value={v}>
            {humanize(v)}
          </option>
        ))}
      </select>
    </label>
  );
}
