import { monitorEventLoopDelay } from 'node:perf_hooks';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What one call of `run` costs the event loop, in ms: the longest the loop went without turning
 * while it ran, as the loop's own delay histogram records it. Measured `times` times and the
 * least kept: noise (a garbage collection, another process on a busy machine) only ever adds,
 * while what the input itself costs is there every time.
 */
export async function eventLoopStall(run: () => unknown, times = 5): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // The histogram measures from one tick of its timer to the next: let it tick before and after.
  await pause(5);
  let least = Infinity;
  for (let i = 0; i < times; i++) {
    histogram.reset();
    await run();
    await pause(2);
    least = Math.min(least, histogram.max / 1e6);
  }
  histogram.disable();
  return least;
}

/**
 * The CPU time one call of `run` takes in this process, in ms, the least of `times`: unlike a
 * stall, it does not grow while other processes have the machine.
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
