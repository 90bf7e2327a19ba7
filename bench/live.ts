/**
 * Live streams under load: one server process (`helpdesk serve`, SQLite or PostgreSQL) holding
 * STREAMS open Server-Sent Events streams from this process, half staff streams (every event) and
 * half customer streams (five per customer). Reports the server's RSS with none and with all open,
 * how long a comment takes to reach every stream that carries it (p50/p99 over all deliveries),
 * and create+comment throughput with no stream open and with all open, in the same run.
 *
 *   npx tsx bench/live.ts [--streams 2000] [--comments 20] [--seconds 10] [--workers 8] [--database postgres://…]
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrCreateDevKeys, signDevToken } from '../src/http/dev-keys.js';
import { cliEnv, startServer } from '../test/processes.js';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '2000' },
    comments: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
    workers: { type: 'string', default: '8' },
    database: { type: 'string' },
  },
});
const STREAMS = Number(values.streams);
const COMMENTS = Number(values.comments);
const SECONDS = Number(values.seconds);
const WORKERS = Number(values.workers);

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-live-bench-'));
const keys = await loadOrCreateDevKeys(dir);
const env = cliEnv({
  HELPDESK_DATA_DIR: dir,
  ...(values.database ? { DATABASE_URL: values.database } : {}),
  HELPDESK_RATE_LIMIT: '0',
  HELPDESK_LIVE_STREAMS_PER_INSTANCE: String(STREAMS + 100),
  LOG_LEVEL: 'info',
});
const server = await startServer(env);
const base = server.url;
const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS * 2 });

const token = (id: string, staff: boolean) =>
  signDevToken(keys, { userId: id, email: `${id}@bench.test`, orgId: staff ? 'org_desk' : `org_${id}`, isStaff: staff, issuer: undefined, authorizedParty: undefined });

function call(method: string, url: string, bearer: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(`${base}${url}`, { method, agent, headers: { authorization: `Bearer ${bearer}`, ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    request.on('error', reject);
    request.end(payload);
  });
}

/** The server process's resident memory, MB. */
async function rssMb(): Promise<number> {
  const status = await fs.readFile(`/proc/${server.child.pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

/** CPU time the server process has used so far, ms (user + system, from /proc). */
async function serverCpuMs(): Promise<number> {
  const fields = (await fs.readFile(`/proc/${server.child.pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * Creates a ticket and comments on it, from WORKERS loops, for SECONDS: operations per second,
 * and the server's CPU time per operation (this process shares the machine's cores with it).
 */
async function throughput(customer: string): Promise<{ ops_per_s: number; server_cpu_ms_per_op: number }> {
  const cpuBefore = await serverCpuMs();
  const end = Date.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (Date.now() < end) {
        const created = await call('POST', '/api/v1/support/tickets', customer, { title: 'Load', description: 'Under load', type: 'bug' });
        if (created.status !== 201) throw new Error(`create: ${created.status}`);
        const comment = await call('POST', `/api/v1/support/tickets/${String(created.body.ticket_id)}/comments`, customer, { content: 'more' });
        if (comment.status !== 201) throw new Error(`comment: ${comment.status}`);
        done += 2;
      }
    }),
  );
  const cpu = (await serverCpuMs()) - cpuBefore;
  return { ops_per_s: Math.round(done / SECONDS), server_cpu_ms_per_op: Math.round((cpu / done) * 100) / 100 };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

try {
  const loadCustomer = await token('load_customer', false);
  await call('GET', '/api/v1/support/tickets', loadCustomer);
  const rssIdle = await rssMb();
  const withoutStreams = await throughput(loadCustomer);

  // Half staff streams, half customer streams (five per customer, the default cap).
  const staffCount = Math.floor(STREAMS / 2);
  const customers = Math.ceil((STREAMS - staffCount) / 5);
  const arrivals = new Map<string, number[]>();
  const sockets: http.ClientRequest[] = [];
  let opened = 0;
  const open = (bearer: string) =>
    new Promise<void>((resolve, reject) => {
      const request = http.get(`${base}/api/v1/${bearer.startsWith('staff:') ? 'admin/support/' : 'support/'}events/stream`, {
        agent: false,
        headers: { authorization: `Bearer ${bearer.replace(/^staff:/, '')}`, accept: 'text/event-stream' },
      });
      sockets.push(request);
      request.on('error', reject);
      request.on('response', (res) => {
        if (res.statusCode !== 200) return reject(new Error(`stream: ${res.statusCode}`));
        opened++;
        resolve();
        let buffer = '';
        res.on('data', (chunk: Buffer) => {
          const now = performance.now();
          buffer += chunk.toString();
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /"comment_id":"([^"]+)"/.exec(block)?.[1];
            if (id) (arrivals.get(id) ?? arrivals.set(id, []).get(id))?.push(now);
          }
        });
      });
    });
  const staffTokens = await Promise.all(Array.from({ length: Math.ceil(staffCount / 5) }, (_, i) => token(`staff_${i}`, true)));
  const customerTokens = await Promise.all(Array.from({ length: customers }, (_, i) => token(`customer_${i}`, false)));
  const wanted = [
    ...Array.from({ length: staffCount }, (_, i) => `staff:${staffTokens[Math.floor(i / 5)]}`),
    ...Array.from({ length: STREAMS - staffCount }, (_, i) => customerTokens[Math.floor(i / 5)] as string),
  ];
  for (let i = 0; i < wanted.length; i += 100) await Promise.all(wanted.slice(i, i + 100).map(open));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rssStreams = await rssMb();

  // Comments on customers' tickets, one at a time: each reaches every staff stream and its customer's five.
  const staffBearer = staffTokens[0] as string;
  const latencies: number[] = [];
  for (let i = 0; i < COMMENTS; i++) {
    const customer = customerTokens[i % customers] as string;
    const ticket = await call('POST', '/api/v1/support/tickets', customer, { title: 'Fan-out', description: 'Measure', type: 'bug' });
    const sent = performance.now();
    const comment = await call('POST', `/api/v1/admin/support/tickets/${String(ticket.body.ticket_id)}/comments`, staffBearer, { content: 'reply' });
    const id = String(comment.body.comment_id);
    const expected = staffCount + 5;
    const deadline = Date.now() + 30_000;
    while ((arrivals.get(id)?.length ?? 0) < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const got = arrivals.get(id) ?? [];
    if (got.length < expected) throw new Error(`comment ${i} reached ${got.length} of ${expected} streams`);
    latencies.push(...got.map((t) => t - sent));
  }
  latencies.sort((a, b) => a - b);
  const withStreams = await throughput(loadCustomer);
  const rssAfter = await rssMb();

  const result = {
    database: values.database ? 'postgres' : 'sqlite',
    streams: opened,
    rss_mb: { no_streams: rssIdle, streams_open: rssStreams, after_load: rssAfter },
    fanout_ms: { deliveries: latencies.length, p50: Math.round(percentile(latencies, 50)), p99: Math.round(percentile(latencies, 99)), max: Math.round(latencies.at(-1) ?? NaN) },
    create_comment: { no_streams: withoutStreams, streams_open: withStreams },
    workers: WORKERS,
    seconds: SECONDS,
    cpus: os.cpus().length,
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  for (const request of sockets) request.destroy();
} finally {
  agent.destroy();
  await server.stop('SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
}
