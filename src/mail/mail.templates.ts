import fs from 'node:fs/promises';
import path from 'node:path';
import { MAIL_KINDS, type MailKind } from './mail.table.js';

/** One notification's subject, plain-text part and HTML part, with `{{ name }}` placeholders. */
export interface MailTemplate {
  subject: string;
  text: string;
  html: string;
}
export type MailTemplates = Record<MailKind, MailTemplate>;

/** What a template may use. */
export interface TemplateValues {
  product: string;
  ticket_title: string;
  ticket_number: string;
  ticket_status: string;
  /** The new comment, or the new ticket's description. */
  message: string;
  author: string;
  link: string;
}

const FOOTER_TEXT = '\n\n--\nReply to this e-mail to answer, or open the ticket: {{ link }}\n{{ product }}\n';
const FOOTER_HTML = '<hr><p style="color:#666;font-size:12px">Reply to this e-mail to answer, or <a href="{{ link }}">open the ticket</a>.<br>{{ product }}</p>';
const wrapHtml = (body: string) => `<!doctype html><html><body style="font-family:sans-serif">${body}${FOOTER_HTML}</body></html>\n`;

const DEFAULTS: MailTemplates = {
  new_ticket: {
    subject: 'New ticket: {{ ticket_title }}',
    text: '{{ author }} opened a ticket:\n\n{{ ticket_title }}\n\n{{ message }}' + FOOTER_TEXT,
    html: wrapHtml('<p>{{ author }} opened a ticket:</p><h2>{{ ticket_title }}</h2><p>{{ message }}</p>'),
  },
  customer_reply: {
    subject: 'Re: {{ ticket_title }}',
    text: '{{ author }} replied:\n\n{{ message }}' + FOOTER_TEXT,
    html: wrapHtml('<p>{{ author }} replied:</p><p>{{ message }}</p>'),
  },
  staff_reply: {
    subject: 'Re: {{ ticket_title }}',
    text: '{{ message }}' + FOOTER_TEXT,
    html: wrapHtml('<p>{{ message }}</p>'),
  },
  ticket_resolved: {
    subject: 'Resolved: {{ ticket_title }}',
    text: 'Your ticket "{{ ticket_title }}" was marked resolved. If it is not, reply to this e-mail and it opens again.' + FOOTER_TEXT,
    html: wrapHtml('<p>Your ticket “{{ ticket_title }}” was marked resolved. If it is not, reply to this e-mail and it opens again.</p>'),
  },
  ticket_closed: {
    subject: 'Closed: {{ ticket_title }}',
    text: 'Your ticket "{{ ticket_title }}" was closed. A reply to this e-mail opens a new ticket.' + FOOTER_TEXT,
    html: wrapHtml('<p>Your ticket “{{ ticket_title }}” was closed. A reply to this e-mail opens a new ticket.</p>'),
  },
};

const PARTS = { subject: 'subject.txt', text: 'txt', html: 'html' } as const;

/**
 * The built-in templates, each part replaced by `<kind>.<subject.txt|txt|html>` where the
 * operator's folder has that file. Read once at start: a broken folder fails the start, not a send.
 */
export async function loadTemplates(dir: string | undefined): Promise<MailTemplates> {
  const templates = structuredClone(DEFAULTS);
  if (dir === undefined) return templates;
  for (const kind of MAIL_KINDS) {
    for (const [part, extension] of Object.entries(PARTS) as Array<[keyof MailTemplate, string]>) {
      try {
        templates[kind][part] = await fs.readFile(path.join(dir, `${kind}.${extension}`), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
  return templates;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** Fills `{{ name }}` placeholders; in HTML every value is escaped and its line breaks kept. */
export function renderTemplate(template: string, values: TemplateValues, format: 'text' | 'html'): string {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) => {
    if (!Object.hasOwn(values, name)) return whole;
    const value = values[name as keyof TemplateValues];
    return format === 'html' ? escapeHtml(value).replace(/\r?\n/g, '<br>\n') : value;
  });
}
