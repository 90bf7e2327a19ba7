import type { ReactNode } from 'react';

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
