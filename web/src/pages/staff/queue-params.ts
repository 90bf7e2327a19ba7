import { PRIORITIES, STATUSES, TYPES, type TicketStatus } from '../../api/client';
import { oneOf, pageNumber } from '../../search-params';

/** Tickets per queue page: a desktop screen shows about twenty, the rest is a scroll away. */
export const PAGE_SIZE = 50;

type Sort = 'waiting_since' | 'created_at' | '-created_at' | 'updated_at' | '-updated_at' | 'priority' | '-priority';
export const SORTS: Array<[Sort, string]> = [
  ['waiting_since', 'Waiting longest'],
  ['-updated_at', 'Recently updated'],
  ['updated_at', 'Least recently updated'],
  ['-created_at', 'Newest'],
  ['created_at', 'Oldest'],
  ['-priority', 'Most urgent first'],
  ['priority', 'Least urgent first'],
];
const SORT_VALUES = SORTS.map(([value]) => value);

/** Not solved yet: what "open" means to people (the API's open and in progress). */
const UNSOLVED: readonly TicketStatus[] = ['open', 'in_progress'];

/** The status filter's choices: a status, both unsolved ones, or any. */
export const STATUS_CHOICES = ['unsolved', ...STATUSES] as const;
export type StatusChoice = (typeof STATUS_CHOICES)[number];

export type WaitingOn = 'support' | 'customer';
export const WAITING_CHOICES: readonly WaitingOn[] = ['support', 'customer'];

interface ViewPreset {
  label: string;
  assigned_to: 'me' | 'none' | undefined;
  status: StatusChoice | undefined;
  waiting_on: WaitingOn | undefined;
  sort: Sort;
}

// Each view is a preset of filters; a filter chosen on the page wins over the preset. The views
// of work to do put the longest wait first; the overviews put the latest activity first.
export const VIEWS = {
  unassigned: { label: 'Unassigned', assigned_to: 'none', status: 'unsolved', waiting_on: undefined, sort: 'waiting_since' },
  mine: { label: 'Mine', assigned_to: 'me', status: 'unsolved', waiting_on: undefined, sort: 'waiting_since' },
  'needs-reply': { label: 'Needs reply', assigned_to: undefined, status: undefined, waiting_on: 'support', sort: 'waiting_since' },
  'waiting-on-customer': { label: 'Waiting on customer', assigned_to: undefined, status: undefined, waiting_on: 'customer', sort: 'waiting_since' },
  open: { label: 'All open', assigned_to: undefined, status: 'unsolved', waiting_on: undefined, sort: '-updated_at' },
  all: { label: 'All', assigned_to: undefined, status: undefined, waiting_on: undefined, sort: '-updated_at' },
} as const satisfies Record<string, ViewPreset>;
export type View = keyof typeof VIEWS;

/** What an empty view means, when no filter narrowed it. */
export const EMPTY_VIEW: Record<View, string> = {
  unassigned: 'Every unsolved ticket has someone on it.',
  mine: 'Nothing of yours is waiting. Unassigned may have something to pick up.',
  'needs-reply': 'No customer is waiting for an answer.',
  'waiting-on-customer': 'No answer is waiting on a customer.',
  open: 'Every ticket is solved.',
  all: 'No tickets yet.',
};
export const VIEW_NAMES = Object.keys(VIEWS) as View[];

/** The API's status filter for a choice. */
export function statusFilter(choice: StatusChoice | undefined): TicketStatus[] | undefined {
  if (choice === undefined) return undefined;
  return choice === 'unsolved' ? [...UNSOLVED] : [choice];
}

/**
 * What a queue URL asks for (`?view=mine&priority=high&page=2`), as the API query it stands for.
 * The queue page and the ticket workspace's next/previous both read queues this way.
 */
export function readQueueParams(params: URLSearchParams) {
  const view = oneOf(params.get('view'), VIEW_NAMES) ?? 'unassigned';
  const preset: ViewPreset = VIEWS[view];
  const get = (name: string) => params.get(name) || undefined;
  // "any" is a choice of its own: it lifts the view's preset.
  const statusParam = params.get('status') === 'any' ? 'any' : (oneOf(params.get('status'), STATUS_CHOICES) ?? preset.status);
  const status = statusParam === 'any' ? undefined : statusParam;
  const waitingParam = params.get('waiting') === 'any' ? 'any' : (oneOf(params.get('waiting'), WAITING_CHOICES) ?? preset.waiting_on);
  const waitingOn = waitingParam === 'any' ? undefined : waitingParam;
  const sort = oneOf(params.get('sort'), SORT_VALUES) ?? preset.sort;
  const page = pageNumber(params.get('page'));
  const query = {
    status: statusFilter(status),
    waiting_on: waitingOn,
    type: oneOf(params.get('type'), TYPES),
    priority: oneOf(params.get('priority'), PRIORITIES),
    tenant_id: get('tenant'),
    q: get('q'),
    assigned_to: preset.assigned_to,
    sort,
    limit: PAGE_SIZE,
    offset: page * PAGE_SIZE,
  };
  return { view, label: preset.label, preset, status, waitingOn, sort, page, query };
}

export type QueueQuery = ReturnType<typeof readQueueParams>['query'];

/**
 * The query that counts a view's tickets for its tab, when the tallies can answer it (status
 * and assignee); undefined for the waiting views, which only their own page counts.
 */
export function viewCountQuery(view: View) {
  const preset: ViewPreset = VIEWS[view];
  if (preset.waiting_on !== undefined) return undefined;
  return { status: statusFilter(preset.status), assigned_to: preset.assigned_to, limit: 1 };
}
