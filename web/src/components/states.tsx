import { Link } from 'react-router';
import { ApiError } from '../api/client';
import { PageHeading, useDocumentTitle } from '../page';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" className="loading">
      {label}
    </p>
  );
}

/** Whether the API said there is no such thing: a 404, or a 422 about the URL's own path (a mistyped ticket link). */
export function isNotFound(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  if (error.status === 404) return true;
  const errors = error.problem?.errors ?? [];
  return error.status === 422 && errors.length > 0 && errors.every((e) => e.location === 'path' || e.location?.startsWith('path.'));
}

/** What went wrong, in words: not found, the network, or the server's trouble; never the validator's words. */
export function ErrorState({ error, onRetry, backTo, notFound, isInline = false }: {
  error: unknown;
  /** Part of a page that has its own h1 (a list that failed below its filters). */
  isInline?: boolean;
  onRetry?: () => void;
  backTo?: { href: string; label: string };
  /** What is missing, when it is not found: "ticket". */
  notFound?: string;
}) {
  if (isNotFound(error)) return <NotFound what={notFound} backTo={backTo} />;
  const status = error instanceof ApiError ? error.status : -1;
  const [title, detail] =
    status === 0
      ? ['Cannot reach the server', 'Check your connection, then try again.']
      : status === 403
        ? ['Not for you', 'You are signed in with an account that may not see this.']
        : status >= 500
          ? ['Something went wrong', 'The server had a problem answering. Please try again in a moment.']
          : ['Something went wrong', error instanceof ApiError ? 'The server did not accept this request.' : error instanceof Error ? error.message : String(error)];
  return (
    <section className="state" role="alert" aria-labelledby="error-title">
      {isInline ? <h2 id="error-title">{title}</h2> : <StateTitle id="error-title">{title}</StateTitle>}
      <p>{detail}</p>
      <p className="actions">
        {onRetry ? (
          <button type="button" onClick={onRetry}>
            Try again
          </button>
        ) : null}
        {backTo ? <Link to={backTo.href}>{backTo.label}</Link> : null}
      </p>
    </section>
  );
}

/** A friendly dead end: a mistyped or outdated link, a ticket that is gone or someone else's. */
export function NotFound({ what, backTo = { href: '/', label: 'Go to the start page' } }: { what?: string | undefined; backTo?: { href: string; label: string } | undefined }) {
  const title = what ? `${what.charAt(0).toUpperCase()}${what.slice(1)} not found` : 'Page not found';
  return (
    <section className="state" aria-labelledby="not-found-title">
      <StateTitle id="not-found-title">{title}</StateTitle>
      <p>
        {what
          ? `There is no ${what} at this address, or it belongs to another account. The link may be mistyped or out of date.`
          : 'There is no page at this address. The link may be mistyped or out of date.'}
      </p>
      <p className="actions">
        <Link className="button primary" to={backTo.href}>
          {backTo.label}
        </Link>
      </p>
    </section>
  );
}

function StateTitle({ id, children }: { id: string; children: string }) {
  useDocumentTitle(children);
  return <PageHeading id={id}>{children}</PageHeading>;
}
