/** "in_progress" → "In progress", "feature_request" → "Feature request". */
export function humanize(value: string): string {
  const words = value.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
// With seconds and the time zone: what a relative time stands for, on hover.
const exactDateTime = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});
const dayThisYear = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const dayOtherYear = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const count = new Intl.NumberFormat();

export function formatDateTime(iso: string): string {
  return dateTime.format(new Date(iso));
}

/** "Tue, 3 Mar 2026, 14:05:09 CET": the exact moment, with the zone it is shown in. */
export function formatExactDateTime(iso: string): string {
  return exactDateTime.format(new Date(iso));
}

/**
 * How long ago, as people say it at a glance: "just now", "20 s ago", "5 min ago", "3 h ago",
 * "2 d ago"; a week or more back, the day ("12 Mar", or "12 Mar 2025" in another year).
 * A time slightly ahead of this clock (the server's clock) is "just now".
 */
export function formatRelativeTime(iso: string, now: number): string {
  const then = new Date(iso);
  const seconds = Math.floor((now - then.getTime()) / 1000);
  if (seconds < 10) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days < 7) return `${days} d ago`;
  return (then.getFullYear() === new Date(now).getFullYear() ? dayThisYear : dayOtherYear).format(then);
}

/**
 * How long something has lasted, for a wait at a glance: "under 1 min", "5 min", "3 h", "12 d".
 * A time slightly ahead of this clock counts as no wait.
 */
export function formatAge(iso: string, now: number): string {
  const minutes = Math.floor((now - new Date(iso).getTime()) / 60_000);
  if (minutes < 1) return 'under 1 min';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** 1042 → "#1042": a ticket's number as people quote it. */
export function ticketNumber(number: number): string {
  return `#${number}`;
}

/** 20412 → "20,412" (in the reader's locale). */
export function formatCount(value: number): string {
  return count.format(value);
}

/** A duration in seconds as "45 min", "3 h 20 min" or "2 d 4 h"; "—" when there is none. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/**
 * A person's name as far as their email tells it: "kai@…" → "Kai", "jane.doe@…" → "Jane Doe".
 * An address that is not plainly a name ("seed_staff_0@…", "j2@…") stays the whole address.
 */
export function personName(email: string): string {
  const local = email.split('@')[0] ?? '';
  if (!/^[a-z]+(?:[._-][a-z]+)*$/i.test(local)) return email;
  return local
    .split(/[._-]/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
