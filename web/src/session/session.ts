import { createContext, useContext } from 'react';
import type { Api } from '../api/client';

/** Who is signed in, and the API client that sends their token. */
export interface Session {
  userId: string;
  name: string;
  email: string;
  isStaff: boolean;
  api: Api;
  /** The current bearer token (a fresh one in Clerk mode), for what the typed client does not carry: the live stream. */
  getToken(): Promise<string | null>;
  signOut(): void;
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session; every page below the sign-in gate has one. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in session');
  return session;
}
