import { useEffect, useRef } from 'react';
import { personName } from '../format';
import { useSession } from '../session/session';
import { useLive } from './live';

const RENEW_MS = 15_000;
// Typing counts as replying until this long after the last keystroke.
const REPLYING_MS = 10_000;

/**
 * Tells the desk that this agent has the ticket open (renewed while it is, withdrawn when it
 * closes), and that they are replying while they type in it.
 */
export function useAnnouncePresence(ticketId: string): void {
  const { api } = useSession();
  const lastTyped = useRef(0);

  useEffect(() => {
    let state: 'viewing' | 'replying' | undefined;
    let stopped = false;
    const announce = (next: 'viewing' | 'replying') => {
      state = next;
      void api.POST('/api/v1/admin/support/tickets/{ticketId}/presence', { params: { path: { ticketId } }, body: { state: next } }).catch(() => undefined);
    };
    const current = (): 'viewing' | 'replying' => (Date.now() - lastTyped.current < REPLYING_MS ? 'replying' : 'viewing');
    const onInput = (event: Event) => {
      if (!(event.target instanceof HTMLTextAreaElement)) return;
      lastTyped.current = Date.now();
      if (state !== 'replying') announce('replying');
    };
    announce('viewing');
    const renew = setInterval(() => !stopped && announce(current()), RENEW_MS);
    // Back to viewing soon after the typing stops, not only at the next renewal.
    const settle = setInterval(() => {
      if (state === 'replying' && current() === 'viewing') announce('viewing');
    }, 2_000);
    // Leaving the page (or closing the tab) withdraws at once; keepalive lets it outlive the page.
    const leave = () => void api.DELETE('/api/v1/admin/support/tickets/{ticketId}/presence', { params: { path: { ticketId } }, keepalive: true }).catch(() => undefined);
    document.addEventListener('input', onInput);
    window.addEventListener('pagehide', leave);
    return () => {
      stopped = true;
      clearInterval(renew);
      clearInterval(settle);
      document.removeEventListener('input', onInput);
      window.removeEventListener('pagehide', leave);
      leave();
    };
  }, [api, ticketId]);
}

/** "Kai is viewing", "Kai is replying…": the other agents on this ticket now. */
export function PresenceNote({ ticketId }: { ticketId: string }) {
  const { userId } = useSession();
  const { presence } = useLive();
  const others = (presence.get(ticketId) ?? []).filter((agent) => agent.user_id !== userId);
  if (others.length === 0) return null;
  return (
    <p className="presence-note" role="status">
      {others.map((agent) => `${personName(agent.email)} is ${agent.state === 'replying' ? 'replying…' : 'viewing'}`).join(' · ')}
    </p>
  );
}
