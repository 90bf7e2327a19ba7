/**
 * The new text of a reply: quoted history and signatures removed. Mail clients quote in a few
 * common shapes: a "> " prefix, an attribution line ("On … wrote:", also folded over two lines,
 * and its French, German and Spanish forms), Outlook's "-----Original Message-----" or a rule
 * followed by a From:/Sent: header block; a signature starts at "-- " or a "Sent from my" line.
 */
export function stripQuotedReply(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const next = lines[i + 1] ?? '';
    if (startsHistory(line, next, lines[i + 2] ?? '')) break;
    if (/^--\s?$/.test(line) || /^sent from my\b/i.test(line.trim())) break;
    if (/^\s*>/.test(line)) continue;
    kept.push(line);
  }
  return kept.join('\n').trim();
}

const ATTRIBUTION = /^(on\b.{0,300}\bwrote|le\b.{0,300}\ba écrit|am\b.{0,300}\bschrieb|el\b.{0,300}\bescribió)\s*:\s*$/i;

function startsHistory(line: string, next: string, after: string): boolean {
  const trimmed = line.trim();
  if (ATTRIBUTION.test(trimmed) || ATTRIBUTION.test(`${trimmed} ${next.trim()}`)) return true;
  if (/^-{2,}\s*original message\s*-{2,}$/i.test(trimmed)) return true;
  // Outlook: an optional rule, then "From:" with "Sent:" or "Date:" close below.
  const header = /^\*?from:\*?\s/i;
  const sent = /^\*?(sent|date):\*?\s/i;
  if (/^_{10,}$/.test(trimmed) && header.test(next.trim())) return true;
  return header.test(trimmed) && (sent.test(next.trim()) || sent.test(after.trim()));
}
