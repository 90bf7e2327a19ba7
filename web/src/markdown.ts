import DOMPurify from 'dompurify';
import { Marked } from 'marked';

// Messages are Markdown written by customers and agents, so nobody's text may become markup the
// page runs or loads: raw HTML is shown as the text it is, links go only to http(s) and mailto,
// images are not loaded (a tracking pixel would tell a sender who read it), and DOMPurify checks
// the result against a short list of tags whatever the renderer did.
const SAFE_URL = /^(?:https?:|mailto:)/i;
const LINK_REL = 'noopener noreferrer nofollow';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** The href to write for a link, or undefined when it may not be one. */
function safeHref(href: string): string | undefined {
  if (!SAFE_URL.test(href)) return undefined;
  try {
    return escapeHtml(encodeURI(decodeURI(href)));
  } catch {
    return undefined;
  }
}

const markdown = new Marked({
  gfm: true,
  // A line break in a message is a line break, as people expect from a plain text box.
  breaks: true,
  async: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
    // The page has its h1 and h2; a message's headings sit below them.
    heading({ tokens, depth }) {
      const level = Math.min(6, depth + 2);
      return `<h${level}>${this.parser.parseInline(tokens)}</h${level}>\n`;
    },
    link({ href, title, tokens }) {
      const text = this.parser.parseInline(tokens);
      const safe = safeHref(href);
      if (!safe) return text;
      return `<a href="${safe}"${title ? ` title="${escapeHtml(title)}"` : ''}>${text}</a>`;
    },
    image({ href, text }) {
      const safe = safeHref(href);
      const label = escapeHtml(text || href);
      return safe ? `<a href="${safe}">${label}</a>` : label;
    },
    checkbox({ checked }) {
      return checked ? '☑ ' : '☐ ';
    },
  },
});

const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td'];

// Every link opens apart from the dashboard and tells the other site nothing about it.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName !== 'A') return;
  if (!node.getAttribute('href')) return;
  node.setAttribute('rel', LINK_REL);
  node.setAttribute('target', '_blank');
});

/** A message's Markdown as sanitised HTML. */
export function renderMarkdown(text: string): string {
  const html = markdown.parse(text) as string;
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ['href', 'title', 'rel', 'target', 'start', 'align'],
    ALLOWED_URI_REGEXP: SAFE_URL,
  });
}
