import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { MailConfig } from '../config.js';
import type { Db } from '../db/database.js';
import { newId, nowIso } from '../db/ids.js';
import { addStaffComment } from '../admin/admin.service.js';
import { AppError } from '../http/problem.js';
import { ALL_TENANTS, findTicket } from '../tickets/ticket.repository.js';
import { addMyComment, createTicket } from '../tickets/ticket.service.js';
import type { TicketRow } from '../tickets/ticket.table.js';
import {
  countInboundSince,
  findCustomerByEmail,
  findSignedInCustomerByEmail,
  findStaffByEmail,
  findTicketByNumber,
  insertInbound,
  isOurMessageId,
  ticketOfMessageIds,
  wasTakenIn,
} from './mail.repository.js';
import { threadIdOf } from './mail.notifications.js';
import { mimeProblem } from './mail.mime.js';
import { stripQuotedReply } from './mail.quotes.js';
import type { InboundOutcome } from './mail.table.js';
import { readReplyToken, tokenOfAddress } from './mail.tokens.js';

/** The raw message kept for audit: its first bytes. */
export const MAX_STORED_RAW_BYTES = 256 * 1024;
const MAX_TITLE_CHARS = 200;
const MAX_TEXT_CHARS = 20_000;

/** What receiving mail needs. */
export interface InboundContext {
  db: Db;
  config: MailConfig;
  secret: string;
}

/** What became of a received message. */
export interface InboundResult {
  outcome: InboundOutcome;
  reason?: string | undefined;
  ticketId?: string | undefined;
  commentId?: string | undefined;
}

/** A message that cannot be read as mail at all: refused at the door (SMTP 550, HTTP 422). */
export class MalformedMail extends Error {}

const addressesOf = (field: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(field) ? field : field ? [field] : []).flatMap((group) => group.value.flatMap((a) => (a.address ? [a.address.toLowerCase()] : [])));

const bare = (id: string) => id.trim().replace(/^<|>$/g, '');

function headerText(mail: ParsedMail, name: string): string | undefined {
  const value = mail.headers.get(name);
  return typeof value === 'string' ? value : undefined;
}

/** Why a message must not be answered or taken in (auto-replies, lists, our own mail), if so. */
async function loopReason(context: InboundContext, mail: ParsedMail, sender: string): Promise<string | undefined> {
  const auto = headerText(mail, 'auto-submitted')?.trim().toLowerCase();
  if (auto && auto !== 'no') return `automatic message (Auto-Submitted: ${auto.slice(0, 40)})`;
  const precedence = headerText(mail, 'precedence')?.trim().toLowerCase();
  if (precedence && ['bulk', 'list', 'junk'].includes(precedence)) return `bulk message (Precedence: ${precedence})`;
  if (mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond')) return 'automatic reply';
  const { fromAddress, replyLocal, replyDomain } = context.config;
  if (sender === fromAddress.toLowerCase() || tokenOfAddress(context.config, sender) !== undefined || sender === `${replyLocal}@${replyDomain}`.toLowerCase()) {
    return 'sent from our own address';
  }
  if (mail.messageId && (await isOurMessageId(context.db, bare(mail.messageId)))) return 'one of our own messages';
  return undefined;
}

/** Every address a message was sent to: the envelope's, To, Cc and Delivered-To, in lower case. */
function recipientsOf(mail: ParsedMail, envelope: string[]): string[] {
  const deliveredTo = headerText(mail, 'delivered-to');
  return [...envelope, ...addressesOf(mail.to), ...addressesOf(mail.cc), ...(deliveredTo ? [deliveredTo.trim().toLowerCase()] : [])];
}

/**
 * Where a stranger's message opens a ticket, when the operator lets strangers in
 * (HELPDESK_MAIL_UNKNOWN_SENDERS=open): the tenant of the first address it was sent to that
 * HELPDESK_MAIL_INBOUND_TENANTS names, else HELPDESK_MAIL_INBOUND_TENANT.
 */
function strangerTenant(config: MailConfig, recipients: string[]): string | undefined {
  if (config.unknownSenders !== 'open') return undefined;
  for (const address of recipients) {
    const tenant = config.inboundTenants.get(address);
    if (tenant !== undefined) return tenant;
  }
  return config.inboundTenant;
}

/** Who may act on a ticket by mail: its customer, or staff. */
type Author = { kind: 'customer' } | { kind: 'staff'; id: string; email: string };

async function authorOn(db: Db, ticket: TicketRow, sender: string): Promise<Author | undefined> {
  if (sender === ticket.created_by_email.toLowerCase()) return { kind: 'customer' };
  const staff = await findStaffByEmail(db, sender);
  return staff ? { kind: 'staff', ...staff } : undefined;
}

/**
 * The ticket a message answers: (a) the token of a reply address it was sent to, then (b) one
 * of our Message-IDs in In-Reply-To or References, then (c) the `[#number]` subject tag. A
 * token whose HMAC does not hold for the sender is only believed from staff (a reply-all).
 */
async function findTarget(context: InboundContext, mail: ParsedMail, sender: string, recipients: string[]): Promise<{ ticket?: TicketRow; refused?: string }> {
  const { db, config, secret } = context;
  for (const address of recipients) {
    const token = tokenOfAddress(config, address);
    if (token === undefined) continue;
    const read = readReplyToken(secret, token, sender);
    if (!read) return { refused: 'reply address with an unreadable token' };
    if (!read.isGenuine && !(await findStaffByEmail(db, sender))) return { refused: 'reply token not issued to this sender' };
    const ticket = await findTicket(db, read.ticketId, ALL_TENANTS);
    return ticket ? { ticket } : { refused: 'reply token names no ticket' };
  }
  const references = [mail.inReplyTo ?? [], mail.references ?? []].flat().flatMap((ids) => ids.split(/\s+/)).filter(Boolean).map(bare);
  const threadPrefix = 'ticket-';
  for (const id of references) {
    const thread = id.startsWith(threadPrefix) && id.endsWith(`@${config.replyDomain}`) ? id.slice(threadPrefix.length, id.indexOf('@')) : undefined;
    if (thread && threadIdOf(config, thread) === id) {
      const ticket = await findTicket(db, thread, ALL_TENANTS);
      if (ticket) return { ticket };
    }
  }
  const known = await ticketOfMessageIds(db, references.slice(0, 100));
  if (known) return { ticket: await findTicket(db, known, ALL_TENANTS) };
  const tag = /\[#(\d{1,9})\]/.exec(mail.subject ?? '');
  if (tag) {
    const ticket = await findTicketByNumber(db, Number(tag[1]));
    if (ticket) return { ticket };
  }
  return {};
}

/** The new text of a message: its plain part (or its HTML as text), without quoted history. */
function newTextOf(mail: ParsedMail): string {
  const text = mail.text ?? '';
  return stripQuotedReply(text).slice(0, MAX_TEXT_CHARS).trim();
}

/**
 * Takes in one message (SMTP receiver or HTTP endpoint): finds its ticket and author, adds
 * the reply as a comment (or a note: staff starting with a line `#internal`), or opens a ticket
 * for a known customer; refuses strangers and ignores loops. Every message is recorded.
 */
export async function receiveMail(context: InboundContext, raw: Buffer, via: 'smtp' | 'http', envelope: string[] = []): Promise<InboundResult> {
  const problem = mimeProblem(raw);
  if (problem) throw new MalformedMail(problem);
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: 2 * 1024 * 1024 });
  } catch {
    throw new MalformedMail('the message cannot be parsed as e-mail');
  }
  const sender = addressesOf(mail.from)[0];
  if (!sender) throw new MalformedMail('the message has no From address');
  const result = await decide(context, mail, sender, envelope.map((a) => a.toLowerCase()));
  await insertInbound(context.db, {
    id: newId(),
    received_at: nowIso(),
    via,
    message_id: mail.messageId ? bare(mail.messageId).slice(0, 500) : null,
    sender: sender.slice(0, 320),
    subject: mail.subject?.slice(0, 500) ?? null,
    outcome: result.outcome,
    reason: result.reason ?? null,
    ticket_id: result.ticketId ?? null,
    comment_id: result.commentId ?? null,
    raw: raw.subarray(0, MAX_STORED_RAW_BYTES).toString('base64'),
    raw_bytes: raw.length,
  });
  return result;
}

async function decide(context: InboundContext, mail: ParsedMail, sender: string, envelope: string[]): Promise<InboundResult> {
  const { db, config } = context;
  const loop = await loopReason(context, mail, sender);
  if (loop) return { outcome: 'ignored', reason: loop };
  if (mail.messageId && (await wasTakenIn(db, bare(mail.messageId)))) return { outcome: 'ignored', reason: 'already received' };
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  if ((await countInboundSince(db, sender, hourAgo)) >= config.senderHourlyLimit) return { outcome: 'refused', reason: 'too many messages from this sender' };

  const recipients = recipientsOf(mail, envelope);
  const target = await findTarget(context, mail, sender, recipients);
  if (target.refused) return { outcome: 'refused', reason: target.refused };
  let text = newTextOf(mail);
  const ticket = target.ticket;
  if (ticket) {
    const author = await authorOn(db, ticket, sender);
    if (!author) return { outcome: 'refused', reason: 'the sender may not act on this ticket', ticketId: ticket.id };
    const isInternal = author.kind === 'staff' && /^#internal[ \t]*(\n|$)/i.test(text);
    if (isInternal) text = text.replace(/^#internal[ \t]*\n?/i, '').trim();
    if (text === '') return { outcome: 'refused', reason: 'no new text in the reply', ticketId: ticket.id };
    try {
      if (author.kind === 'staff') {
        const staff = { userId: author.id, tenantId: ticket.tenant_id, email: author.email, isStaff: true };
        const comment = await addStaffComment(db, staff, ticket.id, { content: text, isInternal }, null, 'email');
        return { outcome: isInternal ? 'note' : 'comment', ticketId: ticket.id, commentId: comment.comment_id };
      }
      const customer = { userId: ticket.created_by, tenantId: ticket.tenant_id, email: ticket.created_by_email, isStaff: false };
      // Closed is final (the API refuses comments on it too): the reply becomes a new ticket
      // that names the old one, so nothing the customer wrote is lost.
      if (ticket.status === 'closed') return await openTicket(customer, `Re: ${ticket.title}`, `Follow-up to #${ticket.number} (closed):\n\n${text}`, db);
      const comment = await addMyComment(db, customer, ticket.id, { content: text }, null, 'email');
      return { outcome: 'comment', ticketId: ticket.id, commentId: comment.comment_id };
    } catch (error) {
      if (error instanceof AppError && error.status < 500) return { outcome: 'refused', reason: error.message, ticketId: ticket.id };
      throw error;
    }
  }
  let customer = await findCustomerByEmail(db, sender);
  if (!customer) {
    // Staff answer tickets by mail; a staff message that answers none does not open one.
    if (await findStaffByEmail(db, sender)) return { outcome: 'refused', reason: 'a staff message that answers no ticket' };
    customer = await strangerAsCustomer(db, config, sender, recipients);
    if (!customer) return { outcome: 'refused', reason: 'unknown sender' };
  }
  if (text === '') return { outcome: 'refused', reason: 'empty message' };
  const title = (mail.subject ?? '').replace(/^\s*((re|fwd?|aw|sv):\s*)+/i, '').trim() || text.split('\n')[0] || 'Message by e-mail';
  return openTicket({ ...customer, isStaff: false }, title, text, db);
}

/**
 * The customer a stranger's message opens a ticket as, when the operator lets strangers in: in
 * the tenant their mail's address names; as the customer who signed in with that address, or
 * else `email:<address>` (the sender is the ticket's customer by address: replies by mail match).
 */
async function strangerAsCustomer(db: Db, config: MailConfig, sender: string, recipients: string[]): Promise<{ userId: string; tenantId: string; email: string } | undefined> {
  const tenantId = strangerTenant(config, recipients);
  if (tenantId === undefined) return undefined;
  return { userId: (await findSignedInCustomerByEmail(db, sender)) ?? `email:${sender}`, tenantId, email: sender };
}

async function openTicket(customer: { userId: string; tenantId: string; email: string; isStaff: boolean }, title: string, text: string, db: Db): Promise<InboundResult> {
  const ticket = await createTicket(db, customer, { title: Array.from(title.trim()).slice(0, MAX_TITLE_CHARS).join(''), description: text, type: 'support' });
  return { outcome: 'ticket', ticketId: ticket.ticket_id };
}
