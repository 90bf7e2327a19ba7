import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { alice, bob, buildTestApp, carol, createTicketAs, problem, sam, TICKETS, type TestApp, type TestUser } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { feedSettled } from '../../test/events.js';
import { memoryLog, TestMta } from '../../test/mail.js';
import { SseStream } from '../../test/sse.js';
import { pruneOnce } from '../desk/housekeeping.js';
import { createMailTransport, sendDueMail } from '../mail/mail.sender.js';
import { createMailContext } from '../mail/mail.service.js';
import { queueMailFromEvents } from '../mail/mail.worker.js';
import { createBlobStore } from './attachment.db-store.js';
import { fileBlobStore } from './attachment.store.js';

const STORES = ['filesystem', 'database'] as const;

const UPLOADS = '/api/v1/support/uploads';
const STAFF_UPLOADS = '/api/v1/admin/support/uploads';
const ADMIN = '/api/v1/admin/support/tickets';
const HOUR = 3_600_000;

// A 1x1 PNG: a real image for file-type to recognise.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

interface Part {
  name?: string;
  filename?: string;
  type?: string;
  data: Buffer | string;
}

/** A multipart/form-data body, built by hand so that tests control every byte. */
function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----helpdesk${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name ?? 'file'}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${part.type ?? 'application/octet-stream'}\r\n\r\n`, 'utf8'));
    chunks.push(Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** A ZIP holding one deflated entry of `size` zero bytes: a few kilobytes that unpack to `size`. */
function zipBomb(size: number): Buffer {
  const data = deflateRawSync(Buffer.alloc(size));
  const name = Buffer.from('zeros.bin');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(0, 14); // CRC left 0: never checked, never unpacked
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(local.length + name.length + data.length, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

interface UploadBody {
  upload_id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  expires_at: string;
}
interface AttachmentBody {
  attachment_id: string;
  filename: string;
  content_type: string;
  size: number;
  url: string;
}

describe.each(dialects().flatMap((d) => STORES.map((s) => [d, s] as const)))('%s, %s store: attachments', (dialect, store) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect, { HELPDESK_ATTACHMENT_STORE: store });
  });
  afterEach(async () => {
    await t.close();
  });

  const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
  const staging = () => path.join(t.dir, 'attachments', 'staging');
  const send = (user: TestUser | null, parts: Part[], url = UPLOADS) => t.as(user, { method: 'POST', url, ...multipart(parts) });

  async function upload(user: TestUser, data: Buffer | string, filename = 'screenshot.png', url = UPLOADS): Promise<UploadBody> {
    const res = await send(user, [{ filename, data }], url);
    if (res.statusCode !== 201) throw new Error(`upload failed: ${res.statusCode} ${res.body}`);
    return res.json<UploadBody>();
  }
  const uploadRows = async () => (await t.db.selectFrom('uploads').select(['id', 'sha256']).execute()).length;
  const comment = (user: TestUser, ticketId: string, payload: Record<string, unknown>) => t.as(user, { method: 'POST', url: `${TICKETS}/${ticketId}/comments`, payload });
  const staffComment = (ticketId: string, payload: Record<string, unknown>) => t.as(sam, { method: 'POST', url: `${ADMIN}/${ticketId}/comments`, payload });

  describe('upload, attach, download', () => {
    it('round-trips an image attached to a new ticket, with safe headers, ETag and ranges', async () => {
      const up = await upload(alice, PNG, 'screenshot.png');
      expect(up).toMatchObject({ filename: 'screenshot.png', content_type: 'image/png', size: PNG.length, sha256: sha(PNG) });
      expect(Date.parse(up.expires_at) - Date.now()).toBeGreaterThan(0.9 * HOUR);

      const ticket = await createTicketAs(t, alice, { attachments: [up.upload_id] });
      const [attachment] = ticket.attachments as AttachmentBody[];
      expect(attachment).toEqual({
        attachment_id: up.upload_id,
        filename: 'screenshot.png',
        content_type: 'image/png',
        size: PNG.length,
        url: `/api/v1/support/attachments/${up.upload_id}`,
      });
      const detail = (await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` })).json<{ ticket: { attachments: AttachmentBody[] } }>();
      expect(detail.ticket.attachments).toEqual([attachment]);

      const res = await t.as(alice, { url: attachment?.url as string });
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(PNG)).toBe(true);
      expect(res.headers).toMatchObject({
        'content-type': 'image/png',
        'content-disposition': `inline; filename="screenshot.png"; filename*=UTF-8''screenshot.png`,
        'x-content-type-options': 'nosniff',
        'content-security-policy': "sandbox; default-src 'none'",
        etag: `"${sha(PNG)}"`,
        'accept-ranges': 'bytes',
      });
      expect((await t.as(alice, { url: attachment?.url as string, headers: { 'if-none-match': `"${sha(PNG)}"` } })).statusCode).toBe(304);
      const part = await t.as(alice, { url: attachment?.url as string, headers: { range: 'bytes=1-3' } });
      expect(part.statusCode).toBe(206);
      expect(part.headers['content-range']).toBe(`bytes 1-3/${PNG.length}`);
      expect(part.rawPayload.equals(PNG.subarray(1, 4))).toBe(true);
      const tail = await t.as(alice, { url: attachment?.url as string, headers: { range: 'bytes=-2' } });
      expect(tail.rawPayload.equals(PNG.subarray(-2))).toBe(true);
      const beyond = problem(await t.as(alice, { url: attachment?.url as string, headers: { range: `bytes=${PNG.length}-` } }), 416);
      expect(beyond.detail).toContain(`${PNG.length} bytes`);

      // The ticket's event names the attachment.
      const event = await t.db.selectFrom('ticket_events').select('data').where('ticket_id', '=', ticket.ticket_id).where('type', '=', 'ticket.created').executeTakeFirstOrThrow();
      expect(JSON.parse(event.data)).toMatchObject({ attachment_ids: [up.upload_id] });
    });

    it('streams a 20 MB log through a real port with identical bytes, memory bounded', { timeout: 60_000 }, async () => {
      const size = 20 * 1024 * 1024;
      const file = path.join(t.dir, 'big.log');
      const line = Buffer.from('2026-12-06T05:00:00Z INFO request completed in 12 ms with nothing unusual to report\n');
      const hash = createHash('sha256');
      const out = fs.createWriteStream(file);
      for (let written = 0; written < size; written += line.length) {
        hash.update(line);
        if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
      await new Promise<void>((resolve) => out.end(() => resolve()));
      const digest = hash.digest('hex');
      const length = (await fsp.stat(file)).size;

      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as AddressInfo;
      const token = await t.tokenFor(alice);
      global.gc?.();
      const idle = process.memoryUsage.rss();
      let peak = idle;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
      const boundary = 'helpdeskbigboundary';
      const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="server.log"\r\nContent-Type: text/plain\r\n\r\n`);
      const foot = Buffer.from(`\r\n--${boundary}--\r\n`);
      const uploaded = await new Promise<UploadBody>((resolve, reject) => {
        const req = http.request(
          {
            port,
            host: '127.0.0.1',
            method: 'POST',
            path: UPLOADS,
            headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + length + foot.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(Buffer.concat(chunks).toString()) as UploadBody) : reject(new Error(Buffer.concat(chunks).toString()))));
          },
        );
        req.on('error', reject);
        req.write(head);
        const stream = fs.createReadStream(file);
        stream.on('end', () => void req.end(foot));
        stream.pipe(req, { end: false });
      });
      clearInterval(sampler);
      expect(uploaded).toMatchObject({ content_type: 'text/plain', size: length, sha256: digest });
      process.stdout.write(`20 MB upload (${dialect}, ${store} store): RSS at most ${((peak - idle) / 1024 / 1024).toFixed(1)} MB above idle\n`);
      expect(peak - idle).toBeLessThan(64 * 1024 * 1024);

      const ticket = await createTicketAs(t, alice, { attachments: [uploaded.upload_id] });
      const url = (ticket.attachments as AttachmentBody[])[0]?.url as string;
      const downloaded = await new Promise<{ digest: string; size: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
        http.get({ port, host: '127.0.0.1', path: url, headers: { authorization: `Bearer ${token}` } }, (res) => {
          const h = createHash('sha256');
          let n = 0;
          res.on('data', (c: Buffer) => {
            h.update(c);
            n += c.length;
          });
          res.on('end', () => resolve({ digest: h.digest('hex'), size: n, headers: res.headers }));
          res.on('error', reject);
        });
      });
      expect(downloaded).toMatchObject({ digest, size: length });
      expect(downloaded.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(downloaded.headers['content-disposition']).toMatch(/^attachment; /);
    });

    it('serves ranges across the store’s chunk boundaries', async () => {
      const text = Array.from({ length: 700_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
      const up = await upload(alice, text, 'letters.txt');
      const ticket = await createTicketAs(t, alice, { attachments: [up.upload_id] });
      const url = (ticket.attachments as AttachmentBody[])[0]?.url as string;
      for (const [start, end] of [
        [262_140, 524_300],
        [0, 262_143],
        [262_144, 262_144],
        [600_000, 699_999],
      ] as const) {
        const res = await t.as(alice, { url, headers: { range: `bytes=${start}-${end}` } });
        expect(res.statusCode).toBe(206);
        expect(res.body).toBe(text.slice(start, end + 1));
      }
      expect((await t.as(alice, { url })).body).toBe(text);
    });

    it('attaches to customer comments and staff replies; notes’ attachments stay with staff on every surface', async () => {
      const ticket = await createTicketAs(t, alice);
      const csv = await upload(alice, 'date,amount\n2026-12-01,10\n', 'invoices.csv');
      const reply = await comment(alice, ticket.ticket_id, { content: 'The export', attachments: [csv.upload_id] });
      expect(reply.statusCode).toBe(201);
      expect(reply.json<{ attachments: AttachmentBody[] }>().attachments).toMatchObject([{ attachment_id: csv.upload_id, content_type: 'text/csv', filename: 'invoices.csv' }]);

      const log = await upload(sam, 'ERROR secret internal stack trace\n', 'internal.log', STAFF_UPLOADS);
      const note = await staffComment(ticket.ticket_id, { content: 'See the log', is_internal: true, attachments: [log.upload_id] });
      expect(note.statusCode).toBe(201);
      expect(note.json<{ attachments: AttachmentBody[] }>().attachments[0]?.url).toBe(`/api/v1/admin/support/attachments/${log.upload_id}`);

      // The customer: not in the ticket, not downloadable (the same 404 as an unknown id).
      const seen = JSON.stringify([(await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` })).json(), (await t.as(alice, { url: TICKETS })).json()]);
      expect(seen).not.toContain(log.upload_id);
      expect(seen).not.toContain('internal.log');
      expect(seen).toContain(csv.upload_id);
      const hidden = problem(await t.as(alice, { url: `/api/v1/support/attachments/${log.upload_id}` }), 404);
      const unknown = problem(await t.as(alice, { url: '/api/v1/support/attachments/01934e7a-0000-7000-8000-000000000000' }), 404);
      expect(hidden).toEqual(unknown);
      // Staff see both, each under the staff URL.
      const staffView = (await t.as(sam, { url: `${ADMIN}/${ticket.ticket_id}` })).json<{ ticket: { comments: Array<{ attachments: AttachmentBody[] }> } }>();
      expect(staffView.ticket.comments.flatMap((c) => c.attachments.map((a) => a.url))).toEqual([
        `/api/v1/admin/support/attachments/${csv.upload_id}`,
        `/api/v1/admin/support/attachments/${log.upload_id}`,
      ]);
      const staffGet = await t.as(sam, { url: `/api/v1/admin/support/attachments/${log.upload_id}` });
      expect(staffGet.statusCode).toBe(200);
      expect(staffGet.body).toBe('ERROR secret internal stack trace\n');
      // A customer's token on the staff download is refused outright.
      problem(await t.as(alice, { url: `/api/v1/admin/support/attachments/${csv.upload_id}` }), 403);
      // A staff PATCH and the customer's close answer with the thread read with the ticket (JSON
      // arrays in the ticket's statement): each side's the same as its detail's, the note's file
      // with staff only.
      const patched = await t.as(sam, { method: 'PATCH', url: `${ADMIN}/${ticket.ticket_id}`, payload: { priority: 'high' } });
      expect(patched.statusCode).toBe(200);
      expect(patched.json().comments).toEqual((await t.as(sam, { url: `${ADMIN}/${ticket.ticket_id}` })).json().ticket.comments);
      const customerView = (await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` })).json();
      const closed = await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` });
      expect(closed.statusCode).toBe(200);
      expect(closed.json().comments).toEqual(customerView.ticket.comments);
      expect(closed.json().attachments).toEqual(customerView.ticket.attachments);
      expect(closed.body).toContain(csv.upload_id);
      expect(closed.body).not.toContain(log.upload_id);
      // The note's event is staff-only and carries the id; the customer reply's event its own.
      const events = await t.db.selectFrom('ticket_events').select(['type', 'audience', 'data']).where('ticket_id', '=', ticket.ticket_id).execute();
      const byType = Object.fromEntries(events.map((e) => [e.type, e]));
      expect(byType['note.created']).toMatchObject({ audience: 'staff' });
      expect(JSON.parse(byType['note.created']?.data as string)).toMatchObject({ attachment_ids: [log.upload_id] });
      expect(JSON.parse(byType['comment.created']?.data as string)).toMatchObject({ attachment_ids: [csv.upload_id] });
    });
  });

  if (store === 'filesystem') {
    describe('who may attach and read', () => {
      it('refuses another user’s, another tenant’s, an unknown or an already attached upload as one 422', async () => {
        const mine = await upload(alice, PNG);
        const ticket = await createTicketAs(t, bob);
        for (const [user, ticketOf] of [
          [bob, ticket.ticket_id],
          [carol, (await createTicketAs(t, carol)).ticket_id],
        ] as const) {
          const refused = problem(await comment(user, ticketOf, { content: 'hi', attachments: [mine.upload_id] }), 422);
          expect(refused.errors).toEqual([{ location: 'body.attachments[0]', message: 'expected the ID of your own upload, not attached yet and not expired', value: mine.upload_id }]);
          problem(await t.as(user, { method: 'POST', url: TICKETS, payload: { title: 'x', description: 'y', type: 'bug', attachments: [mine.upload_id] } }), 422);
        }
        const unknown = problem(await comment(bob, ticket.ticket_id, { content: 'hi', attachments: ['01934e7a-0000-7000-8000-000000000000'] }), 422);
        expect(unknown.errors?.[0]?.message).toBe('expected the ID of your own upload, not attached yet and not expired');
        // Nothing was written by the refusals.
        expect((await t.as(bob, { url: `${TICKETS}/${ticket.ticket_id}` })).json<{ ticket: { comment_count: number } }>().ticket.comment_count).toBe(0);

        await createTicketAs(t, alice, { attachments: [mine.upload_id] });
        problem(await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: 'x', description: 'y', type: 'bug', attachments: [mine.upload_id] } }), 422);
        const eleven = await Promise.all(Array.from({ length: 11 }, () => upload(alice, PNG)));
        const tooMany = problem(await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: 'x', description: 'y', type: 'bug', attachments: eleven.map((u) => u.upload_id) } }), 422);
        expect(tooMany.errors?.[0]?.location).toBe('body.attachments');
      });

      it('lets one of two concurrent comments attach an upload; the other is a 422 that writes nothing', async () => {
        const ticket = await createTicketAs(t, alice);
        const up = await upload(alice, PNG);
        const results = await Promise.all([1, 2].map((n) => comment(alice, ticket.ticket_id, { content: `take ${n}`, attachments: [up.upload_id] })));
        expect(results.map((r) => r.statusCode).sort()).toEqual([201, 422]);
        const detail = (await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` })).json<{ ticket: { comments: Array<{ attachments: AttachmentBody[] }> } }>();
        expect(detail.ticket.comments).toHaveLength(1);
        expect(detail.ticket.comments[0]?.attachments.map((a) => a.attachment_id)).toEqual([up.upload_id]);
      });

      it('keeps a note’s attachment out of the customer’s live stream and e-mail, which carry the public reply’s', { timeout: 30_000 }, async () => {
        const mta = new TestMta();
        await mta.start();
        try {
          await t.close();
          t = await buildTestApp(dialect, {
            HELPDESK_SMTP_URL: `smtp://127.0.0.1:${mta.port}`,
            HELPDESK_MAIL_FROM: 'support@desk.test',
            HELPDESK_MAIL_TEAM: 'team@desk.test',
            HELPDESK_PUBLIC_URL: 'https://desk.test',
            HELPDESK_MAIL_SECRET: 's'.repeat(40),
          });
          const mail = await createMailContext(t.config, t.db);
          await queueMailFromEvents(t.db, mail); // the consumer starts at the end of the feed
          const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
          const ticket = await createTicketAs(t, alice);
          await feedSettled(t.db);
          const customer = await SseStream.open(`${base}/api/v1/support/events/stream`, await t.tokenFor(alice));
          const staff = await SseStream.open(`${base}/api/v1/admin/support/events/stream`, await t.tokenFor(sam));
          try {
            const log = await upload(sam, 'ERROR secret internal stack trace\n', 'internal.log', STAFF_UPLOADS);
            expect((await staffComment(ticket.ticket_id, { content: 'See the log', is_internal: true, attachments: [log.upload_id] })).statusCode).toBe(201);
            const steps = await upload(sam, 'Step 1: reinstall\n', 'steps.txt', STAFF_UPLOADS);
            expect((await staffComment(ticket.ticket_id, { content: 'Try these steps', attachments: [steps.upload_id] })).statusCode).toBe(201);

            const carries = (id: string) => (messages: Array<{ data: Record<string, unknown> }>) => JSON.stringify(messages).includes(id);
            const staffSaw = JSON.stringify(await staff.until(carries(steps.upload_id)));
            expect(staffSaw).toContain(log.upload_id);
            const customerSaw = JSON.stringify(await customer.until(carries(steps.upload_id)));
            expect(customerSaw).not.toContain(log.upload_id);
            expect(customerSaw).not.toContain('note.created');

            await feedSettled(t.db);
            while ((await queueMailFromEvents(t.db, mail)) > 0);
            const transport = createMailTransport(t.config);
            try {
              await sendDueMail(t.db, transport, memoryLog());
            } finally {
              transport.close();
            }
            const toAlice = mta.received.filter((r) => r.to.includes(alice.email));
            expect(toAlice.map((r) => r.mail.text?.includes('Try these steps'))).toEqual([true]);
            for (const { raw } of toAlice) {
              for (const secret of [log.upload_id, 'internal.log', 'ERROR secret', 'See the log']) expect(raw).not.toContain(secret);
            }
          } finally {
            customer.close();
            staff.close();
          }
        } finally {
          await mta.stop();
        }
      });

      it('refuses an upload past its hour even before housekeeping deletes it', async () => {
        const up = await upload(alice, PNG);
        await t.db.updateTable('uploads').set({ expires_at: new Date(Date.now() - 1_000).toISOString() }).where('id', '=', up.upload_id).execute();
        const refused = problem(await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: 'x', description: 'y', type: 'bug', attachments: [up.upload_id] } }), 422);
        expect(refused.errors).toEqual([{ location: 'body.attachments[0]', message: 'expected the ID of your own upload, not attached yet and not expired', value: up.upload_id }]);
        expect((await t.as(alice, { url: TICKETS })).json<{ tickets: unknown[] }>().tickets).toEqual([]);
      });

      it('answers another tenant and another user of the tenant with the 404 of an unknown id', async () => {
        const up = await upload(alice, PNG);
        const ticket = await createTicketAs(t, alice, { attachments: [up.upload_id] });
        const url = (ticket.attachments as AttachmentBody[])[0]?.url as string;
        const unknown = problem(await t.as(alice, { url: '/api/v1/support/attachments/01934e7a-0000-7000-8000-000000000000' }), 404);
        for (const user of [bob, carol]) expect(problem(await t.as(user, { url }), 404)).toEqual(unknown);
        problem(await t.as(null, { url }), 401);
        problem(await send(null, [{ filename: 'a.png', data: PNG }]), 401);
        expect((await t.as(sam, { url: `/api/v1/admin/support/attachments/${up.upload_id}` })).statusCode).toBe(200);
      });
    });

    describe('hostile files', () => {
      it.each([
        ['an HTML page named .png', 'cat.png', '<!doctype html><html><script>alert(document.cookie)</script></html>'],
        ['an SVG with a script', 'logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
        ['an XML prolog SVG', 'logo.svg', '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
        ['HTML hiding a PDF header', 'doc.pdf', '<html><body><script>alert(1)</script>%PDF-1.4</body></html>'],
        ['an executable', 'setup.exe', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 1)])],
        ['binary noise', 'noise.bin', Buffer.from([0, 1, 2, 3, 255, 254, 0, 0, 7])],
      ])('refuses %s (415) and keeps nothing', async (_what, filename, data) => {
        const body = problem(await send(alice, [{ filename, data, type: 'image/png' }]), 415);
        expect(body.detail).toMatch(/^file type not allowed/);
        expect(await uploadRows()).toBe(0);
        expect(await fsp.readdir(staging())).toEqual([]);
      });

      it('stores a PDF/HTML polyglot as a PDF, served in a sandbox that runs nothing', async () => {
        const polyglot = '%PDF-1.4\n<html><body><script>alert(document.domain)</script></body></html>\n%%EOF\n';
        const up = await upload(alice, polyglot, 'report.html');
        expect(up.content_type).toBe('application/pdf');
        const ticket = await createTicketAs(t, alice, { attachments: [up.upload_id] });
        const res = await t.as(alice, { url: (ticket.attachments as AttachmentBody[])[0]?.url as string });
        expect(res.headers['content-type']).toBe('application/pdf');
        expect(res.headers['content-security-policy']).toBe("sandbox; default-src 'none'");
        expect(res.headers['x-content-type-options']).toBe('nosniff');
      });

      it('stores a ZIP bomb as it came, never unpacked', async () => {
        const bomb = zipBomb(50 * 1024 * 1024);
        expect(bomb.length).toBeLessThan(100 * 1024);
        const up = await upload(alice, bomb, 'logs.zip');
        expect(up).toMatchObject({ content_type: 'application/zip', size: bomb.length, sha256: sha(bomb) });
        const ticket = await createTicketAs(t, alice, { attachments: [up.upload_id] });
        const res = await t.as(alice, { url: (ticket.attachments as AttachmentBody[])[0]?.url as string });
        expect(res.rawPayload.equals(bomb)).toBe(true);
        expect(res.headers['content-disposition']).toMatch(/^attachment; filename="logs.zip"/);
      });

      it.each([
        ['../../etc/passwd', 'passwd'],
        ['..\\..\\x.txt', 'x.txt'],
        ['a\u0000b.txt', 'ab.txt'],
        ['invoice\u202Etxt.exe', 'invoicetxt.exe'],
        ['\u2066evil\u2069.txt', 'evil.txt'],
        ['.hidden', 'hidden'],
        ['', 'file'],
        ['résumé 📎.txt', 'résumé 📎.txt'],
        [`${'a'.repeat(1_000)}.txt`, `${'a'.repeat(196)}.txt`],
      ])('sanitizes the name %j for display, and never uses it as a path', async (name, shown) => {
        const up = await upload(alice, 'hello\n', name);
        expect(up.filename).toBe(shown);
        const ticket = await createTicketAs(t, alice, { attachments: [up.upload_id] });
        const res = await t.as(alice, { url: (ticket.attachments as AttachmentBody[])[0]?.url as string });
        expect(res.body).toBe('hello\n');
        const disposition = String(res.headers['content-disposition']);
        expect(disposition).toMatch(/^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!-]*$/);
        expect(decodeURIComponent(disposition.split("UTF-8''")[1] as string)).toBe(shown);
        // The blob is named by its hash, under the data directory.
        expect(fs.existsSync(path.join(t.dir, 'attachments', up.sha256.slice(0, 2), up.sha256.slice(2, 4), up.sha256))).toBe(true);
      });
    });

    describe('limits', () => {
      it('refuses a file over the size limit (413) and keeps nothing of it', async () => {
        await t.close();
        t = await buildTestApp(dialect, { HELPDESK_ATTACHMENT_MAX_BYTES: '1000' });
        expect((await send(alice, [{ filename: 'ok.txt', data: 'x'.repeat(1000) }])).statusCode).toBe(201);
        const body = problem(await send(alice, [{ filename: 'big.txt', data: 'x'.repeat(1001) }]), 413);
        expect(body.detail).toBe('file is too large: limit of 1000 bytes');
        expect(await uploadRows()).toBe(1);
        expect(await fsp.readdir(staging())).toEqual([]);
      });

      it('refuses a body of 1,000 parts, files (413) or fields (422), and keeps nothing', async () => {
        const files = multipart(Array.from({ length: 1_000 }, (_, i) => ({ filename: `f${i}.txt`, data: 'x' })));
        const tooMany = problem(await t.as(alice, { method: 'POST', url: UPLOADS, ...files }), 413);
        expect(tooMany.detail).toBe('send exactly one part: the file, in a field named `file`');
        problem(await send(alice, Array.from({ length: 1_000 }, (_, i) => ({ name: `f${i}`, data: 'x' }))), 422);
        expect(await uploadRows()).toBe(0);
        expect(await fsp.readdir(staging())).toEqual([]);
        expect(await fsp.readdir(path.join(t.dir, 'attachments'))).toEqual(['staging']);
      });

      it('takes one file part only: more parts after it are 413, a field or no file first 422, JSON 415', async () => {
        problem(await send(alice, [{ filename: 'a.txt', data: 'a' }, { filename: 'b.txt', data: 'b' }]), 413);
        problem(await send(alice, [{ filename: 'a.txt', data: 'a' }, { name: 'note', data: 'hello' }]), 413);
        problem(await send(alice, [{ name: 'note', data: 'hello' }, { filename: 'a.txt', data: 'a' }]), 422);
        problem(await send(alice, [{ name: 'other', filename: 'a.txt', data: 'a' }]), 422);
        problem(await send(alice, []), 422);
        problem(await t.as(alice, { method: 'POST', url: UPLOADS, payload: { file: 'x' } }), 415);
        expect(await uploadRows()).toBe(0);
        expect(await fsp.readdir(staging())).toEqual([]);
      });

      it('holds each user to a daily quota (429), counting what they uploaded in the last 24 hours', async () => {
        await t.close();
        t = await buildTestApp(dialect, { HELPDESK_ATTACHMENT_DAILY_BYTES: '3000' });
        await upload(alice, 'x'.repeat(2000), 'a.txt');
        const over = problem(await send(alice, [{ filename: 'b.txt', data: 'y'.repeat(2000) }]), 429);
        expect(over.detail).toBe('daily upload quota of 3000 bytes reached; try again later');
        await upload(bob, 'y'.repeat(2000), 'b.txt'); // another user has their own
        await upload(alice, 'z'.repeat(1000), 'c.txt'); // what fits still does
        problem(await send(alice, [{ filename: 'd.txt', data: 'd' }]), 429);
        expect(await fsp.readdir(staging())).toEqual([]);
      });

      it('answers 400 to a body longer than its Content-Length said, and keeps nothing', async () => {
        await t.app.listen({ port: 0, host: '127.0.0.1' });
        const { port } = t.app.server.address() as AddressInfo;
        const { payload, headers } = multipart([{ filename: 'long.txt', data: 'x'.repeat(10_000) }]);
        const token = await t.tokenFor(alice);
        const socket = net.connect(port, '127.0.0.1');
        const answer = new Promise<string>((resolve) => {
          let text = '';
          socket.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes('\r\n\r\n')) resolve(text);
          });
        });
        socket.write(`POST ${UPLOADS} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${headers['content-type']}\r\nContent-Length: ${payload.length - 2_000}\r\n\r\n`);
        socket.write(payload);
        expect((await answer).split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
        socket.destroy();
        // The 400 is Node's, for the bytes past the length (parsed as a second request): the
        // upload's handler may still be ending its cut-off body as it arrives, so its staging
        // file is looked for until the handler has finished.
        await vi.waitFor(async () => expect(await fsp.readdir(staging())).toEqual([]), { timeout: 10_000, interval: 20 });
        expect(await uploadRows()).toBe(0);
      });

      it('keeps nothing of an upload whose client dies mid-body', async () => {
        await t.app.listen({ port: 0, host: '127.0.0.1' });
        const { port } = t.app.server.address() as AddressInfo;
        const { payload, headers } = multipart([{ filename: 'cut.txt', data: 'x'.repeat(100_000) }]);
        const token = await t.tokenFor(alice);
        const socket = net.connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write(
          `POST ${UPLOADS} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${headers['content-type']}\r\nContent-Length: ${payload.length + 50_000}\r\n\r\n`,
        );
        socket.write(payload.subarray(0, 60_000));
        // Once the server is writing the file, the client dies mid-body.
        await vi.waitFor(async () => expect((await fsp.readdir(staging())).length).toBe(1), { timeout: 10_000, interval: 10 });
        socket.destroy();
        await vi.waitFor(async () => expect(await fsp.readdir(staging())).toEqual([]), { timeout: 10_000, interval: 20 });
        expect(await fsp.readdir(staging())).toEqual([]);
        expect(await uploadRows()).toBe(0);
      });
    });

    describe('housekeeping', () => {
      it('deletes uploads never attached after their hour, and their blobs unless still named', async () => {
        const store = fileBlobStore(t.dir);
        const kept = await upload(alice, PNG);
        await createTicketAs(t, alice, { attachments: [kept.upload_id] });
        const twin = await upload(bob, PNG); // same bytes, one blob
        const lone = await upload(bob, 'only here\n', 'lone.txt');
        const blobOf = (sha256: string) => path.join(t.dir, 'attachments', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
        // A staging file left by a process killed mid-upload.
        await fsp.writeFile(path.join(staging(), 'killed.part'), 'half');
        const old = new Date(Date.now() - 3 * HOUR);
        await fsp.utimes(path.join(staging(), 'killed.part'), old, old);
        await fsp.utimes(blobOf(lone.sha256), old, old);

        expect(await pruneOnce(t.db, { eventRetentionDays: 30, attachments: store })).toMatchObject({ uploads: 0 });
        expect(await pruneOnce(t.db, { eventRetentionDays: 30, attachments: store }, Date.now() + 2 * HOUR + 60_000)).toMatchObject({ uploads: 2 });
        expect(fs.existsSync(blobOf(lone.sha256))).toBe(false);
        expect(fs.existsSync(blobOf(kept.sha256))).toBe(true);
        expect(await fsp.readdir(staging())).toEqual([]);
        const refused = problem(await comment(bob, (await createTicketAs(t, bob)).ticket_id, { content: 'late', attachments: [twin.upload_id] }), 422);
        expect(refused.errors?.[0]?.location).toBe('body.attachments[0]');
        // The attached one is served still.
        expect((await t.as(sam, { url: `/api/v1/admin/support/attachments/${kept.upload_id}` })).rawPayload.equals(PNG)).toBe(true);
      });

      it('finds blobs a killed collector left behind when it checks every blob', async () => {
        const store = fileBlobStore(t.dir);
        const up = await upload(alice, 'orphan\n', 'o.txt');
        await t.db.deleteFrom('uploads').where('id', '=', up.upload_id).execute(); // the rows went, the process died
        const blob = path.join(t.dir, 'attachments', up.sha256.slice(0, 2), up.sha256.slice(2, 4), up.sha256);
        const old = new Date(Date.now() - 3 * HOUR);
        await fsp.utimes(blob, old, old);
        await pruneOnce(t.db, { eventRetentionDays: 30, attachments: store });
        expect(fs.existsSync(blob)).toBe(true);
        await pruneOnce(t.db, { eventRetentionDays: 30, attachments: store }, Date.now(), true);
        expect(fs.existsSync(blob)).toBe(false);
      });
    });
  } else {
    describe('housekeeping, database store', () => {
      it('deletes uploads never attached after their hour, and their blobs and chunks unless still named', async () => {
        const blobs = createBlobStore(t.config, t.db);
        const kept = await upload(alice, PNG);
        await createTicketAs(t, alice, { attachments: [kept.upload_id] });
        const lone = await upload(bob, 'only here\n', 'lone.txt');
        const stored = async () => (await t.db.selectFrom('attachment_blobs').select('sha256').orderBy('sha256').execute()).map((r) => r.sha256);
        const chunks = async (sha256: string) => (await t.db.selectFrom('attachment_chunks').select('n').where('sha256', '=', sha256).execute()).length;
        expect(await stored()).toEqual([kept.sha256, lone.sha256].sort());
        // Stored just now: spared even when its upload goes, until it is old enough.
        expect(await pruneOnce(t.db, { eventRetentionDays: 30, attachments: blobs }, Date.now() + 2 * HOUR + 60_000)).toMatchObject({ uploads: 1 });
        expect(await stored()).toContain(lone.sha256);
        await t.db.updateTable('attachment_blobs').set({ stored_at: new Date(Date.now() - 3 * HOUR).toISOString() }).execute();
        await pruneOnce(t.db, { eventRetentionDays: 30, attachments: blobs }, Date.now(), true);
        expect(await stored()).toEqual([kept.sha256]);
        expect(await chunks(lone.sha256)).toBe(0);
        expect(await chunks(kept.sha256)).toBe(1);
        expect((await t.as(sam, { url: `/api/v1/admin/support/attachments/${kept.upload_id}` })).rawPayload.equals(PNG)).toBe(true);
      });

      it('stores the same bytes once, however often they are uploaded', async () => {
        const first = await upload(alice, PNG);
        const second = await upload(bob, PNG);
        expect(second.sha256).toBe(first.sha256);
        expect(await t.db.selectFrom('attachment_chunks').select('n').execute()).toHaveLength(1);
        expect(await fsp.readdir(staging())).toEqual([]);
      });
    });
  }
});
