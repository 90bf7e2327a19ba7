import { formatAge, formatExactDateTime } from '../format';
import { useNow } from './time';

type WaitingOn = 'support' | 'customer' | null;

/** Whose move it is, as staff say it. */
const STAFF_LABELS = { support: 'Needs reply', customer: 'On customer' } as const;

/**
 * Whose move it is and for how long, for staff: "Needs reply · 3 h" (the customer has waited 3 h
 * for the team) or "On customer · 2 d"; the exact start of the wait on hover. A solved ticket waits on no one.
 */
export function WaitingBadge({ on, since }: { on: WaitingOn; since: string | null }) {
  const now = useNow();
  if (on === null || since === null) return <span className="muted">—</span>;
  return (
    <span className={on === 'support' ? 'wait attention' : 'wait calm'}>
      {STAFF_LABELS[on]} ·{' '}
      <time dateTime={since} title={`Waiting since ${formatExactDateTime(since)}`}>
        {formatAge(since, now)}
      </time>
    </span>
  );
}

/** Whose move it is, as a customer hears it: "New reply" (not read yet), "Awaiting your reply" or "With support". */
export function CustomerWaitingBadge({ on, isNew = false }: { on: WaitingOn; isNew?: boolean }) {
  if (on === null) return null;
  if (on === 'support') return <span className="wait calm">With support</span>;
  return <span className="wait attention">{isNew ? 'New reply' : 'Awaiting your reply'}</span>;
}
