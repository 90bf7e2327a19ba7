import { useSyncExternalStore } from 'react';
import { formatExactDateTime, formatRelativeTime } from '../format';

// One clock for every relative time on the page, ticking every 15 s while anyone shows one.
const TICK = 15_000;
const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;

// The clock moves on only when it is a tick behind, so a render reads one time throughout.
function snapshot(): number {
  const current = Date.now();
  if (current - now >= TICK) now = current;
  return now;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  timer ??= setInterval(() => {
    for (const l of listeners) l();
  }, TICK);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** The current time in ms, updated every 15 s; what relative times are counted from. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, snapshot);
}

/** "3 h ago", with the exact time and its zone on hover (and to assistive technology as the title). */
export function RelativeTime({ iso }: { iso: string }) {
  const current = useNow();
  return (
    <time dateTime={iso} title={formatExactDateTime(iso)}>
      {formatRelativeTime(iso, current)}
    </time>
  );
}
