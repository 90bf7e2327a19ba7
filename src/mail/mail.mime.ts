/**
 * What is structurally wrong with a message's MIME, if anything. mailparser reads whatever it is
 * given, so a multipart message without a boundary, with no parts, or cut off before its closing
 * boundary (truncated in transit) would become a comment of fragments or garbage; such a message
 * is refused instead, and its sender's MTA tells them. Checks the multipart tree (not
 * attachments' contents; an attached message/rfc822 is not entered).
 */
export function mimeProblem(raw: Buffer): string | undefined {
  return entityProblem(raw.toString('latin1'), 0);
}

const MAX_DEPTH = 20;

function entityProblem(entity: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return 'malformed MIME: multipart nesting too deep';
  // A part that starts with an empty line has no headers: plain text.
  if (depth > 0 && /^\r?\n/.test(entity)) return undefined;
  const end = /\r?\n\r?\n/.exec(entity);
  const head = end ? entity.slice(0, end.index) : entity;
  const body = end ? entity.slice(end.index + end[0].length) : '';
  // Folded header lines continue with white space.
  const contentType = /^content-type:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1]?.replace(/\r?\n[ \t]+/g, ' ');
  if (!contentType || !/^multipart\//i.test(contentType.trim())) return undefined;
  const boundary = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  const name = boundary?.[1] ?? boundary?.[2];
  if (!name) return 'malformed MIME: a multipart part without a boundary';
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const delimiters = [...body.matchAll(new RegExp(`(?:^|\\n)--${escaped}(--)?[ \\t]*(?=\\r?\\n|$)`, 'g'))];
  if (delimiters.length === 0) return 'malformed MIME: a multipart part with no parts';
  const closing = delimiters.findIndex((match) => match[1] === '--');
  if (closing === -1) return 'malformed MIME: a multipart part without its closing boundary (truncated?)';
  for (let i = 0; i < closing; i++) {
    const from = (delimiters[i]?.index ?? 0) + (delimiters[i]?.[0].length ?? 0);
    const part = body.slice(from, delimiters[i + 1]?.index).replace(/^[ \t]*\r?\n/, '');
    const problem = entityProblem(part, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}
