/**
 * npm run bench:webhooks [-- --db sqlite,postgres] [--seconds S] [--connections C] [--tickets T] [--profile DIR]
 *
 * What webhooks cost the write path, and how soon a receiver hears of a change. For each
 * database, twice on a fresh desk: the real server (`helpdesk serve` from source) takes
 * customer comments on T tickets from autocannon (bench/load.ts, its own process) for S seconds,
 * first with no webhook endpoint, then with one healthy endpoint subscribed to everything (a
 * receiver in this process, on loopback, answering 204 at once). Reports comments/s for both,
 * their ratio, and per delivered event the time from the event's `timestamp` (taken in the
 * writing transaction, just before it commits) to its arrival at the receiver: p50, p99, max.
 * Also the server's CPU time (user and system, from /proc) per comment, from the start of the
 * load until every comment's event reached the receiver, less what the idle server spends in
 * as long (its pollers, measured for 2 s before): on a machine shared with other work it moves
 * less than the rates do.
 * With --profile, each server run writes V8 CPU profiles (`node --cpu-prof`, one per thread) under DIR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadOrCreateDevKeys, signDevToken } from '../src/http/dev-keys.js';
import type { LoadResult, LoadSpec } from './load.js';
import { freePort } from './net.js';
import { cpuMs } from './proc.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite,postgres' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    tickets: { type: 'string', default: '50' },
    profile: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const TICKETS = Number(args.tickets);
const PG_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const log = (message: string) => console.error(`[bench:webhooks] ${message}`);

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** One load spec through bench/load.ts in its own process. */
async function load(spec: LoadSpec): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(`${JSON.stringify(spec)}\n`);
  for await (const line of readline.createInterface({ input: child.stdout })) return JSON.parse(line) as LoadResult;
  throw new Error('load generator exited without a result');
}

interface Run {
  db: string;
  endpoint: boolean;
  result: LoadResult;
  delivered: number;
  /** Server CPU per acknowledged comment, µs. */
  cpuUs: number;
  latency?: { p50: number; p99: number; max: number };
}

async function runOnce(db: string, withEndpoint: boolean): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helpdesk-bench-webhooks-'));
  let database: string | undefined;
  if (db === 'postgres') {
    database = `bench_webhooks_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${database}`);
    await admin.end();
  }
  const url = new URL(PG_URL);
  if (database) url.pathname = `/${database}`;
  const port = await freePort();
  const keys = await loadOrCreateDevKeys(dir);
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    HELPDESK_DATA_DIR: dir,
    HELPDESK_RATE_LIMIT: '0',
    DATABASE_URL: database ? url.toString() : `sqlite:${path.join(dir, 'helpdesk.db')}`,
    HELPDESK_WEBHOOK_ALLOW_HTTP: '1',
    HELPDESK_WEBHOOK_ALLOW_PRIVATE: '1',
  };
  const profile = args.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(args.profile, `${db}-${withEndpoint ? 'one' : 'none'}`)] : [];
  const server: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/cli/main.ts', 'serve'], { cwd: ROOT, env, stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  const latencies: number[] = [];
  const receiver = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString()) as { type: string; timestamp: string };
      if (event.type === 'comment.created') latencies.push(Date.now() - Date.parse(event.timestamp));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    await until(() => fetch(`${base}/readyz`).then((r) => r.ok, () => false), 60_000);
    const customer = await signDevToken(keys, { userId: 'bench_writer', email: 'writer@bench.example', orgId: 'org_bench' });
    const staff = await signDevToken(keys, { userId: 'bench_staff', email: 'staff@bench.example', isStaff: true });
    const call = async (token: string, pathname: string, body: unknown) => {
      const res = await fetch(`${base}${pathname}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${pathname}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    if (withEndpoint) {
      await call(staff, '/api/v1/admin/webhooks', { url: `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/hook`, events: ['*'] });
    }
    const paths: string[] = [];
    for (let i = 0; i < TICKETS; i++) {
      const { ticket_id: id } = await call(customer, '/api/v1/support/tickets', { title: `bench ${i}`, description: 'webhooks bench', type: 'bug' });
      paths.push(`/api/v1/support/tickets/${id}/comments`);
    }
    // The tickets' own events are delivered before the measured writes begin.
    await until(() => !withEndpoint || latencies.length === 0, 1000);
    const idleFrom = cpuMs(server.pid as number);
    const idleStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idlePerMs = (cpuMs(server.pid as number) - idleFrom) / (performance.now() - idleStarted);
    const cpuBefore = cpuMs(server.pid as number);
    const loadStarted = performance.now();
    const result = await load({
      url: base,
      method: 'POST',
      paths,
      once: false,
      headers: { authorization: `Bearer ${customer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'A comment from the webhooks bench.' }),
      connections: CONNECTIONS,
      seconds: SECONDS,
    });
    if (withEndpoint) await until(() => latencies.length >= result.ok, 120_000);
    const cpuUs = ((cpuMs(server.pid as number) - cpuBefore - idlePerMs * (performance.now() - loadStarted)) * 1000) / result.ok;
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      db,
      endpoint: withEndpoint,
      result,
      delivered: latencies.length,
      cpuUs,
      ...(withEndpoint ? { latency: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN } } : {}),
    };
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    receiver.close();
    if (database) {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`drop database if exists ${database} with (force)`);
      await admin.end();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const lines = [
  `Webhooks bench, ${new Date().toISOString()}: ${CONNECTIONS} connections posting comments on ${TICKETS} tickets for ${SECONDS} s, ${os.cpus().length} CPUs, Node ${process.version}`,
  '',
  '| database | comments/s, no endpoint | comments/s, one endpoint | ratio | server CPU µs/comment, none → one | delivered | latency p50 | p99 | max | load average |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const db of (args.db ?? '').split(',').filter(Boolean)) {
  log(`${db}: no endpoint`);
  const none = await runOnce(db, false);
  log(`${db}: one endpoint`);
  const one = await runOnce(db, true);
  const l = one.latency;
  lines.push(
    `| ${db} | ${none.result.rps.toFixed(0)} | ${one.result.rps.toFixed(0)} | ${(one.result.rps / none.result.rps).toFixed(2)} | ${none.cpuUs.toFixed(0)} → ${one.cpuUs.toFixed(0)} | ${one.delivered} of ${one.result.ok} | ${l?.p50} ms | ${l?.p99} ms | ${l?.max} ms | ${os.loadavg()[0]?.toFixed(1)} |`,
  );
}
process.stdout.write(`${lines.join("\n")}\n`);
