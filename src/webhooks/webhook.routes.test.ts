import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { alice, buildTestApp, createTicketAs, problem, sam, TICKETS, type TestApp } from '../../test/helpers.js';
import { feedSettled } from '../../test/events.js';
import { fanOutNewEvents } from './webhook.fanout.js';
import { dialects } from '../../test/dialects.js';
import { startReceiver, type Receiver } from '../../test/webhook-receiver.js';
import { refusedAddress } from './webhook.address.js';
import { claimDue, deliverDue, FAILING_DISABLE_MS, JITTER, MAX_ATTEMPTS, pruneOldDeliveries, RETRY_SCHEDULE_MS, type DeliveryOptions } from './webhook.worker.js';

const HOOKS = '/api/v1/admin/webhooks';
const LOCAL = { HELPDESK_WEBHOOK_ALLOW_HTTP: '1', HELPDESK_WEBHOOK_ALLOW_PRIVATE: '1' };
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('the SSRF guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['fd00:ec2::254', 'unique local (private)'],
    ['0.0.0.0', 'this network'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local (cloud metadata)'],
    ['64:ff9b::a00:1', 'NAT64'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(refusedAddress(address)).toBe(`${address} is a ${kind} address`);
  });

  it.each(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c', '::ffff:93.184.215.14', '8.8.8.8'])('allows the public address %s', (address) => {
    expect(refusedAddress(address)).toBeUndefined();
  });
});

describe.each(dialects())('%s: webhooks', (dialect) => {
  let t: TestApp;
  let receiver: Receiver;
  let now: number;
  const worker = (extra: Partial<DeliveryOptions> = {}): DeliveryOptions => ({ allowPrivate: true, concurrency: 4, now: () => now, ...extra });

  beforeEach(async () => {
    t = await buildTestApp(dialect, LOCAL);
    receiver = await startReceiver();
    // The workers' clock, moved by the tests: a minute ahead, so what a test queues is due.
    now = Date.now() + 60_000;
  });
  afterEach(async () => {
    await receiver.close();
    await t.close();
  });

  async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200): Promise<Json> {
    if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
    return res.json();
  }
  const create = async (body: Record<string, unknown> = {}) =>
    ok(await t.as(sam, { method: 'POST', url: HOOKS, payload: { url: receiver.url, events: ['*'], description: 'CRM sync', ...body } }), 201);
  const test = async (id: string) => ok(await t.as(sam, { method: 'POST', url: `${HOOKS}/${id}/test` }), 202);
  const log = async (id: string, query = '') => ok(await t.as(sam, { url: `${HOOKS}/${id}/deliveries${query}` }));
  const endpoint = async (id: string) => ok(await t.as(sam, { url: `${HOOKS}/${id}` }));

  describe('function-level security', () => {
    const id = '01934e7a-0000-7000-8000-000000000000';
    it.each([
      ['POST', HOOKS],
      ['GET', HOOKS],
      ['GET', `${HOOKS}/${id}`],
      ['PATCH', `${HOOKS}/${id}`],
      ['DELETE', `${HOOKS}/${id}`],
      ['POST', `${HOOKS}/${id}/rotate-secret`],
      ['POST', `${HOOKS}/${id}/test`],
      ['GET', `${HOOKS}/${id}/deliveries`],
      ['POST', `${HOOKS}/deliveries/${id}/retry`],
    ])('%s %s is 403 for a customer and 401 without a token', async (method, url) => {
      const payload = method === 'POST' || method === 'PATCH' ? { url: 'https://example.com/hook', events: ['*'] } : undefined;
      expect(problem(await t.as(alice, { method, url, payload }), 403).detail).toBe('this operation is for support staff only');
      problem(await t.as(null, { method, url, payload }), 401);
      // Nothing was made by the refused calls.
      expect((await ok(await t.as(sam, { url: HOOKS }))).endpoints).toEqual([]);
    });
  });

  describe('managing endpoints', () => {
    it('creates an endpoint and shows its secret in that answer only', async () => {
      const created = await create({ events: ['ticket.created', 'comment.created'] });
      expect(created).toMatchObject({
        $schema: '/api/v1/schemas/WebhookEndpointWithSecret.json',
        url: receiver.url,
        events: ['ticket.created', 'comment.created'],
        description: 'CRM sync',
        disabled: false,
        disabled_reason: null,
        failing_since: null,
        previous_secret_expires_at: null,
      });
      expect(created.secret).toMatch(SECRET);
      const got = await endpoint(created.id);
      expect(got.$schema).toBe('/api/v1/schemas/WebhookEndpoint.json');
      expect(got).not.toHaveProperty('secret');
      const list = await ok(await t.as(sam, { url: HOOKS }));
      expect(list.endpoints.map((e: Json) => e.id)).toEqual([created.id]);
      expect(JSON.stringify(list)).not.toContain(created.secret.slice(6));
      const patched = await ok(await t.as(sam, { method: 'PATCH', url: `${HOOKS}/${created.id}`, payload: { events: ['*'], description: 'all', disabled: true } }));
      expect(patched).toMatchObject({ events: ['*'], description: 'all', disabled: true, disabled_reason: 'staff' });
      expect(await endpoint(created.id)).toMatchObject({ disabled: true });
      problem(await t.as(sam, { method: 'POST', url: `${HOOKS}/${created.id}/test` }), 409);
      expect((await ok(await t.as(sam, { method: 'PATCH', url: `${HOOKS}/${created.id}`, payload: { disabled: false } }))).disabled).toBe(false);
      expect((await t.as(sam, { method: 'DELETE', url: `${HOOKS}/${created.id}` })).statusCode).toBe(204);
      problem(await t.as(sam, { url: `${HOOKS}/${created.id}` }), 404);
      problem(await t.as(sam, { method: 'DELETE', url: `${HOOKS}/${created.id}` }), 404);
      expect(t.logs.join('\n')).not.toContain(created.secret.slice(6));
    });

    it('refuses bad input with a problem and changes nothing', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ url: 'not a url' }, 'body.url'],
        [{ url: 'ftp://example.com/hook' }, 'body.url'],
        [{ url: 'https://user:pw@example.com/hook' }, 'body.url'],
        [{ events: [] }, 'body.events'],
        [{ events: ['ticket.deleted'] }, 'body.events[0]'],
        [{ events: ['*', '*'] }, 'body.events'],
        [{ description: 'x'.repeat(501) }, 'body.description'],
      ];
      for (const [body, location] of cases) {
        const res = await t.as(sam, { method: 'POST', url: HOOKS, payload: { url: receiver.url, events: ['*'], ...body } });
        expect(problem(res, 422).errors?.[0]?.location, JSON.stringify(body)).toBe(location);
      }
      expect((await ok(await t.as(sam, { url: HOOKS }))).endpoints).toEqual([]);
      problem(await t.as(sam, { url: `${HOOKS}/not-a-uuid` }), 422);
    });

    it('rotates the secret: the old one keeps signing beside the new one for 24 hours', async () => {
      const created = await create();
      const rotated = await ok(await t.as(sam, { method: 'POST', url: `${HOOKS}/${created.id}/rotate-secret` }));
      expect(rotated.secret).toMatch(SECRET);
      expect(rotated.secret).not.toBe(created.secret);
      const overlap = Date.parse(rotated.previous_secret_expires_at) - Date.parse(rotated.updated_at);
      expect(overlap).toBe(24 * 3_600_000);
      await test(created.id);
      expect(await deliverDue(t.db, worker())).toBe(1);
      const [request] = receiver.received;
      const headers = request?.headers as Record<string, string>;
      expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
      // Verified by the reference implementation, with either secret.
      for (const secret of [created.secret, rotated.secret]) {
        expect(new Webhook(secret).verify(request?.body as string, headers)).toMatchObject({ type: 'webhook.test' });
      }
      expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(request?.body as string, headers)).toThrow();
    });
  });

  describe('delivery', () => {
    it('sends a signed webhook.test event that the reference implementation verifies, and logs it', async () => {
      const { id, secret } = await create();
      const queued = await test(id);
      expect(queued).toMatchObject({ $schema: '/api/v1/schemas/WebhookDelivery.json', endpoint_id: id, event_type: 'webhook.test', status: 'pending', ticket_id: null, attempts: [] });
      expect(await deliverDue(t.db, worker())).toBe(1);
      expect(receiver.received).toHaveLength(1);
      const [{ headers, body }] = receiver.received as [{ headers: Record<string, string>; body: string }];
      expect(headers['webhook-id']).toBe(queued.event_id);
      expect(Number(headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -2);
      expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(headers['content-type']).toBe('application/json');
      expect(new Webhook(secret).verify(body, headers)).toEqual({ type: 'webhook.test', timestamp: queued.created_at, data: { endpoint_id: id } });
      const page = await log(id);
      expect(page.deliveries).toHaveLength(1);
      expect(page.deliveries[0]).toMatchObject({ id: queued.id, status: 'succeeded', next_attempt_at: null });
      expect(page.deliveries[0].attempts).toEqual([{ attempted_at: expect.any(String), status_code: 200, duration_ms: expect.any(Number), response_body: 'ok', error: null }]);
      // Nothing is due any more.
      expect(await deliverDue(t.db, worker())).toBe(0);
    });

    it('retries a failing receiver on the spec’s schedule with jitter, the same webhook-id each time, then gives up', async () => {
      const { id } = await create();
      receiver.respond = (_req, res) => res.writeHead(500).end('x'.repeat(5000));
      const queued = await test(id);
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        expect(await deliverDue(t.db, worker()), `attempt ${attempt}`).toBe(1);
        const [delivery] = (await log(id)).deliveries;
        expect(delivery.attempts).toHaveLength(attempt);
        expect(delivery.attempts[attempt - 1]).toMatchObject({ status_code: 500, error: null });
        expect(delivery.attempts[attempt - 1].response_body).toHaveLength(1024);
        const delay = RETRY_SCHEDULE_MS[attempt - 1];
        if (delay === undefined) {
          expect(delivery).toMatchObject({ status: 'failed', next_attempt_at: null });
          break;
        }
        const wait = Date.parse(delivery.next_attempt_at) - now;
        expect(wait).toBeGreaterThanOrEqual(delay);
        expect(wait).toBeLessThanOrEqual(delay * (1 + JITTER));
        // Not sent before its time.
        now += delay - 1;
        expect(await deliverDue(t.db, worker())).toBe(0);
        now += wait - delay + 1;
      }
      expect(receiver.received).toHaveLength(MAX_ATTEMPTS);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([queued.event_id]));
      expect(await endpoint(id)).toMatchObject({ disabled: false, failing_since: expect.any(String) });
    });

    it('counts a receiver that does not answer in time as a failure', async () => {
      const { id } = await create();
      receiver.respond = () => undefined;
      await test(id);
      expect(await deliverDue(t.db, worker({ timeoutMs: 300 }))).toBe(1);
      const [delivery] = (await log(id)).deliveries;
      expect(delivery.status).toBe('pending');
      expect(delivery.attempts[0]).toMatchObject({ status_code: null, error: 'no answer within 0.3 s' });
      expect(Date.parse(delivery.next_attempt_at) - now).toBeGreaterThanOrEqual(RETRY_SCHEDULE_MS[0] as number);
    });

    it('honours Retry-After on 429, 502, 503 and 504, and follows no redirect', async () => {
      const { id } = await create();
      for (const status of [429, 502, 503, 504]) {
        receiver.respond = (_req, res) => res.writeHead(status, { 'retry-after': '120' }).end();
        await test(id);
        expect(await deliverDue(t.db, worker())).toBe(1);
        const [delivery] = (await log(id)).deliveries;
        expect(delivery.attempts[0].status_code).toBe(status);
        expect(Date.parse(delivery.next_attempt_at) - now, String(status)).toBe(120_000);
      }
      receiver.respond = (_req, res) => res.writeHead(302, { location: `${receiver.url}/elsewhere` }).end();
      await test(id);
      const before = receiver.received.length;
      expect(await deliverDue(t.db, worker())).toBe(1);
      expect(receiver.received).toHaveLength(before + 1);
      expect((await log(id)).deliveries[0]).toMatchObject({ status: 'pending', attempts: [{ status_code: 302 }] });
    });

    it('disables the endpoint when the receiver answers 410', async () => {
      const { id } = await create();
      receiver.respond = (_req, res) => res.writeHead(410).end();
      await test(id);
      await test(id);
      expect(await deliverDue(t.db, worker({ concurrency: 1 }))).toBe(1);
      expect(await endpoint(id)).toMatchObject({ disabled: true, disabled_reason: 'gone' });
      // The other delivery waits; nothing more is sent while disabled.
      expect(await deliverDue(t.db, worker())).toBe(0);
      expect(receiver.received).toHaveLength(1);
      expect((await log(id, '?status=failed')).deliveries).toHaveLength(1);
      expect((await log(id, '?status=pending')).deliveries).toHaveLength(1);
    });

    it('disables an endpoint whose deliveries all failed for 5 days', async () => {
      const { id } = await create();
      receiver.respond = (_req, res) => res.writeHead(500).end();
      await test(id);
      await deliverDue(t.db, worker());
      expect(await endpoint(id)).toMatchObject({ disabled: false });
      now += FAILING_DISABLE_MS;
      await test(id);
      await deliverDue(t.db, worker());
      expect(await endpoint(id)).toMatchObject({ disabled: true, disabled_reason: 'failing' });
    });

    it('retries a delivery by hand and keeps every attempt in the log, newest delivery first, paged', async () => {
      const { id } = await create();
      receiver.respond = (_req, res) => res.writeHead(500).end('down');
      const first = await test(id);
      await deliverDue(t.db, worker());
      receiver.respond = (_req, res) => res.writeHead(204).end();
      const retried = await ok(await t.as(sam, { method: 'POST', url: `${HOOKS}/deliveries/${first.id}/retry` }), 202);
      expect(retried).toMatchObject({ id: first.id, status: 'pending', attempts: [{ status_code: 500, response_body: 'down' }] });
      expect(await deliverDue(t.db, worker())).toBe(1);
      const second = await test(id);
      await deliverDue(t.db, worker());
      const page1 = await log(id, '?limit=1');
      expect(page1.deliveries.map((d: Json) => d.id)).toEqual([second.id]);
      const page2 = await log(id, `?limit=1&after=${page1.next_cursor}`);
      expect(page2.deliveries.map((d: Json) => d.id)).toEqual([first.id]);
      expect(page2.next_cursor).toBeNull();
      expect(page2.deliveries[0]).toMatchObject({ status: 'succeeded', attempts: [{ status_code: 500 }, { status_code: 204 }] });
      problem(await t.as(sam, { method: 'POST', url: `${HOOKS}/deliveries/01934e7a-0000-7000-8000-000000000000/retry` }), 404);
      problem(await t.as(sam, { url: `${HOOKS}/01934e7a-0000-7000-8000-000000000000/deliveries` }), 404);
    });

    it('forgets finished deliveries past the events’ retention, keeping pending ones', async () => {
      const { id } = await create();
      const sent = await test(id);
      await deliverDue(t.db, worker());
      const waiting = await test(id);
      expect(await pruneOldDeliveries(t.db, 30)).toBe(0);
      expect(await pruneOldDeliveries(t.db, 30, Date.now() + 31 * 86_400_000)).toBe(1);
      const left = (await log(id)).deliveries.map((d: Json) => d.id);
      expect(left).toEqual([waiting.id]);
      expect(left).not.toContain(sent.id);
    });

    it('sends at most 4 deliveries at once to one endpoint, and takes over a claim whose lease ran out', async () => {
      const { id } = await create();
      for (let i = 0; i < 6; i++) await test(id);
      const first = await claimDue(t.db, worker({ worker: 'a' }), 50);
      expect(first).toHaveLength(4);
      expect(await claimDue(t.db, worker({ worker: 'b' }), 50)).toEqual([]);
      // Worker a was killed: once its leases expire, b takes its claims over and sends everything.
      now += 10 * 60_000;
      expect(await deliverDue(t.db, worker({ worker: 'b' }))).toBe(4);
      expect(await deliverDue(t.db, worker({ worker: 'b' }))).toBe(2);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(6);
    });

    it('claims for every endpoint: one endpoint’s backlog at its cap does not keep another waiting', async () => {
      const busy = await create();
      for (let i = 0; i < 40; i++) await test(busy.id);
      const other = await create();
      await test(other.id);
      const claimed = await claimDue(t.db, worker(), 50);
      expect(claimed.filter((d) => d.endpoint_id === busy.id)).toHaveLength(4);
      expect(claimed.filter((d) => d.endpoint_id === other.id)).toHaveLength(1);
    });

    it('refuses to connect to a private address at send time unless allowed (DNS can change after the check)', async () => {
      const { id } = await create({ url: receiver.url.replace('127.0.0.1', 'localhost') });
      await test(id);
      expect(await deliverDue(t.db, worker({ allowPrivate: false }))).toBe(1);
      expect(receiver.received).toEqual([]);
      expect((await log(id)).deliveries[0].attempts[0]).toMatchObject({ status_code: null, error: expect.stringMatching(/^refused: localhost resolves to .* loopback address$/) });
    });
  });

  describe('events to deliveries', () => {
    const ADMIN = '/api/v1/admin/support/tickets';
    /** Makes deliveries from every event written so far. */
    async function fanOut() {
      await feedSettled(t.db);
      while ((await fanOutNewEvents(t.db, 'https://help.example.com')) > 0);
    }

    it('sends each subscribed event once per endpoint; `*` leaves internal notes out, naming note.created lets them in', async () => {
      const all = await create();
      const notes = await create({ events: ['note.created'] });
      const statuses = await create({ events: ['ticket.status_changed'] });
      // The consumer starts at the end of the feed: events before it are not sent.
      await createTicketAs(t, alice, { title: 'Before the consumer' });
      await fanOut();
      const { ticket_id: ticketId } = await createTicketAs(t, alice);
      await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticketId}/comments`, payload: { content: 'Customer words, secret plan' } });
      await t.as(sam, { method: 'POST', url: `${ADMIN}/${ticketId}/comments`, payload: { content: 'Internal words, do not leak', is_internal: true } });
      await t.as(sam, { method: 'PATCH', url: `${ADMIN}/${ticketId}`, payload: { status: 'in_progress' } });
      await fanOut();
      // One event of a ticket at a time per endpoint, in order: four rounds.
      while ((await deliverDue(t.db, worker())) > 0);
      const byEndpoint = new Map<string, Json[]>();
      for (const { headers, body } of receiver.received) {
        const secret = [all, notes, statuses].find((e) => {
          try {
            new Webhook(e.secret).verify(body, headers as Record<string, string>);
            return true;
          } catch {
            return false;
          }
        });
        expect(secret, 'verified with one endpoint’s secret').toBeDefined();
        byEndpoint.set(secret.id, [...(byEndpoint.get(secret.id) ?? []), JSON.parse(body)]);
      }
      expect(byEndpoint.get(all.id)?.map((e) => e.type)).toEqual(['ticket.created', 'comment.created', 'ticket.status_changed']);
      expect(byEndpoint.get(notes.id)?.map((e) => e.type)).toEqual(['note.created']);
      expect(byEndpoint.get(statuses.id)?.map((e) => e.type)).toEqual(['ticket.status_changed']);
      const [created, comment] = byEndpoint.get(all.id) as Json[];
      expect(created.data).toEqual({
        number: 2,
        status: 'open',
        priority: expect.any(String),
        type: 'bug',
        ticket_id: ticketId,
        tenant_id: 'org_acme',
        audience: 'customer',
        actor: { id: alice.id, type: 'user' },
        url: `https://help.example.com/api/v1/support/tickets/${ticketId}`,
      });
      expect(comment.data).toMatchObject({ comment_id: expect.any(String), length: 27, url: `https://help.example.com/api/v1/support/tickets/${ticketId}` });
      const note = (byEndpoint.get(notes.id) as Json[])[0];
      expect(note.data).toMatchObject({ audience: 'staff', url: `https://help.example.com/api/v1/admin/support/tickets/${ticketId}` });
      // Thin payloads: no comment's text ever leaves, and each body is far under 20 kB.
      const bodies = receiver.received.map((r) => r.body).join('\n');
      expect(bodies).not.toContain('secret plan');
      expect(bodies).not.toContain('do not leak');
      expect(Math.max(...receiver.received.map((r) => Buffer.byteLength(r.body)))).toBeLessThan(20_000);
      // Each event once per endpoint, and the same webhook-id the event has in the feed.
      const ids = receiver.received.map((r) => `${r.headers['webhook-id']}`);
      expect(ids).toHaveLength(5);
      expect(new Set(ids).size).toBe(4);
      const feed = (await t.as(sam, { url: `/api/v1/admin/support/events?ticket_id=${ticketId}` })).json().events.map((e: Json) => e.event_id);
      expect(new Set(ids)).toEqual(new Set(feed));
    });

    it('keeps one ticket’s events in order while a slow one is in flight, and lets other tickets pass', async () => {
      await create();
      await fanOut();
      const first = await createTicketAs(t, alice);
      for (const n of [1, 2, 3]) await t.as(alice, { method: 'POST', url: `${TICKETS}/${first.ticket_id}/comments`, payload: { content: `comment ${n}` } });
      const second = await createTicketAs(t, alice);
      await fanOut();
      // Round one: the first event of each ticket, nothing behind them.
      expect(await deliverDue(t.db, worker())).toBe(2);
      expect(await deliverDue(t.db, worker())).toBe(1);
      expect(await deliverDue(t.db, worker())).toBe(1);
      expect(await deliverDue(t.db, worker())).toBe(1);
      expect(await deliverDue(t.db, worker())).toBe(0);
      const ofFirst = receiver.received.map((r) => JSON.parse(r.body)).filter((e) => e.data.ticket_id === first.ticket_id);
      expect(ofFirst.map((e) => `${e.type} ${e.data.length ?? ''}`)).toEqual(['ticket.created ', 'comment.created 9', 'comment.created 9', 'comment.created 9']);
      expect(ofFirst.map((e) => e.timestamp)).toEqual([...ofFirst.map((e) => e.timestamp)].sort());
      expect(receiver.received.filter((r) => JSON.parse(r.body).data.ticket_id === second.ticket_id)).toHaveLength(1);
    });

    it('lets another ticket pass a long run of one ticket’s events held back behind its first', async () => {
      await create();
      await fanOut();
      const busy = await createTicketAs(t, alice);
      for (let n = 1; n <= 24; n++) await t.as(alice, { method: 'POST', url: `${TICKETS}/${busy.ticket_id}/comments`, payload: { content: `comment ${n}` } });
      const other = await createTicketAs(t, alice);
      await fanOut();
      // The claim reads four deliveries per slot first; the busy ticket's later 24 are held
      // back behind its first, so it reads further, and the other ticket's one goes out too.
      expect(await deliverDue(t.db, worker())).toBe(2);
      expect(receiver.received.filter((r) => JSON.parse(r.body).data.ticket_id === other.ticket_id)).toHaveLength(1);
      let rounds = 0;
      while ((await deliverDue(t.db, worker())) > 0) rounds++;
      expect(rounds).toBe(24);
      const ofBusy = receiver.received.map((r) => JSON.parse(r.body)).filter((e) => e.data.ticket_id === busy.ticket_id);
      expect(ofBusy).toHaveLength(25);
      expect(ofBusy.map((e) => e.timestamp)).toEqual([...ofBusy.map((e) => e.timestamp)].sort());
    });
  });

  it('refuses, when an endpoint is saved, every internal address class and a name that resolves to one', async () => {
    const strict = await buildTestApp(dialect, {});
    try {
      for (const url of [
        'https://127.0.0.1/hook',
        'https://localhost/hook',
        'https://[::1]/hook',
        'https://[::ffff:127.0.0.1]/hook',
        'https://10.0.0.5/hook',
        'https://192.168.0.10/hook',
        'https://169.254.169.254/latest/meta-data',
        'https://100.64.1.1/hook',
        'https://[fe80::1]/hook',
        'https://[fd00::1]/hook',
        'https://224.0.0.1/hook',
      ]) {
        const res = await strict.as(sam, { method: 'POST', url: HOOKS, payload: { url, events: ['*'] } });
        expect(problem(res, 422).errors?.[0], url).toMatchObject({ location: 'body.url', message: expect.stringMatching(/^refused: .* address$/), value: url });
      }
      // http:// needs HELPDESK_WEBHOOK_ALLOW_HTTP=1.
      const http = await strict.as(sam, { method: 'POST', url: HOOKS, payload: { url: 'http://93.184.215.14/hook', events: ['*'] } });
      expect(problem(http, 422).errors?.[0]).toMatchObject({ location: 'body.url', message: 'expected an https:// URL' });
      expect((await strict.as(sam, { url: HOOKS })).json().endpoints).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});
