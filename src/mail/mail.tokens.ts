import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MailConfig } from '../config.js';

const SECRET_FILE = 'mail-secret';
// Lower case only: some mail systems fold the case of local parts.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_CHARS = 26;
const MAC_BYTES = 10;

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string, length: number): Buffer | undefined {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) return undefined;
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return out.length === length ? Buffer.from(out) : undefined;
}

const mac = (secret: string, ticketId: string, recipient: string): Buffer =>
  createHmac('sha256', secret).update(`reply\0${ticketId}\0${recipient.toLowerCase()}`).digest().subarray(0, MAC_BYTES);

/**
 * The token in a notification's Reply-To: the ticket's id and an HMAC over the ticket and the
 * recipient's address, so a reply proves it comes from someone who received that message.
 */
export function replyToken(secret: string, ticketId: string, recipient: string): string {
  return base32(Buffer.from(ticketId.replace(/-/g, ''), 'hex')) + base32(mac(secret, ticketId, recipient));
}

/** What a token says: the ticket it names, and whether its HMAC holds for `sender`. */
export function readReplyToken(secret: string, token: string, sender: string): { ticketId: string; isGenuine: boolean } | undefined {
  const lower = token.toLowerCase();
  const id = unbase32(lower.slice(0, ID_CHARS), 16);
  const given = unbase32(lower.slice(ID_CHARS), MAC_BYTES);
  if (!id || !given) return undefined;
  const hex = id.toString('hex');
  const ticketId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { ticketId, isGenuine: timingSafeEqual(given, mac(secret, ticketId, sender)) };
}

/** The address replies go to: `<local>+<token>@<domain>`. */
export function replyAddress(config: MailConfig, token: string): string {
  return `${config.replyLocal}+${token}@${config.replyDomain}`;
}

/** The token of one of our reply addresses, or undefined for any other address. */
export function tokenOfAddress(config: MailConfig, address: string): string | undefined {
  const lower = address.toLowerCase();
  const prefix = `${config.replyLocal.toLowerCase()}+`;
  const suffix = `@${config.replyDomain}`;
  if (!lower.startsWith(prefix) || !lower.endsWith(suffix)) return undefined;
  return lower.slice(prefix.length, lower.length - suffix.length);
}

/**
 * The HMAC key: HELPDESK_MAIL_SECRET, or one kept in the data directory, created on first use
 * (instances sharing a database but not a data directory must set the variable).
 */
export async function loadMailSecret(config: { dataDir: string; mail: MailConfig }): Promise<string> {
  if (config.mail.secret) return config.mail.secret;
  const file = path.join(config.dataDir, SECRET_FILE);
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await fs.mkdir(config.dataDir, { recursive: true });
  try {
    await fs.writeFile(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return (await fs.readFile(file, 'utf8')).trim();
}
