// The queue an agent opened a ticket from, kept for this tab: what [ and ] move through, and where
// "back to the queue" goes. It is the page of tickets as the agent saw it, so a ticket that leaves
// the view once worked (assigned away from Unassigned, say) does not pull the next one out from
// under them; past its end, the queue is asked again for tickets not yet on the trail.

/** The queue a ticket was opened from. */
export interface Trail {
  /** The queue page's query string ("?view=mine&page=1"). */
  search: string;
  /** The view's name, "Unassigned". */
  label: string;
  /** The tickets in the order the agent saw them, and those fetched on after them. */
  ids: string[];
  /** The ticket last opened from it: where j and k go on from, back on the queue. */
  current?: string | undefined;
}

const KEY = 'helpdesk.queue-trail';

export function loadTrail(): Trail | undefined {
  try {
    const trail = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Trail | null;
    return trail && typeof trail.search === 'string' && Array.isArray(trail.ids) ? trail : undefined;
  } catch {
    return undefined;
  }
}

export function saveTrail(trail: Trail): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(trail));
  } catch {
    // No storage: [ and ] are not offered.
  }
}
