import fs from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { schemaUrl } from '../http/schemas.js';
import type { DevOutboxResponse } from './mail.schemas.js';
import { OUTBOX_DIR } from './mail.sender.js';

const SHOWN = 50;

/**
 * The development outbox (no SMTP configured): the latest messages written to
 * `<data dir>/outbox`, newest first. File names start with the time, so name order is time order.
 */
export async function listDevOutbox(dataDir: string): Promise<DevOutboxResponse> {
  const dir = path.join(dataDir, OUTBOX_DIR);
  const names = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const latest = names.filter((name) => name.endsWith('.eml')).sort().reverse().slice(0, SHOWN);
  const messages = await Promise.all(
    latest.map(async (name) => {
      const mail = await simpleParser(await fs.readFile(path.join(dir, name)), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
      const to = (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).map((a) => a.text).join(', ');
      return { id: name.slice(0, -'.eml'.length), to, subject: mail.subject ?? '', date: (mail.date ?? new Date(0)).toISOString(), text: mail.text ?? '' };
    }),
  );
  return { $schema: schemaUrl('DevOutboxResponse'), messages };
}
