/**
 * The CPU time one call of `run` takes in this process, in ms, the least of `times`: noise (a
 * garbage collection) only ever adds, while what the input itself costs is there every time.
 * Unlike the wall-clock stall of the event loop, it does not grow while another process has
 * the core (CI runs two test files at once beside PostgreSQL and Chromium).
 */
export async function cpuTime(run: () => unknown, times = 3): Promise<number> {
  let least = Infinity;
  for (let i = 0; i < times; i++) {
    const start = process.cpuUsage();
    await run();
    const { user, system } = process.cpuUsage(start);
    least = Math.min(least, (user + system) / 1000);
  }
  return least;
}
