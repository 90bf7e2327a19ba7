/**
 * npx tsx bench/growth.ts [--db sqlite,postgres] [--tickets 1000000,10000000] [--times 15]
 *
 * How each operation's cost grows with the desk (issue 28's plan for 100,000,000 tickets). For
 * every database already seeded by `npm run bench` (bench/.data/<kind>-<tickets>; none is seeded
 * here), starts the built server on it and times single requests, one at a time, each right
 * after a comment, so that no answer comes from memory: a customer's list and ticket, the
 * Unassigned queue, staff searches for a rare word, a common word (its first request counts its
 * hits up to the bound; the later ones keep that count, see CountsPastBound) and two words.
 * Prints p50 and the slowest of each, in ms, with the database's size on disk. Run it on a quiet
 * machine: these are latencies, not rates against a ceiling.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadOrCreateDevKeys, signDevToken } from '../src/http/dev-keys.js';
import { freePort, waitFor } from './net.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const print = (line: string) => process.stdout.write(`${line}\n`);
const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite,postgres' },
    tickets: { type: 'string', default: '1000000,10000000' },
    times: { type: 'string', default: '15' },
  },
});
const TIMES = Number(args.times);
const PG_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const API = '/api/v1/support/tickets';
const ADMIN = '/api/v1/admin/support/tickets';

async function sizeOf(kind: string, tickets: number, dataDir: string): Promise<string> {
  if (kind === 'sqlite') {
    const bytes = fs.readdirSync(dataDir).filter((f) => f.startsWith('helpdesk.db')).reduce((sum, f) => sum + fs.statSync(path.join(dataDir, f)).size, 0);
    return `${(bytes / 1e9).toFixed(2)} GB`;
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query('select pg_database_size($1) as n', [`helpdesk_bench_${tickets}`]);
    return `${(Number(rows[0].n) / 1e9).toFixed(2)} GB`;
  } finally {
    await client.end();
  }
}

async function measure(kind: 'sqlite' | 'postgres', tickets: number): Promise<void> {
  const dataDir = path.join(ROOT, 'bench', '.data', `${kind}-${tickets}`);
  if (!fs.existsSync(path.join(dataDir, 'seeded'))) return void print(`${kind} ${tickets}: not seeded (npm run bench -- --db ${kind} --tickets ${tickets} seeds it)`);
  const url = kind === 'sqlite' ? `sqlite:${path.join(dataDir, 'helpdesk.db')}` : Object.assign(new URL(PG_URL), { pathname: `/helpdesk_bench_${tickets}` }).toString();
  const keys = await loadOrCreateDevKeys(dataDir);
  const bearer = async (who: Parameters<typeof signDevToken>[1]) => ({ authorization: `Bearer ${await signDevToken(keys, who)}` });
  const reader = await bearer({ userId: 'seed_user_0_7', email: 'user7@org0.example', orgId: 'seed_org_00000' });
  const agent = await bearer({ userId: 'seed_staff_0', email: 'agent0@helpdesk.example', isStaff: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, NODE_ENV: 'development', DATABASE_URL: url, HELPDESK_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), HELPDESK_RATE_LIMIT: '0', LOG_LEVEL: 'warn' };
  const server: ChildProcess = spawn(process.execPath, ['bin/helpdesk.js', 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await waitFor(`${base}/readyz`, 120_000);
    const call = async (method: string, p: string, who: Record<string, string>, body?: unknown) => {
      const begun = performance.now();
      const res = await fetch(`${base}${p}`, { method, headers: { ...who, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
      return { ms: performance.now() - begun, json };
    };
    const mine = ((await call('GET', `${API}?limit=100`, reader)).json.tickets as Array<{ ticket_id: string; status: string }>).find((t) => t.status !== 'closed');
    if (!mine) throw new Error('the reader has no open ticket');
    let n = 0;
    const write = () => call('POST', `${API}/${mine.ticket_id}/comments`, reader, { content: `Still waiting on the invoice (${n++}).` });
    const ops: Array<[string, string, Record<string, string>]> = [
      ['customer list', API, reader],
      ['customer ticket', `${API}/${mine.ticket_id}`, reader],
      ['queue: unassigned, by waiting_since', `${ADMIN}?assigned_to=none&status=open&status=in_progress&sort=waiting_since&limit=50`, agent],
      ['search a rare word (`gulfinfin`)', `${ADMIN}?q=gulfinfin&limit=20`, agent],
      ['search `invoice`', `${ADMIN}?q=invoice&limit=20`, agent],
      ['search `invoice refund`', `${ADMIN}?q=invoice%20refund&limit=20`, agent],
    ];
    print(`${kind} ${tickets.toLocaleString('en')} tickets, ${await sizeOf(kind, tickets, dataDir)} on disk; each after a comment, ${TIMES} times, ms:`);
    for (const [name, p, who] of ops) {
      const times: number[] = [];
      let total: unknown;
      for (let i = 0; i < TIMES; i++) {
        await write();
        const { ms, json } = await call('GET', p, who);
        times.push(ms);
        total ??= json.total;
      }
      const [first, ...rest] = times;
      rest.sort((a, b) => a - b);
      const p50 = rest[Math.floor(rest.length / 2)] ?? NaN;
      print(`  ${name.padEnd(40)} first ${first?.toFixed(1)}, then p50 ${p50.toFixed(1)}, slowest ${Math.max(...rest).toFixed(1)} (total ${String(total)})`);
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

if (!fs.existsSync(path.join(ROOT, 'dist', 'main.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
for (const kind of args.db.split(',') as Array<'sqlite' | 'postgres'>) {
  for (const tickets of args.tickets.split(',').map(Number)) await measure(kind, tickets);
}
