/**
 * Notices the global setups raise (a half of the suite skipped, and why), printed at once and again under the
 * reporter's closing summary, where a person reading the end of the log sees them. Kept on globalThis: the
 * global setups and the reporter run in vitest's main process but may be loaded as separate module copies.
 */
const KEY = Symbol.for('helpdesk.test.runNotices');
type Holder = { [KEY]?: string[] };

export function addRunNotice(notice: string): void {
  const holder = globalThis as Holder;
  (holder[KEY] ??= []).push(notice);
  console.warn(`\n*** ${notice} ***\n`);
}

export function runNotices(): readonly string[] {
  return (globalThis as Holder)[KEY] ?? [];
}
