import { useState } from 'react';
import type { DevIdentity } from '../api/client';
import { FormError } from '../components/field';
import { useDocumentTitle } from '../page';

/** Development sign-in: one button per demo identity. */
export function SignInPage({ identities, notice, onSignIn }: {
  identities: DevIdentity[];
  /** Why the user is here again, e.g. their session ended. */
  notice?: string | undefined;
  onSignIn: (identity: DevIdentity) => Promise<void>;
}) {
  const [error, setError] = useState<string>();
  const [pending, setPending] = useState<string>();
  useDocumentTitle('Sign in');

  async function signIn(identity: DevIdentity) {
    setPending(identity.id);
    setError(undefined);
    try {
      await onSignIn(identity);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setPending(undefined);
    }
  }

  return (
    <main id="main" className="sign-in">
      <h1>Sign in to helpdesk</h1>
      {notice ? (
        <p role="status" className="notice signed-out">
          {notice}
        </p>
      ) : null}
      {identities.length > 0 ? (
        <p className="notice">
          Development sign-in: no Clerk key is configured, so you can try the desk as one of these demo people.
        </p>
      ) : (
        <p className="notice">
          This server uses development sign-in, which works only on the server itself: open{' '}
          <code>http://localhost:{window.location.port || '80'}/</code> there, or configure Clerk to sign in from elsewhere.
        </p>
      )}
      <FormError message={error} />
      <ul className="identities">
        {identities.map((identity) => (
          <li key={identity.id}>
            <button type="button" className="identity" onClick={() => void signIn(identity)} disabled={pending !== undefined}>
              <strong>{identity.name}</strong>
              <span>
                {identity.email} · {identity.is_staff ? 'staff console' : `customer portal, ${identity.org_id}`}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </main>
  );
}
