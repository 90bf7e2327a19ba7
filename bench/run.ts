/**
 * npm run bench [-- --quick] [--db sqlite,postgres] [--tickets N] [--seconds S] [--connections C]
 * npm run bench -- --report     (only renders latest.md from the stored runs)
 * npm run bench -- --record     (writes into the tracked bench/results/ instead of bench/.results-local/)
 * npm run bench -- --quick --writes [--name N] [--profile DIR] [--skip-build]
 *   (--writes: only the write operations, with no ceiling, reads, population, memory or storm rows, for A/B
 *    runs of the write path; --name: the PostgreSQL database and data directory are helpdesk_bench_<tickets>_N,
 *    so that two checkouts can bench side by side; --profile: the server writes V8 CPU profiles under DIR;
 *    --skip-build: run the build already there)
 * npm run bench -- --busy       (only the busy desk: staff searches and queues while comments are written)
 * npm run bench -- --quick --storm   (only the reconnect storm: a population, then 1,000 connections at once against
 *    a server just started and against a ceiling just started; prints its rows, stores nothing)
 *
 * Seeds (or reuses) a database of N tickets, starts the real server (`helpdesk serve`, built) as
 * its own process, and drives each operation with autocannon from a third process. In the same
 * run a ceiling server (bare Fastify answering with the very bytes the real server sent, from
 * memory) takes the same load, so every figure is also a ratio. Writes JSON and a Markdown
 * table per database under bench/.results-local/ (ignored by git), or bench/results/ with --record.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadOrCreateDevKeys, signDevToken } from '../src/http/dev-keys.js';
import type { LoadResult, LoadSpec } from './load.js';
import { freePort, waitFor } from './net.js';
import { makePopulation, strangers } from './population.js';
import { cpuMs } from './proc.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    record: { type: 'boolean', default: false },
    db: { type: 'string', default: 'sqlite,postgres' },
    tickets: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string', default: '50' },
    report: { type: 'boolean', default: false },
    writes: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    name: { type: 'string' },
    profile: { type: 'string' },
    busy: { type: 'boolean', default: false },
    storm: { type: 'boolean', default: false },
  },
});
const TICKETS = Number(args.tickets ?? (args.quick ? 100_000 : 1_000_000));
const SECONDS = Number(args.seconds ?? (args.quick ? 3 : 10));
const CONNECTIONS = Number(args.connections);
/** Customers in the realistic population, and distinct users for the memory bound. */
const POPULATION = args.quick ? 2_000 : 10_000;
const STRANGERS = args.quick ? 20_000 : 100_000;
/** Connections of the reconnect storm. */
const STORM = 1_000;
/** The busy desk: one comment written every this many ms while each staff query is measured. */
const WRITE_EVERY_MS = 25;
const ADMIN_PATH = '/api/v1/admin/support/tickets';
/**
 * The busy desk's staff queries (issues 28 and 30): a common word (in 23% of the seeded tickets)
 * alone and within the open queue, a rare word (a made-up name of the vocabulary's tail, in 454 seeded tickets), a
 * prefix that begins two common words (`invoice`, `invite`), two words together (4%), and the
 * Unassigned view the dashboard opens on, sorted by how long the customer has waited.
 */
const BUSY_QUERIES: Array<[string, string]> = [
  ['search `invoice`', `${ADMIN_PATH}?q=invoice&limit=20`],
  ['search `invoice`, status=open', `${ADMIN_PATH}?q=invoice&status=open&limit=20`],
  ['search a rare word (`gulfinfin`)', `${ADMIN_PATH}?q=gulfinfin&limit=20`],
  ['search a prefix (`inv`)', `${ADMIN_PATH}?q=inv&limit=20`],
  ['search two words (`invoice refund`)', `${ADMIN_PATH}?q=invoice%20refund&limit=20`],
  ['queue: unassigned, unsolved, by waiting_since', `${ADMIN_PATH}?assigned_to=none&status=open&status=in_progress&sort=waiting_since&limit=50`],
];
const PG_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const API = '/api/v1/support/tickets';
const ADMIN = '/api/v1/admin/support/tickets';

// Who the load runs as: a seeded customer of the biggest tenant (reads), a customer who writes,
// and a seeded support agent.
const reader = { userId: 'seed_user_0_7', email: 'user7@org0.example', orgId: 'seed_org_00000' };
const writer = { userId: 'bench_writer', email: 'writer@org0.example', orgId: 'seed_org_00000' };
const agent = { userId: 'seed_staff_0', email: 'agent0@helpdesk.example', isStaff: true };

interface OpResult {
  name: string;
  server: LoadResult;
  ceiling: LoadResult;
  ratio: number;
  rssMb: number;
  bytes: number;
}

/** A staff query measured on a busy desk: comments arriving all the while from another connection. */
interface BusyRow {
  name: string;
  path: string;
  server: LoadResult;
  ceiling: LoadResult;
  ratio: number;
  /** The comments written meanwhile: how many were acknowledged, failed, and their p99 (ms). */
  writes: { ok: number; failed: number; p99: number };
  /** The machine's 1-minute load average as the row started and ended. */
  load: [number, number];
  /** What the sampled answer said: its total, and whether that is a lower bound. */
  total: number;
  lowerBound: boolean;
}

function log(message: string) {
  console.error(`[bench] ${message}`);
}

/** CPU time the whole machine has spent busy so far (every core, steal included), in ms. */
function machineBusyMs(): number {
  const [, user, nice, system, , , irq, softirq, steal] = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10; // ticks of 10 ms
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * CPU time the server and, on PostgreSQL, its database's server processes (on this machine) have
 * used so far, in ms: what an operation costs the machine, which moves less than its rate when
 * other work shares the machine.
 */
async function databaseCpuMs(serverPid: number, databaseUrl: string): Promise<{ server: number; database: number }> {
  const server = cpuMs(serverPid);
  let database = 0;
  if (databaseUrl.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      for (const { pid } of rows) database += cpuMs(pid);
    } finally {
      await client.end();
    }
  }
  return { server, database };
}

/** Prepares the database: reused when it already holds the tickets, else created and seeded. */
async function prepareDatabase(kind: 'sqlite' | 'postgres', dataDir: string): Promise<{ url: string; seed: string }> {
  const env = { ...process.env, HELPDESK_DATA_DIR: dataDir, NODE_ENV: 'development' };
  let url: string;
  if (kind === 'sqlite') {
    url = `sqlite:${path.join(dataDir, 'helpdesk.db')}`;
    if (fs.existsSync(path.join(dataDir, 'seeded'))) return { url, seed: fs.readFileSync(path.join(dataDir, 'seeded'), 'utf8') };
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true });
  } else {
    const name = `helpdesk_bench_${TICKETS}${args.name ? `_${args.name}` : ''}`;
    url = Object.assign(new URL(PG_URL), { pathname: `/${name}` }).toString();
    fs.mkdirSync(dataDir, { recursive: true });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const exists = (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
      if (exists && fs.existsSync(path.join(dataDir, 'seeded'))) return { url, seed: fs.readFileSync(path.join(dataDir, 'seeded'), 'utf8') };
      await admin.query(`drop database if exists ${name}`);
      await admin.query(`create database ${name}`);
    } finally {
      await admin.end();
    }
  }
  log(`seeding ${TICKETS} tickets on ${kind}…`);
  const child = spawnSync(
    process.execPath,
    ['bin/helpdesk.js', 'seed', '--tickets', String(TICKETS), '--tenants', '200', '--comments-per-ticket', '2', '--seed', '1'],
    { cwd: ROOT, env: { ...env, DATABASE_URL: url }, encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(`seed failed:\n${child.stderr}`);
  const seed = child.stderr.trim().split('\n').pop() ?? '';
  fs.writeFileSync(path.join(dataDir, 'seeded'), seed);
  return { url, seed };
}

function startProcess(command: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, command, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') log(`${command.join(' ')} exited ${code ?? signal}:\n${tail}`);
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  // Gone already: by its own exit, or by a signal (then exitCode stays null).
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** The load generator (bench/load.ts): one process for the whole run, fed one LoadSpec per line. */
class LoadGenerator {
  readonly #child = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  readonly #results = readline.createInterface({ input: this.#child.stdout as Readable })[Symbol.asyncIterator]();
  readonly #exited = once(this.#child, 'exit').catch((error: unknown) => [null, String(error)]);

  constructor() {
    // A generator that died is reported by run(), not by a write to its closed stdin.
    this.#child.stdin?.on('error', () => {});
  }

  async run(spec: LoadSpec): Promise<LoadResult> {
    this.#child.stdin?.write(`${JSON.stringify(spec)}\n`);
    const line = await this.#results.next();
    if (line.done) {
      const [code, signal] = (await this.#exited) as [number | null, string | null];
      throw new Error(`load generator exited ${code ?? signal}`);
    }
    return JSON.parse(line.value) as LoadResult;
  }

  close(): void {
    this.#child.stdin?.end();
  }
}

let generator: LoadGenerator | undefined;

/** Drives one load; with `pid`, also the peak RSS of that process meanwhile. */
async function runLoad(spec: LoadSpec, pid?: number): Promise<{ result: LoadResult; rssMb: number }> {
  generator ??= new LoadGenerator();
  let peak = pid === undefined ? 0 : rssMb(pid);
  const sampler = pid === undefined ? undefined : setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
  try {
    return { result: await generator.run(spec), rssMb: peak };
  } finally {
    clearInterval(sampler);
  }
}

async function benchDatabase(kind: 'sqlite' | 'postgres') {
  const dataDir = path.join(ROOT, 'bench', '.data', `${kind}-${TICKETS}${args.name ? `-${args.name}` : ''}`);
  const { url, seed } = await prepareDatabase(kind, dataDir);
  const keys = await loadOrCreateDevKeys(dataDir);
  const bearer = async (who: Parameters<typeof signDevToken>[1]) => ({ authorization: `Bearer ${await signDevToken(keys, who)}` });
  const headers = { reader: await bearer(reader), writer: await bearer(writer), agent: await bearer(agent) };

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const profile = args.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(args.profile, kind)] : [];
  const server = startProcess([...profile, 'bin/helpdesk.js', 'serve'], {
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: url,
    HELPDESK_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    HELPDESK_RATE_LIMIT: '0',
  });
  const ceilingPort = await freePort();
  const ceilingUrl = `http://127.0.0.1:${ceilingPort}`;
  let ceiling: ChildProcess | undefined;
  try {
    await waitFor(`${base}/readyz`, 120_000);
    const readyMs = performance.now() - started;
    log(`${kind}: server ready in ${readyMs.toFixed(0)} ms`);
    // Only now: started together, the ceiling (compiled by tsx as it loads) took CPU from the
    // server's start (ready in 2.5 s after a seed, against 1.9 s for the same start alone).
    ceiling = startProcess(['--import', 'tsx', 'bench/ceiling.ts'], { ...process.env, PORT: String(ceilingPort) });
    await waitFor(`${ceilingUrl}/ready`, 30_000);
    const idleRssMb = rssMb(server.pid as number);

    const call = async (method: string, p: string, who: Record<string, string>, body?: unknown) => {
      const res = await fetch(`${base}${p}`, {
        method,
        headers: { ...who, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
      return { res, text, json: JSON.parse(text) as Record<string, unknown> };
    };

    // A ticket with ten comments for the detail operation.
    const detailTicket = (await call('POST', API, headers.reader, { title: 'Export to CSV fails', description: 'The export button spins forever.', type: 'bug' })).json;
    for (let i = 0; i < 10; i++) await call('POST', `${API}/${detailTicket.ticket_id}/comments`, headers.reader, { content: `Still happening, attempt ${i + 1}: the export of our monthly invoices times out.` });

    // Lets requests still queued in the server (and its database) drain before the next
    // operation starts: /readyz runs a query, so it is quick only once they have.
    const settle = async () => {
      for (let i = 0; i < 600; i++) {
        const started = performance.now();
        const ready = (await fetch(`${base}/readyz`)).ok;
        if (ready && performance.now() - started < 20) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // Waits, sending nothing, until the machine is idle. Once idle for 500 ms SQLite's server
    // merges its search index (search-maintenance.ts) for as long as earlier writes left
    // segments: on a reused bench database, 0.85-1.1 s of CPU every 2 s for its first 8 s. The
    // ceiling measured meanwhile shared the machine with it (11,000-13,000 requests/s where
    // it serves 21,000-24,000), which made the first operations' ratios read above 1. The whole
    // machine is watched, not only the server: the database server has its own work.
    const quiet = async () => {
      for (let i = 0; i < 20; i++) {
        const before = machineBusyMs();
        await new Promise((r) => setTimeout(r, 1_600));
        if (machineBusyMs() - before <= 50 * os.cpus().length) return;
      }
      log(`${kind}: the machine did not go idle in 32 s; measuring the ceiling anyway`);
    };
    const results: OpResult[] = [];
    const measure = async (name: string, spec: Omit<LoadSpec, 'url' | 'connections' | 'seconds'>, capture: { method: string; path: string; who: Record<string, string>; body?: unknown }) => {
      // The bytes the real server answers this operation with, for the ceiling to send.
      // A cold query may outlast the database's statement timeout once (PostgreSQL search).
      const sample = await call(capture.method, capture.path, capture.who, capture.body).catch(async (error: unknown) => {
        log(`${kind}: ${name}: capture failed (${String(error).slice(0, 120)}), once more`);
        await settle();
        return call(capture.method, capture.path, capture.who, capture.body);
      });
      const replayed = Object.fromEntries([...sample.res.headers].filter(([h]) => !['date', 'content-length', 'connection', 'keep-alive', 'transfer-encoding'].includes(h)));
      await fetch(`${ceilingUrl}/__ceiling`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status: sample.res.status, headers: replayed, body: sample.text }),
      });
      const common = { connections: CONNECTIONS, seconds: SECONDS };
      const warm = spec.once ? undefined : await runLoad({ ...spec, ...common, url: base, seconds: 1 });
      const cpuBefore = await databaseCpuMs(server.pid as number, url);
      const real = await runLoad({ ...spec, ...common, url: base }, server.pid);
      const cpuAfter = await databaseCpuMs(server.pid as number, url);
      const perRequest = (ms: number) => (ms * 1000) / Math.max(1, real.result.ok);
      const [serverUs, databaseUs] = [perRequest(cpuAfter.server - cpuBefore.server), perRequest(cpuAfter.database - cpuBefore.database)];
      const cpuUs = serverUs + databaseUs;
      await settle(); // or the ceiling would share the machine with a server still at work
      let bare = real;
      if (!args.writes) {
        await quiet();
        if (!spec.once) await runLoad({ ...spec, ...common, url: ceilingUrl, seconds: 1 });
        bare = await runLoad({ ...spec, ...common, url: ceilingUrl });
        await settle();
      }
      const op = { name, server: real.result, ceiling: bare.result, ratio: real.result.rps / bare.result.rps, rssMb: real.rssMb, bytes: Buffer.byteLength(sample.text) };
      results.push(op);
      log(`${kind}: ${name}: ${op.server.rps.toFixed(0)} req/s (ceiling ${op.ceiling.rps.toFixed(0)}, ×${op.ratio.toFixed(2)}), p50 ${op.server.p50} ms, p99 ${op.server.p99} ms, failed ${op.server.failed}, CPU ${cpuUs.toFixed(0)} µs each (${kind === 'postgres' ? `server ${serverUs.toFixed(0)} + database ${databaseUs.toFixed(0)}` : 'server'})`);
      // Every 2xx the server sent for this operation: the capture, the warm-up and the run.
      return { acknowledged: 1 + (warm?.result.ok ?? 0) + real.result.ok };
    };
    const get = (paths: string[], who: Record<string, string>) => ({ method: 'GET', paths, once: false, headers: who });

    // The busy desk: each staff query under load while a comment arrives every WRITE_EVERY_MS
    // from another connection (customers of the big tenant on their own tickets), so that
    // nearly every query misses the staff cache and goes to the database. The ceiling is
    // measured afterwards, with the writes stopped.
    const writers = await Promise.all(Array.from({ length: 20 }, (_, i) => bearer({ userId: `seed_user_0_${i}`, email: `user${i}@org0.example`, orgId: 'seed_org_00000' })));
    const targets: Array<{ id: string; who: Record<string, string> }> = [];
    for (const who of writers) {
      // Closed tickets take no comments (409): only the others, so that every write changes the desk.
      const page = (await call('GET', `${API}?limit=100`, who)).json.tickets as Array<{ ticket_id: string; status: string }>;
      targets.push(...page.filter((t) => t.status !== 'closed').map((t) => ({ id: t.ticket_id, who })));
    }
    const startWriter = () => {
      let n = 0;
      let inFlight = 0;
      const times: number[] = [];
      let failed = 0;
      const timer = setInterval(() => {
        // A write slower than the interval overlaps the next; more than 20 at once is a stall.
        if (inFlight >= 20) return void failed++;
        const target = targets[n++ % targets.length] as (typeof targets)[number];
        const begun = performance.now();
        inFlight++;
        fetch(`${base}${API}/${target.id}/comments`, {
          method: 'POST',
          headers: { ...target.who, 'content-type': 'application/json' },
          body: JSON.stringify({ content: `Any news on the invoice? Asking again (${n}).` }),
        })
          .then(async (res) => {
            await res.arrayBuffer();
            if (res.status === 201) times.push(performance.now() - begun);
            else failed++;
          }, () => failed++)
          .finally(() => inFlight--);
      }, WRITE_EVERY_MS);
      return async () => {
        clearInterval(timer);
        while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
        times.sort((a, b) => a - b);
        return { ok: times.length, failed, p99: times[Math.floor(times.length * 0.99)] ?? 0 };
      };
    };
    const busyDesk = async (): Promise<BusyRow[]> => {
      const rows: BusyRow[] = [];
      for (const [name, p] of BUSY_QUERIES) {
        await settle();
        const sample = await call('GET', p, headers.agent);
        await fetch(`${ceilingUrl}/__ceiling`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            status: sample.res.status,
            headers: Object.fromEntries([...sample.res.headers].filter(([h]) => !['date', 'content-length', 'connection', 'keep-alive', 'transfer-encoding'].includes(h))),
            body: sample.text,
          }),
        });
        const spec = { ...get([p], headers.agent), connections: CONNECTIONS, seconds: SECONDS };
        const loadBefore = os.loadavg()[0] as number;
        const stopWriter = startWriter();
        await runLoad({ ...spec, url: base, seconds: 1 });
        const real = await runLoad({ ...spec, url: base }, server.pid);
        const writes = await stopWriter();
        const loadAfter = os.loadavg()[0] as number;
        await settle();
        await quiet();
        await runLoad({ ...spec, url: ceilingUrl, seconds: 1 });
        const bare = await runLoad({ ...spec, url: ceilingUrl });
        const row: BusyRow = {
          name,
          path: p,
          server: real.result,
          ceiling: bare.result,
          ratio: real.result.rps / bare.result.rps,
          writes,
          load: [loadBefore, loadAfter],
          total: sample.json.total as number,
          lowerBound: sample.json.total_is_lower_bound === true,
        };
        rows.push(row);
        log(
          `${kind}: busy ${name}: ${row.server.rps.toFixed(0)} req/s (ceiling ${row.ceiling.rps.toFixed(0)}, ×${row.ratio.toFixed(2)}), p50 ${row.server.p50} ms, p99 ${row.server.p99} ms, failed ${row.server.failed}; ` +
            `${writes.ok} comments (p99 ${writes.p99.toFixed(0)} ms, failed ${writes.failed}); load ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)}`,
        );
      }
      return rows;
    };
    if (args.busy) return { kind, tickets: TICKETS, seed, readyMs, idleRssMb, results, alone: [], durability: undefined, memory: undefined, storm: undefined, busy: await busyDesk() };
    if (args.storm) {
      const population = await makePopulation(keys, call, API, POPULATION, `${Date.now()}`);
      log(`${kind}: population of ${population.all.length} customers, ${population.tickets} tickets`);
      await stop(server);
      if (ceiling) await stop(ceiling);
      const storm = await coldStart(kind, population.all, { DATABASE_URL: url, HELPDESK_DATA_DIR: dataDir });
      return { kind, tickets: TICKETS, seed, readyMs, idleRssMb, results, alone: [], durability: undefined, memory: undefined, storm, busy: [] };
    }

    const alone: Array<{ query: string; p50: number; max: number }> = [];
    let everyone: Array<Record<string, string>> = [];
    let busy: BusyRow[] = [];
    if (!args.writes) {
    // Twenty customers of the big tenant at once, each asking for their list four ways.
    const customers = await Promise.all(Array.from({ length: 20 }, (_, i) => bearer({ userId: `seed_user_0_${i}`, email: `user${i}@org0.example`, orgId: 'seed_org_00000' })));
    const lists = [API, `${API}?status=open`, `${API}?type=bug`, `${API}?limit=10&offset=10`];
    await measure('user list (filters, 20 customers)', { ...get(lists, headers.reader), rotate: customers }, { method: 'GET', path: API, who: headers.reader });

    // Customers as a SaaS has them (bench/population.ts): 90% never filed a ticket.
    const population = await makePopulation(keys, call, API, POPULATION, `${Date.now()}`);
    log(`${kind}: population of ${population.all.length} customers, ${population.tickets} tickets`);
    everyone = population.all;
    const listOf = (who: Array<Record<string, string>>) => ({ ...get([API], who[0] as Record<string, string>), rotate: who });
    // The population's tickets were just written: the server's search index merge and checkpoint
    // run once writes stop, and would take CPU from the next rows.
    await settle();
    await quiet();
    await measure('user list, no tickets (20 customers)', listOf(population.none.slice(0, 20)), { method: 'GET', path: API, who: population.none[0] as Record<string, string> });
    await measure('user list, one ticket (20 customers)', listOf(population.one.slice(0, 20)), { method: 'GET', path: API, who: population.one[0] as Record<string, string> });
    // Warm: each customer has been seen once (the storm below measures the first visit).
    await runLoad({ ...listOf(population.all), url: base, connections: CONNECTIONS, seconds: SECONDS, amount: population.all.length });
    await measure(`user list, population (${population.all.length} customers)`, listOf(population.all), { method: 'GET', path: API, who: population.all[0] as Record<string, string> });
    const detailPath = `${API}/${detailTicket.ticket_id}`;
    await measure('ticket detail (10 comments)', get([detailPath], headers.reader), { method: 'GET', path: detailPath, who: headers.reader });
    const queue = [`${ADMIN}?status=open&assigned_to=none`, `${ADMIN}?assigned_to=seed_staff_0&status=in_progress`, `${ADMIN}?tenant_id=seed_org_00000&status=open&sort=-priority`, ADMIN];
    await measure('staff queue (filters, total)', get(queue, headers.agent), { method: 'GET', path: queue[0] as string, who: headers.agent });
    const search = [`${ADMIN}?q=invoice%20refund`, `${ADMIN}?q=webhook&status=open`, `${ADMIN}?q=sso%20login%20timeout`, `${ADMIN}?q=kalomi`];
    await measure('staff search (q)', get(search, headers.agent), { method: 'GET', path: search[0] as string, who: headers.agent });
    busy = await busyDesk();

    // The same staff queries one at a time, as a lone agent would send them: how long each
    // kind of query takes by itself, which the mixed figures above average over. A comment
    // before each makes the desk change, so none is answered from the queue cache (on SQLite
    // the loaded figures above are: nothing changes while they run).
    await settle();
    for (const p of [...queue, ...search]) {
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        await call('POST', `${API}/${detailTicket.ticket_id}/comments`, headers.reader, { content: 'Is anyone looking at this?' });
        const begun = performance.now();
        await call('GET', p, headers.agent);
        times.push(performance.now() - begun);
      }
      times.sort((a, b) => a - b);
      alone.push({ query: p.slice(ADMIN.length) || '(no filter)', p50: times[15] as number, max: times[29] as number });
    }
    }

    // Writes. The tickets made by `create` are then commented on, triaged and closed.
    const before = (await call('GET', API, headers.writer)).json.total as number;
    const body = { title: 'Invoice PDF shows the wrong VAT number', description: 'Since the last update our invoices show the old VAT number.', type: 'billing' };
    const created = await measure('create ticket', { method: 'POST', paths: [API], once: false, headers: { ...headers.writer, 'content-type': 'application/json' }, body: JSON.stringify(body) }, { method: 'POST', path: API, who: headers.writer, body });
    const after = (await call('GET', API, headers.writer)).json.total as number;
    const ids: string[] = [];
    for (let offset = 0; offset < after - before; offset += 100) {
      const page = (await call('GET', `${ADMIN}?created_by=${writer.userId}&tenant_id=${writer.orgId}&status=open&sort=created_at&limit=100&offset=${offset}`, headers.agent)).json;
      ids.push(...(page.tickets as Array<{ ticket_id: string }>).map((t) => t.ticket_id));
    }
    const comment = { content: 'Any update on this? Our accountant is waiting.' };
    await measure('add comment', { method: 'POST', paths: ids.slice(1).map((id) => `${API}/${id}/comments`), once: false, headers: { ...headers.writer, 'content-type': 'application/json' }, body: JSON.stringify(comment) }, { method: 'POST', path: `${API}/${ids[0]}/comments`, who: headers.writer, body: comment });
    const triage = { priority: 'high' };
    await measure('staff PATCH', { method: 'PATCH', paths: ids.slice(1).map((id) => `${ADMIN}/${id}`), once: true, headers: { ...headers.agent, 'content-type': 'application/json' }, body: JSON.stringify(triage) }, { method: 'PATCH', path: `${ADMIN}/${ids[0]}`, who: headers.agent, body: triage });
    const closedBefore = (await call('GET', `${API}?status=closed`, headers.writer)).json.total as number;
    const closed = await measure('close ticket', { method: 'POST', paths: ids.slice(1).map((id) => `${API}/${id}/close`), once: true, headers: headers.writer }, { method: 'POST', path: `${API}/${ids[0]}/close`, who: headers.writer });
    const closedAfter = (await call('GET', `${API}?status=closed`, headers.writer)).json.total as number;
    const durability = {
      created: { acknowledged: created.acknowledged, found: after - before },
      closed: { acknowledged: closed.acknowledged, found: closedAfter - closedBefore },
    };

    if (args.writes) return { kind, tickets: TICKETS, seed, readyMs, idleRssMb, results, alone, durability };
    // Memory with many distinct users: each verified once (the token cache is bounded) and
    // each with a cached empty list (the response cache is bounded in bytes).
    await settle();
    const beforeStrangersMb = rssMb(server.pid as number);
    const crowd = await strangers(keys, STRANGERS, `${Date.now()}`);
    const flood = await runLoad({ method: 'GET', paths: [API], once: false, headers: {}, rotate: crowd, amount: crowd.length, connections: CONNECTIONS, seconds: SECONDS, url: base }, server.pid);
    const memory = { users: crowd.length, beforeMb: beforeStrangersMb, peakMb: flood.rssMb, afterMb: rssMb(server.pid as number), failed: flood.result.failed };
    log(`${kind}: ${crowd.length} distinct users: RSS ${beforeStrangersMb.toFixed(0)} -> peak ${flood.rssMb.toFixed(0)} MB, failed ${flood.result.failed}`);

    // A reconnect storm: 1,000 connections at once against a server that just started, and
    // against a ceiling that just started, each with the population's tokens in turn.
    await stop(server);
    if (ceiling) await stop(ceiling);
    const storm = await coldStart(kind, everyone, { DATABASE_URL: url, HELPDESK_DATA_DIR: dataDir });
    return { kind, tickets: TICKETS, seed, readyMs, idleRssMb, results, alone, durability, memory, storm, busy };
  } finally {
    await stop(server);
    if (ceiling) await stop(ceiling);
  }
}

/** Starts a fresh server and a fresh ceiling in turn, each hit at once by STORM connections. */
async function coldStart(kind: string, who: Array<Record<string, string>>, env: Record<string, string>): Promise<{ server: LoadResult; ceiling: LoadResult }> {
  const spec = { method: 'GET', paths: [API], once: false, headers: {}, rotate: who, connections: STORM, seconds: SECONDS };
  const port = await freePort();
  const profile = args.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(args.profile, `${kind}-storm`)] : [];
  const server = startProcess([...profile, 'bin/helpdesk.js', 'serve'], { ...process.env, ...env, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), HELPDESK_RATE_LIMIT: '0' });
  let result: LoadResult;
  try {
    await waitFor(`http://127.0.0.1:${port}/readyz`, 120_000);
    result = (await runLoad({ ...spec, url: `http://127.0.0.1:${port}` }, server.pid)).result;
  } finally {
    await stop(server);
  }
  const ceilingPort = await freePort();
  const ceiling = startProcess(['--import', 'tsx', 'bench/ceiling.ts'], { ...process.env, PORT: String(ceilingPort) });
  try {
    await waitFor(`http://127.0.0.1:${ceilingPort}/ready`, 30_000);
    const bare = (await runLoad({ ...spec, url: `http://127.0.0.1:${ceilingPort}` })).result;
    log(
      `${kind}: cold start, ${STORM} connections: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms, errors ${result.errors}, timeouts ${result.timeouts} ` +
        `(ceiling ${bare.rps.toFixed(0)} req/s, p50 ${bare.p50} ms, p99 ${bare.p99} ms, max ${bare.max} ms)`,
    );
    return { server: result, ceiling: bare };
  } finally {
    await stop(ceiling);
  }
}

type DatabaseRun = Awaited<ReturnType<typeof benchDatabase>>;

function machine() {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()}` };
}

/** A stored run, as written to bench/results/<database>-<tickets>[-quick].json. */
type StoredRun = DatabaseRun & { when: string; machine: ReturnType<typeof machine>; connections: number; seconds: number };

function markdown(run: StoredRun): string {
  const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const lines = [
    `### ${run.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${n(run.tickets)} tickets (${run.when} UTC)`,
    '',
    `${Object.values(run.machine).join(', ')}; ${run.connections} connections, ${run.seconds} s per operation.`,
    `Seed: ${run.seed.trim() || 'reused'}. Ready to serve ${n(run.readyMs)} ms after start; idle RSS ${n(run.idleRssMb)} MB.`,
    '',
    '| operation | req/s | p50 ms | p99 ms | ceiling req/s | ceiling p99 ms | × ceiling | failed | peak RSS MB | body bytes |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...run.results.map(
      (r) =>
        `| ${r.name} | ${n(r.server.rps)} | ${n(r.server.p50)} | ${n(r.server.p99)} | ${n(r.ceiling.rps)} | ${n(r.ceiling.p99)} | ${n(r.ratio, 2)} | ${r.server.failed} | ${n(r.rssMb)} | ${n(r.bytes)} |`,
    ),
    '',
    'Staff queries one at a time, each after a write (not from the cache; 30 each, ms): ' + run.alone.map((a) => `\`${a.query}\` p50 ${n(a.p50, 1)}, max ${n(a.max, 1)}`).join('; ') + '.',
    '',
    ...(run.durability
      ? [
          `Durability: ${n(run.durability.created.acknowledged)} creates acknowledged, ${n(run.durability.created.found)} found afterwards; ` +
            `${n(run.durability.closed.acknowledged)} closes acknowledged, ${n(run.durability.closed.found)} found closed.`,
        ]
      : []),
    ...(run.memory
      ? ['', `Memory: ${n(run.memory.users)} distinct users, one list each: RSS ${n(run.memory.beforeMb)} MB before, ${n(run.memory.peakMb)} MB at most, ${n(run.memory.afterMb)} MB after; ${run.memory.failed} failed.`]
      : []),
    ...(run.storm
      ? [
          '',
          `Cold start, ${STORM} connections at once, each request a population customer's list: ${n(run.storm.server.rps)} req/s, p50 ${n(run.storm.server.p50)} ms, p99 ${n(run.storm.server.p99)} ms, slowest ${n(run.storm.server.max)} ms, ` +
            `${run.storm.server.errors} errors, ${run.storm.server.timeouts} timeouts; the ceiling started cold: ${n(run.storm.ceiling.rps)} req/s, p99 ${n(run.storm.ceiling.p99)} ms, slowest ${n(run.storm.ceiling.max)} ms, ${run.storm.ceiling.errors + run.storm.ceiling.timeouts} errors or timeouts.`,
        ]
      : []),
  ];
  return lines.join('\n');
}

/** The busy desk's rows of each database side by side, with each one's ceiling in the same run. */
function busyMarkdown(runs: StoredRun[]): string {
  const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const withBusy = runs.filter((run) => run.busy !== undefined && run.busy.length > 0);
  if (withBusy.length === 0) return '';
  const names = [...new Set(withBusy.flatMap((run) => (run.busy ?? []).map((row) => row.name)))];
  const title = (run: StoredRun) => `${run.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ${run.when}`;
  const cells = (row: BusyRow | undefined) =>
    row === undefined ? ' | | | ' : `${n(row.server.rps)} | ${n(row.server.p99)} | ${n(row.ratio, 2)} | ${n(row.ceiling.rps)} (${n(row.ceiling.p99)})`;
  return [
    `### Busy desk, ${n(withBusy[0]?.tickets ?? 0)} tickets: a comment every ${WRITE_EVERY_MS} ms while each staff query runs`,
    '',
    `${withBusy.map((run) => `${title(run)}: ${run.connections} connections, ${run.seconds} s per query`).join('; ')}.`,
    '',
    `| query | ${withBusy.map((run) => `${title(run)} req/s | p99 ms | × ceiling | ceiling req/s (p99 ms)`).join(' | ')} |`,
    `|---|${withBusy.map(() => '--:|--:|--:|--:|').join('')}`,
    ...names.map((name) => `| ${name} | ${withBusy.map((run) => cells((run.busy ?? []).find((row) => row.name === name))).join(' | ')} |`),
    '',
    ...withBusy.map(
      (run) =>
        `${title(run)}: ` +
        (run.busy ?? [])
          .map((row) => `${row.name}: total ${n(row.total)}${row.lowerBound ? '+' : ''}, ${n(row.writes.ok)} comments (p99 ${n(row.writes.p99)} ms, ${row.writes.failed} failed), load ${n(row.load[0], 1)}→${n(row.load[1], 1)}`)
          .join('; ') +
        '.',
    ),
  ].join('\n');
}

if (!args.report && !args['skip-build']) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
// A local run must not dirty the checkout: only --record writes the tracked results.
const resultsDir = path.join(ROOT, 'bench', args.record ? 'results' : '.results-local');
fs.mkdirSync(resultsDir, { recursive: true });
const suffix = `${args.quick ? '-quick' : ''}${args.busy ? '-busy' : ''}`;
for (const kind of (args.report ? [] : (args.db ?? '').split(',').map((d) => d.trim())) as Array<'sqlite' | 'postgres'>) {
  const run: StoredRun = { when, machine: machine(), connections: CONNECTIONS, seconds: SECONDS, ...(await benchDatabase(kind)) };
  if (args.storm) continue;
  fs.writeFileSync(path.join(resultsDir, `${kind}-${TICKETS}${suffix}.json`), `${JSON.stringify(run, null, 2)}\n`);
}
generator?.close();
if (args.storm) process.exit(0);
// The latest run of each database at this size, this one's figures included.
const stored = ['sqlite', 'postgres']
  .map((kind) => path.join(resultsDir, `${kind}-${TICKETS}${suffix}.json`))
  .filter((file) => fs.existsSync(file))
  .map((file) => JSON.parse(fs.readFileSync(file, 'utf8')) as StoredRun);
const table = [...(args.busy ? [] : stored.map(markdown)), busyMarkdown(stored)].filter((part) => part !== '').join('\n\n');
fs.writeFileSync(path.join(resultsDir, `latest${suffix}.md`), `${table}\n`);
process.stdout.write(`${table}\n`);
