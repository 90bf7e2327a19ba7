/**
 * npx tsx bench/storm-first.ts [--ceiling] [--rounds 3] [--data bench/.data/sqlite-100000]
 *
 * The reconnect storm without a load generator in the way: 1,000 connections opened in one tick
 * by this process against a server just started (`helpdesk serve`, built, on the SQLite desk
 * `npm run bench -- --quick --db sqlite` seeded), each sending one request (a new customer's
 * list, each with its own token) and closing. Prints, per round (new customers each round, one
 * second apart, same server), when the last of the 1,000 answers came and the latency of the
 * first requests: p50, p99, slowest, and the CPU time the server process used meanwhile (from /proc:
 * steadier than the latencies on a shared machine). --ceiling runs bench/ceiling.ts instead (which answers
 * "not loaded": only its connection and HTTP cost). Unlike autocannon, which opens its
 * connections while it already drives the open ones, every connection here starts at once, so
 * the slowest figure is the server's own. --database-url postgres://… runs the server on that
 * database instead (seeded by `npm run bench -- --quick --db postgres`, e.g.
 * postgres://postgres@127.0.0.1:5432/helpdesk_bench_100000); --cpu-prof DIR writes the server's
 * V8 CPU profile there.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrCreateDevKeys, signDevToken } from '../src/http/dev-keys.js';
import { cpuMs } from './proc.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    ceiling: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    data: { type: 'string', default: path.join(ROOT, 'bench/.data/sqlite-100000') },
    'database-url': { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const CONNECTIONS = 1_000;
const dir = path.resolve(args.data);
const port = 20_000 + Math.floor(Math.random() * 10_000);
const server = args.ceiling
  ? spawn(process.execPath, ['--import', 'tsx', 'bench/ceiling.ts'], { cwd: ROOT, env: { ...process.env, PORT: String(port) }, stdio: 'ignore' })
  : spawn(process.execPath, [...(args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(args['cpu-prof'])] : []), 'bin/helpdesk.js', 'serve'], {
      cwd: ROOT,
      env: { ...process.env, HELPDESK_DATA_DIR: dir, DATABASE_URL: args['database-url'] ?? `sqlite:${path.join(dir, 'helpdesk.db')}`, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), HELPDESK_RATE_LIMIT: '0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
try {
  const keys = await loadOrCreateDevKeys(dir);
  const customers = (round: number) =>
    Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => signDevToken(keys, { userId: `storm_${Date.now()}_${round}_${i}`, email: `storm${i}@example.test`, orgId: 'seed_org_00001' })));
  const rounds = [];
  for (let r = 0; r < Number(args.rounds); r++) rounds.push(await customers(r));
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${port}/readyz`).then((res) => res.status > 0, () => false);
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const serverCpuMs = () => cpuMs(server.pid as number);
  for (const [round, tokens] of rounds.entries()) {
    const cpuBefore = serverCpuMs();
    const latencies: number[] = [];
    let failed = 0;
    const begun = performance.now();
    await Promise.all(
      tokens.map(
        (token) =>
          new Promise<void>((resolve) => {
            const started = performance.now();
            const socket = net.connect(port, '127.0.0.1');
            let answer = '';
            socket.on('connect', () => socket.write(`GET /api/v1/support/tickets HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`));
            socket.on('data', (chunk) => (answer += chunk));
            socket.on('end', () => {
              latencies.push(performance.now() - started);
              if (!answer.startsWith('HTTP/1.1 200')) failed++;
              resolve();
            });
            socket.on('error', () => (failed++, resolve()));
          }),
      ),
    );
    const all = performance.now() - begun;
    const cpu = serverCpuMs() - cpuBefore;
    latencies.sort((a, b) => a - b);
    const at = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN).toFixed(0);
    process.stdout.write(
      `${args.ceiling ? 'ceiling' : 'server'} round ${round + 1}: ${latencies.length} first requests answered in ${all.toFixed(0)} ms; p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, slowest ${at(1)} ms; ${failed} failed; server CPU ${cpu} ms\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
} finally {
  server.kill('SIGTERM');
}
