import { useQueryClient } from '@tanstack/react-query';
import { useMemo, useState, type ReactNode } from 'react';
import { createApi, SESSION_ENDED_MESSAGE, unwrap, type DevIdentity } from '../api/client';
import { SignInPage } from '../pages/sign-in';
import { SessionContext, type Session } from './session';

const STORAGE_KEY = 'helpdesk.dev-session';

interface StoredSession {
  token: string;
  expiresAt: string;
  identity: DevIdentity;
}

function loadStored(): StoredSession | null {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as StoredSession | null;
    return stored && Date.parse(stored.expiresAt) > Date.now() ? stored : null;
  } catch {
    return null;
  }
}

/** Development sign-in: pick a demo identity, get its token from POST /api/v1/dev/tokens. */
export function DevSession({ identities, children }: { identities: DevIdentity[]; children: ReactNode }) {
  const [stored, setStored] = useState(loadStored);
  const [notice, setNotice] = useState<string>();
  const queryClient = useQueryClient();

  const session = useMemo<Session | null>(() => {
    if (!stored) return null;
    const signOut = (message?: string) => {
      sessionStorage.removeItem(STORAGE_KEY);
      queryClient.clear();
      setNotice(message);
      setStored(null);
    };
    return {
      userId: stored.identity.user_id,
      name: stored.identity.name,
      email: stored.identity.email,
      isStaff: stored.identity.is_staff,
      // A 401 means the token expired or the server no longer knows its key: back to sign-in.
      api: createApi(async () => stored.token, () => signOut(SESSION_ENDED_MESSAGE)),
      getToken: async () => stored.token,
      signOut: () => signOut(),
    };
  }, [stored, queryClient]);

  async function signIn(identity: DevIdentity) {
    const api = createApi(async () => null);
    const result = await unwrap(api.POST('/api/v1/dev/tokens', { body: { identity: identity.id } }));
    const next = { token: result.token, expiresAt: result.expires_at, identity: result.identity };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    queryClient.clear();
    setNotice(undefined);
    setStored(next);
  }

  if (!session) return <SignInPage identities={identities} notice={notice} onSignIn={signIn} />;
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
