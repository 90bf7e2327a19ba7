import type { Selectable } from 'kysely';

/** Everyone seen with a verified token: the staff list and assignee emails come from here. */
export interface UserTable {
  id: string;
  email: string;
  /** 0 or 1: whether the user's last verified token carried a staff role. */
  is_staff: number;
  first_seen_at: string;
  last_seen_at: string;
}

export type UserRow = Selectable<UserTable>;
