import fsp from 'node:fs/promises';
import { fileTypeFromFile } from 'file-type';

/**
 * Which files are accepted, decided from their bytes: file-type's magic numbers for binary
 * formats, and for the rest a check that they are UTF-8 text that is not markup. The client's
 * Content-Type and the file's name never decide (the name only tells CSV and JSON from other
 * text, which is served as text either way).
 */
const ALLOWED_BINARY = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/bmp',
  'image/tiff',
  'image/avif',
  'image/heic',
  'application/pdf',
  'application/zip',
  'application/gzip',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
]);

const TEXT_TYPES = ['text/plain', 'text/csv', 'application/json'];

/** Every type an upload may have: the binary allow-list and the text types. */
export const STORED_TYPES: readonly string[] = [...ALLOWED_BINARY, ...TEXT_TYPES];

/**
 * Whether an upload's `contentType` fits bytes that `sniffContentType` calls `sniffed` when
 * given no name: the same type, or any text type for text (the name picked among those).
 */
export function fitsSniffed(contentType: string, sniffed: string): boolean {
  return contentType === sniffed || (sniffed === 'text/plain' && TEXT_TYPES.includes(contentType));
}

/** Shown by a browser in place (inline): raster images and PDF. Everything else is downloaded. */
const INLINE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp', 'image/avif', 'application/pdf']);

export function isInline(contentType: string): boolean {
  return INLINE.has(contentType);
}

/** What the allow-list accepts, for error messages. */
export const ALLOWED_DESCRIPTION = 'images (PNG, JPEG, GIF, WebP, BMP, TIFF, AVIF, HEIC), PDF, plain text and logs, CSV, JSON, ZIP, gzip, Office and OpenDocument files';

const TEXT_SAMPLE_BYTES = 64 * 1024;

/** Whether the first bytes are UTF-8 text: no invalid sequence, no control characters but tab, newlines, form feed and ESC (coloured logs). */
function isText(sample: Uint8Array, complete: boolean): boolean {
  let text: string;
  try {
    // A sample cut mid-character is fine: `stream` leaves the tail undecoded.
    text = new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: !complete });
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b\u000e-\u001a\u001c-\u001f\u007f]/.test(text);
}

/** Markup (HTML, SVG, XML) a browser could run as a page: refused even as text. */
function isMarkup(sample: Uint8Array): boolean {
  const head = new TextDecoder('utf-8').decode(sample.subarray(0, 1024)).replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('<');
}

/**
 * The content type of the file at `file`, from its bytes; undefined if the allow-list refuses
 * it. `filename` (already sanitized) only picks between text types.
 */
export async function sniffContentType(file: string, size: number, filename: string): Promise<string | undefined> {
  const detected = await fileTypeFromFile(file);
  if (detected) return ALLOWED_BINARY.has(detected.mime) ? detected.mime : undefined;
  if (size === 0) return 'text/plain';
  const handle = await fsp.open(file, 'r');
  let sample: Uint8Array;
  try {
    const buffer = Buffer.alloc(Math.min(size, TEXT_SAMPLE_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    sample = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (!isText(sample, size <= TEXT_SAMPLE_BYTES) || isMarkup(sample)) return undefined;
  const extension = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase();
  if (extension === 'csv') return 'text/csv';
  if (extension === 'json') return 'application/json';
  return 'text/plain';
}

const MAX_NAME_CHARS = 200;

/**
 * A file name fit to show and to put in a Content-Disposition header: the last path segment
 * (either slash), without control characters, bidirectional overrides or other invisible
 * format characters, without leading dots, at most 200 characters; `file` when nothing is
 * left. It is never used as a path: blobs are named by their hash.
 */
export function sanitizeFilename(name: string | undefined): string {
  const base = (name ?? '').normalize('NFC').split(/[/\\]/).pop() ?? '';
  const cleaned = base
    .replace(/[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/gu, '')
    .replace(/^[\s.]+/, '')
    .replace(/\s+$/, '');
  const chars = Array.from(cleaned);
  if (chars.length === 0) return 'file';
  if (chars.length <= MAX_NAME_CHARS) return cleaned;
  // Keep the extension when cutting a long name.
  const extension = /\.[\p{L}\p{N}]{1,10}$/u.exec(cleaned)?.[0] ?? '';
  return chars.slice(0, MAX_NAME_CHARS - extension.length).join('') + extension;
}

/** A Content-Disposition value: an ASCII fallback name, and the real one in RFC 8187 form. */
export function contentDisposition(kind: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
