import { ClerkProvider, SignIn, useAuth, useUser } from '@clerk/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState, type ReactNode } from 'react';
import { ApiError, createApi, SESSION_ENDED_MESSAGE, unwrap } from '../api/client';
import { ErrorState, Loading } from '../components/states';
import { SessionContext, type Session } from './session';

/** Clerk mode: Clerk's own sign-in, and each request carries a fresh Clerk session token. */
export default function ClerkSession({ publishableKey, children }: { publishableKey: string; children: ReactNode }) {
  return (
    <ClerkProvider publishableKey={publishableKey}>
      <ClerkGate>{children}</ClerkGate>
    </ClerkProvider>
  );
}

function ClerkGate({ children }: { children: ReactNode }) {
  const { isLoaded, isSignedIn, getToken, signOut } = useAuth();
  const { user } = useUser();
  const queryClient = useQueryClient();
  const [notice, setNotice] = useState<string>();
  // A 401 means the server does not accept this session's token: sign out rather than fail the page.
  const api = useMemo(
    () =>
      createApi(
        () => getToken(),
        () => {
          queryClient.clear();
          setNotice(SESSION_ENDED_MESSAGE);
          void signOut();
        },
      ),
    [getToken, signOut, queryClient],
  );
  // Who counts as staff is the server's setting (HELPDESK_STAFF_ROLES): ask it.
  const staff = useQuery({
    queryKey: ['is-staff', user?.id],
    enabled: Boolean(isSignedIn && user),
    queryFn: () =>
      unwrap(api.GET('/api/v1/admin/support/agents')).then(
        () => true,
        (error: unknown) => (error instanceof ApiError && error.status === 403 ? false : Promise.reject(error)),
      ),
  });

  if (!isLoaded) return <Loading />;
  if (!isSignedIn || !user) {
    return (
      <main id="main" className="sign-in">
        {notice ? (
          <p role="status" className="notice signed-out">
            {notice}
          </p>
        ) : null}
        <SignIn routing="hash" />
      </main>
    );
  }
  if (staff.isError) return <ErrorState error={staff.error} onRetry={() => void staff.refetch()} />;
  if (staff.data === undefined) return <Loading />;
  const session: Session = {
    userId: user.id,
    name: user.fullName ?? user.primaryEmailAddress?.emailAddress ?? user.id,
    email: user.primaryEmailAddress?.emailAddress ?? '',
    isStaff: staff.data,
    api,
    getToken: () => getToken(),
    signOut() {
      queryClient.clear();
      setNotice(undefined);
      void signOut();
    },
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
