/**
 * The load generator, run in its own process so that it does not share an event loop with the
 * server it measures. It reads LoadSpecs from stdin, one JSON line each, drives each in turn and
 * prints autocannon's figures for it as one line of JSON. One process serves a whole bench run:
 * starting one per run (tsx, autocannon) cost ~0.5 s, four times per operation.
 */
import readline from 'node:readline';
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  method: string;
  /** Paths to request in turn; each used once when `once` is set (writes that cannot repeat). */
  paths: string[];
  once: boolean;
  headers: Record<string, string>;
  /** Headers added in turn, each for a whole round of `paths` (e.g. several customers' tokens). */
  rotate?: Array<Record<string, string>> | undefined;
  body?: string | undefined;
  connections: number;
  seconds: number;
  /** Send exactly this many requests (overrides `seconds`; with `rotate`, one header each). */
  amount?: number | undefined;
  /** Give up on a request after this many seconds (autocannon's default is 10). */
  timeout?: number | undefined;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
  /** The slowest request, ms. */
  max: number;
  errors: number;
  timeouts: number;
}

async function drive(spec: LoadSpec): Promise<LoadResult> {
  let next = 0;
  let lastResponse = 0;
  const options: autocannon.Options = {
    url: spec.url,
    connections: spec.connections,
    ...(spec.amount ? { amount: spec.amount } : spec.once ? { amount: spec.paths.length } : { duration: spec.seconds }),
    ...(spec.timeout ? { timeout: spec.timeout } : {}),
    requests: [
      {
        method: spec.method as 'GET',
        headers: spec.headers,
        ...(spec.body === undefined ? {} : { body: spec.body }),
        setupRequest: (request) => {
          const n = next++;
          const rotated = spec.rotate?.[Math.floor(n / spec.paths.length) % spec.rotate.length];
          return { ...request, path: spec.paths[n % spec.paths.length] as string, ...(rotated ? { headers: { ...request.headers, ...rotated } } : {}) };
        },
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, done) => (error ? reject(error as Error) : resolve(done)));
    instance.on('response', () => {
      lastResponse = Date.now();
    });
  });
  const ok = result['2xx'];
  // A timed run is measured from start to finish (`duration` is whole seconds, too coarse for
  // short runs). A counted run (`once`, `amount`) ends at its last response: autocannon only
  // notices it is done at its next one-second sample, so its finish is up to a second late,
  // which made short counted runs of the same length read the same rate whatever they took.
  const counted = spec.amount !== undefined || spec.once;
  const seconds = ((counted && lastResponse > 0 ? lastResponse : result.finish.getTime()) - result.start.getTime()) / 1000;
  return {
    requests: result.requests.total,
    seconds,
    rps: ok / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    failed: result.non2xx + result.errors + result.timeouts,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

for await (const line of readline.createInterface({ input: process.stdin })) {
  process.stdout.write(`${JSON.stringify(await drive(JSON.parse(line) as LoadSpec))}\n`);
}
