import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

type Schemas = components['schemas'];
export type Ticket = Schemas['SupportTicket'];
/** A ticket as staff see it: with whose move it is, since when, and whether it is unread for them. */
export type StaffTicket = Schemas['StaffTicket'];
export type Comment = Schemas['SupportTicketComment'];
export type HistoryEntry = Schemas['TicketHistoryEntry'];
export type DevIdentity = Schemas['DevIdentity'];
export type Problem = Schemas['ErrorModel'];
export type TicketStatus = Ticket['status'];
export type TicketType = Ticket['type'];
export type TicketPriority = Ticket['priority'];

export const STATUSES: readonly TicketStatus[] = ['open', 'in_progress', 'resolved', 'closed'];
export const TYPES: readonly TicketType[] = ['support', 'bug', 'feature_request', 'billing', 'account', 'other'];
export const PRIORITIES: readonly TicketPriority[] = ['low', 'normal', 'high', 'urgent'];

/** A failed request: the problem+json the API answered with, or status 0 when the network failed. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem?.detail ?? (status === 0 ? 'The server could not be reached.' : `The server answered ${status}.`));
    this.name = 'ApiError';
  }

  /**
   * The problem's `errors[]` split for a form: messages for its own fields (`body.title` → `title`),
   * and the rest (about the body as a whole, or a field the form does not have) for a form-level message.
   */
  formErrors(fields: readonly string[]): { fields: Record<string, string>; other: string[] } {
    const out: { fields: Record<string, string>; other: string[] } = { fields: {}, other: [] };
    for (const e of this.problem?.errors ?? []) {
      if (!e.message) continue;
      const field = e.location?.startsWith('body.') ? e.location.slice('body.'.length) : undefined;
      if (field !== undefined && fields.includes(field)) {
        if (!(field in out.fields)) out.fields[field] = e.message;
      } else {
        // A field the form does not show is named, so the message still says what it is about.
        const message = field === undefined ? e.message : `${field}: ${e.message}`;
        if (!out.other.includes(message)) out.other.push(message);
      }
    }
    return out;
  }

  /** One sentence for the top of a form: the fields marked below, and whatever no field shows. */
  formMessage(fields: readonly string[]): string {
    const { fields: marked, other } = this.formErrors(fields);
    const parts = [...(Object.keys(marked).length > 0 ? ['Please correct the fields marked below.'] : []), ...other];
    return parts.length > 0 ? parts.join(' ') : this.message;
  }
}

export type Api = ReturnType<typeof createApi>;

/** What the sign-in page says after the server stopped accepting the session's token. */
export const SESSION_ENDED_MESSAGE = 'Your session has ended or is no longer accepted by the server. Please sign in again.';

/**
 * The typed API client; `getToken` supplies the bearer token of each request (null: none), and
 * `onUnauthorized` hears of every 401, so the session can sign out instead of a page failing.
 */
export function createApi(getToken: () => Promise<string | null>, onUnauthorized?: () => void) {
  const client = createClient<paths>({ baseUrl: window.location.origin });
  const auth: Middleware = {
    async onRequest({ request }) {
      const token = await getToken();
      if (token) request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) onUnauthorized?.();
      return undefined;
    },
  };
  client.use(auth);
  // The token for the few requests openapi-fetch cannot make (an upload with its progress).
  return Object.assign(client, { token: getToken });
}

/** The data of an openapi-fetch result and its response, or an ApiError; a network failure becomes status 0. */
export async function unwrapResponse<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ data: T; response: Response }> {
  let result: Awaited<typeof call>;
  try {
    result = await call;
  } catch {
    throw new ApiError(0, undefined);
  }
  if (result.error !== undefined || result.data === undefined) {
    const problem = typeof result.error === 'object' && result.error !== null ? (result.error as Problem) : undefined;
    throw new ApiError(result.response.status, problem);
  }
  return { data: result.data, response: result.response };
}

/** The data of an openapi-fetch result, or an ApiError. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  return (await unwrapResponse(call)).data;
}
