// A page's URL parameters come from links people edit, bookmark and share: one the API would
// refuse falls back to the page's default instead of turning the whole page into a 422.

/** The parameter when it is one of `allowed`, else undefined. */
export function oneOf<T extends string | number>(value: string | null, allowed: readonly T[]): T | undefined {
  return allowed.find((option) => String(option) === value);
}

/** A page number: a plain non-negative integer of sane size, else the first page (0). */
export function pageNumber(value: string | null): number {
  return value !== null && /^\d{1,6}$/.test(value) ? Number(value) : 0;
}
