import type { TicketPriority, TicketStatus } from '../api/client';
import { humanize } from '../format';

export function StatusBadge({ status }: { status: TicketStatus }) {
  return <span className={`badge status-${status}`}>{humanize(status)}</span>;
}

export function PriorityBadge({ priority }: { priority: TicketPriority }) {
  return <span className={`badge priority-${priority}`}>{humanize(priority)}</span>;
}
