import { schemaUrl } from '../http/schemas.js';
import { formatCursor, type FeedCursor, type FeedRow } from './event.repository.js';
import type { EventFeedResponse, TicketEvent } from './event.schemas.js';

export function presentEvent(row: FeedRow): TicketEvent {
  return {
    event_id: row.event_id,
    cursor: formatCursor(row.cursor),
    type: row.type,
    ticket_id: row.ticket_id,
    tenant_id: row.tenant_id,
    actor: { id: row.actor_id, email: row.actor_email, type: row.actor_type },
    audience: row.audience,
    occurred_at: row.occurred_at,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}

export function presentFeed(rows: FeedRow[], next: FeedCursor, hasMore: boolean): EventFeedResponse {
  return { $schema: schemaUrl('EventFeedResponse'), events: rows.map(presentEvent), next_cursor: formatCursor(next), has_more: hasMore };
}
