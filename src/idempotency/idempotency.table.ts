import type { Selectable } from 'kysely';

export interface IdempotencyKeyTable {
  /** Keys belong to a user in a tenant (migration 019). */
  tenant_id: string;
  user_id: string;
  key: string;
  /** SHA-256 of the method, path and body the key was first used with. */
  request_hash: string;
  status_code: number;
  response_body: string;
  /** JSON object of the response headers worth replaying (location, link). */
  response_headers: string;
  created_at: string;
}

export type IdempotencyKeyRow = Selectable<IdempotencyKeyTable>;
