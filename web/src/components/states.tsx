import { Link } from 'react-router';
import { ApiError } from '../api/client';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" className="loading">
      {label}
    </p>
  );
}

/** What went wrong, in words: not found, the network, or the server's problem detail. */
export function ErrorState({ error, onRetry, backTo }: { error: unknown; onRetry?: () => void; backTo?: { href: string; label: string } }) {
  const status = error instanceof ApiError ? error.status : -1;
  const [title, detail] =
    status === 404
      ? ['Not found', 'There is nothing here, or it is not yours to see.']
      : status === 0
        ? ['Cannot reach the server', 'Check your connection, then try again.']
        : ['Something went wrong', error instanceof Error ? error.message : String(error)];
  return (
    <section className="state" role="alert" aria-labelledby="error-title">
      <h1 id="error-title">{title}</h1>
      <p>{detail}</p>
      <p className="actions">
        {onRetry && status !== 404 ? (
          <button type="button" onClick={onRetry}>
            Try again
          </button>
        ) : null}
        {backTo ? <Link to={backTo.href}>{backTo.label}</Link> : null}
      </p>
    </section>
  );
}
