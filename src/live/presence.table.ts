import type { Selectable } from 'kysely';

/** What an agent is doing on a ticket. */
export const PRESENCE_STATES = ['viewing', 'replying'] as const;
export type PresenceState = (typeof PRESENCE_STATES)[number];

/** An agent on a ticket until `expires_at` (migration 022); not ticket data, never shown to customers. */
export interface TicketPresenceTable {
  ticket_id: string;
  user_id: string;
  email: string;
  state: PresenceState;
  expires_at: string;
}

export type TicketPresenceRow = Selectable<TicketPresenceTable>;
