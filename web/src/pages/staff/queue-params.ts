import { PRIORITIES, STATUSES, TYPES } from '../../api/client';
import { oneOf, pageNumber } from '../../search-params';

/** Tickets per queue page: a desktop screen shows about twenty, the rest is a scroll away. */
export const PAGE_SIZE = 50;

type Sort = 'created_at' | '-created_at' | 'updated_at' | '-updated_at' | 'priority' | '-priority';
export const SORTS: Array<[Sort, string]> = [
  ['-updated_at', 'Recently updated'],
  ['updated_at', 'Least recently updated'],
  ['-created_at', 'Newest'],
  ['created_at', 'Oldest'],
  ['-priority', 'Most urgent first'],
  ['priority', 'Least urgent first'],
];
const SORT_VALUES = SORTS.map(([value]) => value);

// Each view is a preset of filters; a filter chosen on the page wins over the preset.
export const VIEWS = {
  unassigned: { label: 'Unassigned', assigned_to: 'none', status: 'open' },
  mine: { label: 'Mine', assigned_to: 'me', status: undefined },
  open: { label: 'All open', assigned_to: undefined, status: 'open' },
  all: { label: 'All', assigned_to: undefined, status: undefined },
} as const;
export type View = keyof typeof VIEWS;
export const VIEW_NAMES = Object.keys(VIEWS) as View[];

/**
 * What a queue URL asks for (`?view=mine&priority=high&page=2`), as the API query it stands for.
 * The queue page and the ticket workspace's next/previous both read queues this way.
 */
export function readQueueParams(params: URLSearchParams) {
  const view = oneOf(params.get('view'), VIEW_NAMES) ?? 'unassigned';
  const preset = VIEWS[view];
  const get = (name: string) => params.get(name) || undefined;
  // "any" is a choice of its own: it lifts the view's status preset.
  const statusParam = params.get('status') === 'any' ? 'any' : (oneOf(params.get('status'), STATUSES) ?? preset.status);
  const status = statusParam === 'any' ? undefined : statusParam;
  const sort = oneOf(params.get('sort'), SORT_VALUES) ?? '-updated_at';
  const page = pageNumber(params.get('page'));
  const query = {
    status: status === undefined ? undefined : [status],
    type: oneOf(params.get('type'), TYPES),
    priority: oneOf(params.get('priority'), PRIORITIES),
    tenant_id: get('tenant'),
    q: get('q'),
    assigned_to: preset.assigned_to,
    sort,
    limit: PAGE_SIZE,
    offset: page * PAGE_SIZE,
  };
  return { view, label: preset.label, status, sort, page, query };
}

export type QueueQuery = ReturnType<typeof readQueueParams>['query'];
