import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useMemo, type ReactNode } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { createApi, unwrap } from './api/client';
import { ErrorState, Loading, NotFound } from './components/states';
import { Layout } from './layout';
import { MyTicketsPage } from './pages/portal/my-tickets';
import { NewTicketPage } from './pages/portal/new-ticket';
import { TicketRoute } from './pages/portal/ticket';
import { OutboxPage } from './pages/staff/outbox';
import { QueuePage } from './pages/staff/queue';
import { StatsPage } from './pages/staff/stats';
import { WebhooksPage } from './pages/staff/webhooks';
import { WorkspaceRoute } from './pages/staff/workspace';
import { DevSession } from './session/dev-session';
import { useSession } from './session/session';

// Clerk's SDK is loaded only in Clerk mode, so development sign-in never downloads it.
const ClerkSession = lazy(() => import('./session/clerk-session'));

/** Asks the server how to sign in, then shows the portal or the console of whoever signed in. */
export function App() {
  const publicApi = useMemo(() => createApi(async () => null), []);
  const config = useQuery({ queryKey: ['dashboard-config'], queryFn: () => unwrap(publicApi.GET('/api/v1/dashboard/config')) });

  if (config.isPending) return <Loading />;
  if (config.isError) {
    return (
      <main id="main">
        <ErrorState error={config.error} onRetry={() => void config.refetch()} />
      </main>
    );
  }
  const { auth_mode: mode, clerk_publishable_key: key, dev_identities: identities } = config.data;
  if (mode === 'development') {
    return (
      <DevSession identities={identities}>
        <SignedInRoutes />
      </DevSession>
    );
  }
  if (!key) {
    return (
      <main id="main">
        <ErrorState error={new Error('Sign-in is not configured: set CLERK_PUBLISHABLE_KEY on the server.')} />
      </main>
    );
  }
  return (
    <Suspense fallback={<Loading />}>
      <ClerkSession publishableKey={key}>
        <SignedInRoutes />
      </ClerkSession>
    </Suspense>
  );
}

function SignedInRoutes() {
  const { isStaff } = useSession();
  // The console's pages exist for staff only: anyone else finds nothing there, not an error.
  const staffOnly = (page: ReactNode) => (isStaff ? page : <NotFound />);
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Navigate to={isStaff ? '/staff/queue' : '/tickets'} replace />} />
        <Route path="tickets" element={<MyTicketsPage />} />
        <Route path="tickets/new" element={<NewTicketPage />} />
        <Route path="tickets/:ticketId" element={<TicketRoute />} />
        <Route path="staff/queue" element={staffOnly(<QueuePage />)} />
        <Route path="staff/tickets/:ticketId" element={staffOnly(<WorkspaceRoute />)} />
        <Route path="staff/stats" element={staffOnly(<StatsPage />)} />
        <Route path="staff/webhooks" element={staffOnly(<WebhooksPage />)} />
        <Route path="staff/outbox" element={staffOnly(<OutboxPage />)} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
