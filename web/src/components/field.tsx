import type { ReactNode } from 'react';
import { humanize } from '../format';

/** A labelled form control with its error (from problem+json `errors[]`) right below it. */
export function Field({ id, label, error, children }: { id: string; label: string; error: string | undefined; children: (control: ControlProps) => ReactNode }) {
  const errorId = `${id}-error`;
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': error ? errorId : undefined })}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export interface ControlProps {
  id: string;
  'aria-invalid': true | undefined;
  'aria-describedby': string | undefined;
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
 * that stands for no choice (a filter's "Any status").
 */
export function EnumSelect({ label, value, values, any, onChange }: {
  label: string;
  value: string;
  values: readonly string[];
  any?: { value: string; label: string };
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
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
