/** "21–40 of 57" (or "of 10,000+" when the total is a lower bound) with Previous / Next; pages are zero-based. */
export function Pager({
  page,
  pageSize,
  total,
  totalIsLowerBound = false,
  onPage,
}: {
  page: number;
  pageSize: number;
  total: number;
  totalIsLowerBound?: boolean;
  onPage: (page: number) => void;
}) {
  if (total <= pageSize && page === 0 && !totalIsLowerBound) return null;
  const first = page * pageSize + 1;
  const last = Math.min(total, first + pageSize - 1);
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={page === 0} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span aria-live="polite">
        {first}–{last} of {total.toLocaleString('en-US')}
        {totalIsLowerBound ? '+' : ''}
      </span>
      <button type="button" disabled={last >= total && !totalIsLowerBound} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}
