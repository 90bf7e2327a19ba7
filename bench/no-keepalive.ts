/**
 * npx tsx bench/no-keepalive.ts PORT [PATH]
 *
 * Clients without keep-alive against a running server: 50 loops for 5 s, each request on a new
 * connection (a path that needs no token, /healthz by default). Prints requests/s and latency.
 * Used to check that accepting a reconnect storm first (src/http/accept-first.ts) costs such
 * clients nothing: run it against a server started with HELPDESK_ACCEPT_FIRST_MS=0 and without.
 */
import http from 'node:http';

const port = Number(process.argv[2]);
const path = process.argv[3] ?? '/healthz';
const latencies: number[] = [];
let stop = false;
let errors = 0;
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

async function loop(): Promise<void> {
  while (!stop) {
    const begun = performance.now();
    await new Promise<void>((resolve) => {
      const request = http.get({ port, host: '127.0.0.1', path, agent }, (response) => {
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', () => {
        errors++;
        resolve();
      });
    });
    latencies.push(performance.now() - begun);
  }
}

setTimeout(() => (stop = true), 5_000);
await Promise.all(Array.from({ length: 50 }, loop));
latencies.sort((a, b) => a - b);
const at = (q: number) => (latencies[Math.floor((latencies.length - 1) * q)] ?? 0).toFixed(1);
process.stdout.write(`${(latencies.length / 5).toFixed(0)} req/s, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, slowest ${at(1)} ms, ${errors} errors\n`);
