import type { Db } from '../db/database.js';
import { indexedTextSql } from '../search/search.documents.js';
import { sql } from 'kysely';
import type { SearchSnippet } from './admin.schemas.js';

/** The texts of one ticket a search looked in, in the order they are tried: title, description, comments oldest first. */
export interface SearchedTexts {
  title: string;
  description: string;
  comments: string[];
}

/** About this many characters of text around the first match. */
const WINDOW = 200;
/** How much of the window comes before the first match, when the text is cut. */
const LEAD = 60;

/**
 * The texts of a search page's tickets, read only for that page: titles and descriptions, and
 * the comments (their searched part, internal notes too) of the tickets whose title and
 * description alone do not hold every word.
 */
export async function searchedTexts(db: Db, rows: Array<{ id: string }>, words: string[]): Promise<Map<string, SearchedTexts>> {
  const texts = new Map<string, SearchedTexts>();
  if (rows.length === 0) return texts;
  const tickets = await db
    .selectFrom('tickets')
    .select(['id', 'title', 'description'])
    .where(
      'id',
      'in',
      rows.map((row) => row.id),
    )
    .execute();
  for (const t of tickets) texts.set(t.id, { title: t.title, description: t.description, comments: [] });
  const needComments = tickets.filter((t) => !words.every((word) => beginsAWord(fold(`${t.title} ${t.description}`).text, word))).map((t) => t.id);
  if (needComments.length > 0) {
    const comments = await db
      .selectFrom('ticket_comments as c')
      .select(['c.ticket_id', sql<string>`${sql.raw(indexedTextSql('c'))}`.as('text')])
      .where('c.ticket_id', 'in', needComments)
      .where((eb) => eb.or([eb('c.indexed_chars', 'is', null), eb('c.indexed_chars', '>', 0)]))
      .orderBy('c.ticket_id')
      .orderBy('c.created_at')
      .orderBy('c.id')
      .execute();
    for (const c of comments) texts.get(c.ticket_id)?.comments.push(c.text);
  }
  return texts;
}

/** Each ticket's snippet: the first of its texts holding the most of the words, cut around the first match. */
export function snippetsOf(texts: Map<string, SearchedTexts>, words: string[]): Map<string, SearchSnippet | null> {
  const out = new Map<string, SearchSnippet | null>();
  for (const [id, t] of texts) out.set(id, snippetOf(t, words));
  return out;
}

export function snippetOf(texts: SearchedTexts, words: string[]): SearchSnippet | null {
  const candidates: Array<[SearchSnippet['source'], string]> = [['title', texts.title], ['description', texts.description], ...texts.comments.map((c): ['comment', string] => ['comment', c])];
  let best: { source: SearchSnippet['source']; text: string; spans: Array<[number, number]>; found: number } | undefined;
  for (const [source, text] of candidates) {
    const spans = matchedWords(text, words);
    const found = new Set(spans.map(([, , w]) => w)).size;
    if (found > 0 && (best === undefined || found > best.found)) best = { source, text, spans: spans.map(([s, e]) => [s, e]), found };
    if (best !== undefined && best.found === words.length) break;
  }
  if (best === undefined) return null;
  return { source: best.source, ...cut(best.text, best.spans) };
}

/**
 * Text as the search indexes see it, for finding where a word begins: lower-cased and without
 * diacritics (as SQLite's unicode61 tokenizer folds them), with each folded character's offset
 * in the original text.
 */
function fold(text: string): { text: string; at: number[] } {
  let folded = '';
  const at: number[] = [];
  let i = 0;
  for (const ch of text) {
    const f = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    for (let k = 0; k < f.length; k++) at.push(i);
    folded += f;
    i += ch.length;
  }
  at.push(i);
  return { text: folded, at };
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

function beginsAWord(folded: string, word: string): boolean {
  let from = 0;
  for (;;) {
    const p = folded.indexOf(word, from);
    if (p < 0) return false;
    if (p === 0 || !WORD_CHAR.test(folded[p - 1] as string)) return true;
    from = p + 1;
  }
}

/** Where the words begin words of the text: each whole word so begun, as [start, end, which word], in order. */
function matchedWords(text: string, words: string[]): Array<[number, number, number]> {
  const { text: folded, at } = fold(text);
  const spans: Array<[number, number, number]> = [];
  let p = 0;
  while (p < folded.length) {
    if (!WORD_CHAR.test(folded[p] as string)) {
      p++;
      continue;
    }
    let end = p;
    while (end < folded.length && WORD_CHAR.test(folded[end] as string)) end++;
    const token = folded.slice(p, end);
    const which = words.findIndex((word) => token.startsWith(word));
    if (which >= 0) spans.push([at[p] as number, at[end] as number, which]);
    p = end;
  }
  return spans;
}

/** About WINDOW characters around the first span, `…` where cut, and the spans inside as marks. */
function cut(text: string, spans: Array<[number, number]>): Pick<SearchSnippet, 'text' | 'marks'> {
  const first = spans[0] as [number, number];
  let start = text.length <= WINDOW ? 0 : Math.max(0, Math.min(first[0] - LEAD, text.length - WINDOW));
  // Begin at a word, not inside one (a lone low surrogate included).
  while (start > 0 && start < first[0] && /[\p{L}\p{N}\uDC00-\uDFFF]/u.test(text[start - 1] as string)) start++;
  let end = Math.min(text.length, start + WINDOW);
  while (end < text.length && end > first[1] && /[\p{L}\p{N}\uDC00-\uDFFF]/u.test(text[end] as string)) end--;
  const before = start > 0 ? '…' : '';
  const after = end < text.length ? '…' : '';
  const marks = spans
    .filter(([s, e]) => s >= start && e <= end)
    .map(([s, e]) => ({ start: s - start + before.length, end: e - start + before.length }));
  return { text: `${before}${text.slice(start, end)}${after}`, marks };
}
