import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Multipart } from '@fastify/multipart';
import type { Db } from '../db/database.js';
import { canonicalUuid, newId, nowIso } from '../db/ids.js';
import type { Actor } from '../http/auth.js';
import { AppError, notFound } from '../http/problem.js';
import { presentAttachment, presentUpload, type AttachmentSide } from './attachment.presenter.js';
import {
  attachableUploads,
  deleteExpiredUploads,
  findAttachment,
  insertUpload,
  isBlobReferenced,
  listTicketAttachments,
  referencedBlobs,
  uploadedBytesSince,
  type AttachmentWithTicket,
} from './attachment.repository.js';
import type { Attachment, Upload } from './attachment.schemas.js';
import type { BlobStore } from './attachment.store.js';
import type { AttachmentRow, TicketAttachmentRow, UploadRow } from './attachment.table.js';
import { ALLOWED_DESCRIPTION, contentDisposition, isInline, sanitizeFilename, sniffContentType } from './attachment.types.js';

/** An upload not attached within this long is deleted. */
export const UPLOAD_LIFETIME_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface AttachmentLimits {
  maxBytes: number;
  dailyBytes: number;
}

export interface AttachmentDeps {
  db: Db;
  store: BlobStore;
  limits: AttachmentLimits;
}

/** What the multipart parser may accept: one file part named `file`, nothing else. */
export function multipartLimits(limits: AttachmentLimits) {
  return { fileSize: limits.maxBytes, files: 1, fields: 0, parts: 1, headerPairs: 20 };
}

const tooLarge = (limits: AttachmentLimits) => new AppError(413, `file is too large: limit of ${limits.maxBytes} bytes`);

async function checkQuota(db: Db, actor: Actor, limits: AttachmentLimits, adding: number, now: number): Promise<void> {
  const used = await uploadedBytesSince(db, actor.userId, new Date(now - DAY_MS).toISOString());
  if (used + adding > limits.dailyBytes || (adding === 0 && used >= limits.dailyBytes)) {
    throw new AppError(429, `daily upload quota of ${limits.dailyBytes} bytes reached; try again later`, undefined, { 'retry-after': '3600' });
  }
}

/** Translates the multipart parser's refusals into problem documents (its own are 406 or bare). */
function multipartError(error: unknown, limits: AttachmentLimits): unknown {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return tooLarge(limits);
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError(413, 'send exactly one part: the file, in a field named `file`');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError(415, 'unsupported media type: send the file as multipart/form-data');
    case 'FST_PROTO_VIOLATION':
      return new AppError(400, 'malformed multipart body');
    default:
      // busboy's own errors: a body cut short (a wrong Content-Length, an aborted upload) or malformed.
      if (error instanceof Error && !(error instanceof AppError) && /Unexpected end of|Malformed|boundary/i.test(error.message)) {
        return new AppError(400, `malformed multipart body: ${error.message}`);
      }
      return error;
  }
}

/**
 * Receives one file: streamed to a staging file while hashed (never held whole in memory),
 * checked against the size limit, the caller's daily quota and the type allow-list (by its
 * bytes), made durable in the blob store, then recorded as the caller's upload. A refused,
 * cut-short or aborted upload leaves nothing behind (a killed process leaves a staging file
 * that housekeeping removes).
 */
export async function receiveUpload(deps: AttachmentDeps, actor: Actor, parts: () => AsyncIterableIterator<Multipart>): Promise<Upload> {
  const { db, store, limits } = deps;
  const started = Date.now();
  await checkQuota(db, actor, limits, 0, started);
  const staged = store.stage();
  try {
    let received: { filename: string; size: number; sha256: string } | undefined;
    try {
      for await (const part of parts()) {
        if (part.type !== 'file' || part.fieldname !== 'file' || received) {
          if (part.type === 'file') part.file.resume();
          throw new AppError(422, 'validation failed', [{ location: 'body.file', message: 'send exactly one part: the file, in a field named `file`' }]);
        }
        received = await stageFile(part.file, staged.path, part.filename);
        if (part.file.truncated) throw tooLarge(limits);
      }
    } catch (error) {
      throw multipartError(error, limits);
    }
    if (!received) throw new AppError(422, 'validation failed', [{ location: 'body.file', message: 'expected a file in a field named `file`' }]);
    const contentType = await sniffContentType(staged.path, received.size, received.filename);
    if (!contentType) throw new AppError(415, `file type not allowed: accepted are ${ALLOWED_DESCRIPTION}`);
    await checkQuota(db, actor, limits, received.size, started);
    await store.commit(staged.path, received.sha256);
    const now = Date.now();
    const row: UploadRow = {
      id: newId(),
      tenant_id: actor.tenantId,
      uploader_id: actor.userId,
      filename: received.filename,
      content_type: contentType,
      size: received.size,
      sha256: received.sha256,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + UPLOAD_LIFETIME_MS).toISOString(),
    };
    await insertUpload(db, row);
    return presentUpload(row);
  } finally {
    // Committed: already moved away, so this removes nothing.
    await store.discard(staged.path);
  }
}

/** Writes a file part to `target` and fsyncs it, hashing on the way. */
async function stageFile(file: Readable, target: string, name: string): Promise<{ filename: string; size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const out = fs.createWriteStream(target, { flags: 'wx', flush: true });
  try {
    await pipeline(
      file,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      out,
    );
  } catch (error) {
    // The pipeline fails as soon as the request does, while the file may still be opening: once
    // it is closed, it is there for the caller to discard (discarded before, it came back).
    if (!out.closed) await once(out, 'close');
    throw error;
  }
  return { filename: sanitizeFilename(name), size, sha256: hash.digest('hex') };
}

/**
 * The uploads named in `attachments` of a new ticket or comment by `actor`: each must be theirs,
 * in their tenant, unattached and unexpired; anything else is a 422 naming it, exactly as an
 * unknown id (another user's upload is not told apart).
 */
export async function uploadsToAttach(db: Db, actor: Actor, ids: readonly string[] | undefined): Promise<UploadRow[]> {
  if (!ids || ids.length === 0) return [];
  const canonical = ids.map(canonicalUuid);
  const found = new Map((await attachableUploads(db, { tenantId: actor.tenantId, userId: actor.userId }, canonical, nowIso())).map((row) => [row.id, row]));
  const errors = canonical.flatMap((id, i) =>
    found.has(id) ? [] : [{ location: `body.attachments[${i}]`, message: 'expected the ID of your own upload, not attached yet and not expired', value: ids[i] }],
  );
  if (errors.length > 0) throw new AppError(422, 'validation failed', errors);
  return canonical.map((id) => found.get(id) as UploadRow);
}

/** The attachments as read, from the rows a write adds and the uploads they name. */
export function attachedRows(rows: readonly TicketAttachmentRow[] | undefined, uploads: readonly UploadRow[]): AttachmentRow[] {
  const byId = new Map(uploads.map((upload) => [upload.id, upload]));
  return (rows ?? []).map((row) => {
    const upload = byId.get(row.upload_id) as UploadRow;
    return { ...row, filename: upload.filename, content_type: upload.content_type, size: upload.size, sha256: upload.sha256 };
  });
}

/** A ticket's attachments as its reader may see them (notes' only for staff). */
export function ticketAttachments(db: Db, ticketId: string, side: AttachmentSide): Promise<AttachmentRow[]> {
  return listTicketAttachments(db, ticketId, { includeInternal: side === 'staff' });
}

/**
 * A write that lost a race for an upload (another request attached it first, or housekeeping
 * deleted it at its expiry) is the same 422 as naming it when already taken. Only a write that
 * attaches something can lose one.
 */
export function rethrowAttachRace(error: unknown, attaching: boolean): never {
  if (!attaching) throw error;
  const { code, constraint, message } = (error ?? {}) as { code?: unknown; constraint?: unknown; message?: unknown };
  const onAttachments =
    (code === '23505' && constraint === 'ticket_attachments_pkey') ||
    (code === '23503' && constraint === 'ticket_attachments_upload_id_fkey') ||
    ((code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') && typeof message === 'string' && /ticket_attachments|FOREIGN KEY/.test(message));
  if (onAttachments) {
    throw new AppError(422, 'validation failed', [{ location: 'body.attachments', message: 'an upload was attached or expired meanwhile; upload it again' }]);
  }
  throw error;
}

/** A download: headers to send and the bytes (undefined for 304). */
export interface Download {
  status: 200 | 206 | 304;
  headers: Record<string, string>;
  body: Readable | undefined;
}

/**
 * An attachment's bytes for `actor`, authorized exactly like its ticket: a customer reads
 * attachments of their own tickets in their tenant, never those on internal notes; staff read
 * any. Anything else is the same 404 as an unknown id. Honours `Range` (one range) and
 * `If-None-Match` (the ETag is the content's SHA-256).
 */
export async function downloadAttachment(
  deps: Pick<AttachmentDeps, 'db' | 'store'>,
  actor: Actor,
  side: AttachmentSide,
  attachmentId: string,
  request: { range?: string | undefined; ifNoneMatch?: string | undefined },
): Promise<Download> {
  const row = await findAttachment(deps.db, canonicalUuid(attachmentId));
  if (!row || !mayRead(row, actor, side)) throw notFound('attachment');
  const size = Number(row.size);
  const etag = `"${row.sha256}"`;
  const attachment = presentAttachment(row, side);
  const headers: Record<string, string> = {
    etag,
    'accept-ranges': 'bytes',
    'cache-control': 'private, no-cache',
    'content-type': row.content_type.startsWith('text/') || row.content_type === 'application/json' ? `${row.content_type}; charset=utf-8` : row.content_type,
    'content-disposition': contentDisposition(isInline(row.content_type) ? 'inline' : 'attachment', attachment.filename),
    'x-content-type-options': 'nosniff',
    // Even opened as a page, the file runs nothing and loads nothing.
    'content-security-policy': "sandbox; default-src 'none'",
  };
  if (request.ifNoneMatch !== undefined && request.ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*')) {
    return { status: 304, headers, body: undefined };
  }
  const range = request.range === undefined ? undefined : parseRange(request.range, size);
  if (range === 'unsatisfiable') {
    throw new AppError(416, `range not satisfiable: the file has ${size} bytes`, undefined, { 'content-range': `bytes */${size}` });
  }
  const body = size === 0 ? undefined : await deps.store.read(row.sha256, range);
  if (size > 0 && !body) throw new AppError(500, 'attachment bytes missing from the store', undefined, undefined, new Error(`blob ${row.sha256} missing`));
  if (range) {
    return {
      status: 206,
      headers: { ...headers, 'content-range': `bytes ${range.start}-${range.end}/${size}`, 'content-length': String(range.end - range.start + 1) },
      body,
    };
  }
  return { status: 200, headers: { ...headers, 'content-length': String(size) }, body };
}

function mayRead(row: AttachmentWithTicket, actor: Actor, side: AttachmentSide): boolean {
  if (side === 'staff') return true;
  return row.tenant_id === actor.tenantId && row.created_by === actor.userId && row.is_internal === 0;
}

/**
 * One `bytes=` range of a file of `size` bytes; undefined (the whole file) for a header that
 * is not one simple range (several ranges, another unit), as RFC 9110 allows.
 */
function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [first, last] = [match[1] as string, match[2] as string];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** The attachment list of a ticket or comment response. */
export function presentAttachments(rows: AttachmentRow[], side: AttachmentSide): Attachment[] {
  return rows.map((row) => presentAttachment(row, side));
}

const BATCH = 500;

/**
 * Housekeeping for attachments: deletes uploads never attached an hour past their expiry
 * (the margin lets a request that checked one just before it expired finish attaching it),
 * then the blobs no upload names any more, and staging files of uploads killed mid-way. With
 * `everyBlob`, every stored blob is checked (after a restart: a collector killed between
 * deleting rows and blobs left some).
 */
export async function pruneAttachments(db: Db, store: BlobStore, now: number, everyBlob = false): Promise<{ uploads: number; blobs: number; staged: number }> {
  const before = new Date(now - UPLOAD_LIFETIME_MS).toISOString();
  let uploads = 0;
  let blobs = 0;
  const collect = async (sha256: string) => {
    if (await store.collect(sha256, () => isBlobReferenced(db, sha256), UPLOAD_LIFETIME_MS)) blobs++;
  };
  for (;;) {
    const freed = await deleteExpiredUploads(db, before, BATCH);
    uploads += freed.length;
    for (const sha256 of new Set(freed)) await collect(sha256);
    if (freed.length < BATCH) break;
  }
  if (everyBlob) {
    let batch: string[] = [];
    const flush = async () => {
      const referenced = await referencedBlobs(db, batch);
      for (const sha256 of batch) if (!referenced.has(sha256)) await collect(sha256);
      batch = [];
    };
    for await (const sha256 of store.list()) {
      batch.push(sha256);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  }
  return { uploads, blobs, staged: await store.sweep(UPLOAD_LIFETIME_MS) };
}
