// Mail fan-out: how many events a second the mail consumer turns into outbox rows, against a
// baseline in the same run: a consumer that reads the same events and writes nothing. The events
// are spread over many tickets and customers (a new ticket, a staff reply, a customer reply each).
// Run: node --import tsx bench/mail-fanout.ts [sqlite|postgres] [tickets]
import { performance } from 'node:perf_hooks';
import { buildTestApp, createTicketAs, sam, type TestUser } from '../test/helpers.js';
import { feedSettled } from '../test/events.js';
import { consumeEvents } from '../src/events/event.consumer.js';
import { NOTIFYING_EVENTS } from '../src/mail/mail.notifications.js';
import { createMailContext } from '../src/mail/mail.service.js';
import { queueMailFromEvents } from '../src/mail/mail.worker.js';

const dialect = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';
const tickets = Number(process.argv[3] ?? 300);
const t = await buildTestApp(dialect, {
  HELPDESK_SMTP_URL: 'smtp://127.0.0.1:1',
  HELPDESK_MAIL_FROM: 'support@desk.test',
  HELPDESK_MAIL_TEAM: 'team@desk.test',
  HELPDESK_MAIL_SECRET: 's'.repeat(40),
  LOG_LEVEL: 'silent',
});
const context = await createMailContext(t.config, t.db);
const BASELINE = 'bench-read-only';
const readOnly = () => consumeEvents(t.db, BASELINE, async () => {}, { batch: 100, filter: { types: NOTIFYING_EVENTS } });
// Both consumers start at the end of the feed: place them before the events are made.
await queueMailFromEvents(t.db, context);
await readOnly();

const ADMIN = '/api/v1/admin/support/tickets';
for (let i = 0; i < tickets; i++) {
  const customer: TestUser = { id: `user_${i % 50}`, email: `customer${i % 50}@acme.test`, org: `org_${i % 5}` };
  const { ticket_id: id } = await createTicketAs(t, customer, { title: `Ticket ${i}` });
  await t.as(sam, { method: 'POST', url: `${ADMIN}/${id}/comments`, payload: { content: `Answer ${i}` } });
  await t.as(customer, { method: 'POST', url: `/api/v1/support/tickets/${id}/comments`, payload: { content: `Thanks ${i}` } });
}
await feedSettled(t.db);

const drain = async (round: () => Promise<number>) => {
  const start = performance.now();
  let events = 0;
  for (let n = await round(); n > 0; n = await round()) events += n;
  return { events, perSecond: Math.round(events / ((performance.now() - start) / 1000)) };
};
const baseline = await drain(readOnly);
const fanOut = await drain(() => queueMailFromEvents(t.db, context));
const rows = await t.db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();

process.stdout.write(
  `${JSON.stringify({
    dialect,
    events: fanOut.events,
    outbox_rows: Number(rows.n),
    read_only_events_per_s: baseline.perSecond,
    fan_out_events_per_s: fanOut.perSecond,
    fan_out_vs_read_only: +(fanOut.perSecond / baseline.perSecond).toFixed(2),
  })}\n`,
);
await t.close();
