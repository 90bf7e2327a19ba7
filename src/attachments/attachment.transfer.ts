import { createHash, type Hash } from 'node:crypto';
import fsp, { type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Db } from '../db/database.js';
import type { BlobStore } from './attachment.store.js';
import { fitsSniffed, sniffContentType } from './attachment.types.js';

/**
 * Raw bytes per blob line of an export (64 KiB once in base64): whoever writes or reads an
 * export holds a line of a file at a time, never the whole file. Small enough that a line's
 * strings are ordinary young objects for V8, collected quickly, not large objects.
 */
export const BLOB_LINE_BYTES = 48 * 1024;

/** One line of a blob's bytes in an export: piece `n` (from 0) of blob `blob`, `size` bytes in all, in base64. */
export interface BlobLine {
  blob: string;
  size: number;
  n: number;
  data: string;
}

/** Blob lines, or the uploads naming them, that an import cannot take; says why. */
export class BlobImportError extends Error {}

/**
 * Writes the `size` bytes of blob `sha256` as blob lines of BLOB_LINE_BYTES each (one empty
 * line for an empty file), reading them from the store as they are written.
 */
export async function writeBlobLines(store: BlobStore, sha256: string, size: number, write: (line: string) => Promise<void> | void): Promise<void> {
  const stream: Readable | undefined = size === 0 ? undefined : await store.read(sha256);
  if (size > 0 && !stream) throw new Error(`the bytes of blob ${sha256} are missing from the attachment store`);
  let n = 0;
  let total = 0;
  let pending: Buffer = Buffer.alloc(0);
  const emit = async (data: Buffer) => write(JSON.stringify({ blob: sha256, size, n: n++, data: data.toString('base64') }));
  for await (const chunk of (stream ?? []) as AsyncIterable<Buffer>) {
    total += chunk.length;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= BLOB_LINE_BYTES) {
      await emit(pending.subarray(0, BLOB_LINE_BYTES));
      pending = pending.subarray(BLOB_LINE_BYTES);
    }
  }
  if (pending.length > 0 || n === 0) await emit(pending);
  if (total !== size) throw new Error(`blob ${sha256} has ${total} bytes in the attachment store where its uploads say ${size}`);
}

/** A blob an import took: its size, and its type as its bytes tell it (sniffed without a name). */
interface ReceivedBlob {
  size: number;
  sniffed: string;
}

interface Receiving {
  sha256: string;
  size: number;
  next: number;
  written: number;
  hash: Hash;
  path: string;
  handle: FileHandle;
}

/**
 * Takes an export's blob lines into `store`, in the order they come: each blob's pieces go to
 * a staging file as they arrive, hashed on the way; a complete blob whose bytes match its hash
 * and whose type an upload may have is made durable and committed, in `trx` for a store in the
 * database (so it lands with the import's rows or not at all).
 */
export class BlobReceiver {
  private readonly received = new Map<string, ReceivedBlob>();
  private current: Receiving | undefined;

  constructor(
    private readonly store: BlobStore,
    private readonly trx: Db,
  ) {}

  /**
   * The next blob line; true when it completed its blob. Throws BlobImportError for a line out
   * of place or bytes that do not add up.
   */
  async accept(line: BlobLine): Promise<boolean> {
    const data = Buffer.from(line.data, 'base64');
    if (!this.current) {
      if (this.received.has(line.blob)) throw new BlobImportError(`blob ${line.blob} comes a second time`);
      if (line.n !== 0) throw new BlobImportError(`blob ${line.blob} starts at piece ${line.n}, not 0`);
      const { path } = this.store.stage();
      this.current = { sha256: line.blob, size: line.size, next: 0, written: 0, hash: createHash('sha256'), path, handle: await fsp.open(path, 'wx') };
    } else if (line.blob !== this.current.sha256 || line.n !== this.current.next || line.size !== this.current.size) {
      throw new BlobImportError(`blob ${this.current.sha256} is cut short: ${this.current.written} of its ${this.current.size} bytes came`);
    }
    const current = this.current;
    if (current.written + data.length > current.size) throw new BlobImportError(`blob ${current.sha256} has more than the ${current.size} bytes it announced`);
    await current.handle.write(data);
    current.hash.update(data);
    current.written += data.length;
    current.next++;
    if (current.written < current.size) return false;
    await this.complete(current);
    return true;
  }

  private async complete(current: Receiving): Promise<void> {
    this.current = undefined;
    try {
      try {
        // Durable before it is committed, as an upload's bytes are before its 201.
        await current.handle.sync();
      } finally {
        await current.handle.close();
      }
      const digest = current.hash.digest('hex');
      if (digest !== current.sha256) throw new BlobImportError(`blob ${current.sha256} does not hold the bytes it names (they hash to ${digest})`);
      const sniffed = await sniffContentType(current.path, current.size, '');
      if (!sniffed) throw new BlobImportError(`blob ${current.sha256} is of a type no upload may have`);
      await this.store.commit(current.path, current.sha256, this.trx);
      this.received.set(current.sha256, { size: current.size, sniffed });
    } finally {
      // Committed: moved away already, so this removes nothing.
      await this.store.discard(current.path);
    }
  }

  /**
   * After the last line: no blob may be cut short, every upload must have its blob with its
   * size and a type its bytes agree with, and every attachment on a comment must be on a
   * comment of its ticket, internal exactly when the comment is (a customer reads by that flag).
   */
  async finish(): Promise<void> {
    if (this.current) throw new BlobImportError(`blob ${this.current.sha256} is cut short at the end of the file: ${this.current.written} of its ${this.current.size} bytes came`);
    let after = '';
    for (;;) {
      const uploads = await this.trx.selectFrom('uploads').select(['id', 'sha256', 'size', 'content_type']).where('id', '>', after).orderBy('id').limit(1000).execute();
      for (const upload of uploads) {
        const blob = this.received.get(upload.sha256);
        if (!blob) throw new BlobImportError(`upload ${upload.id}: its file (blob ${upload.sha256}) is not in the export`);
        if (blob.size !== Number(upload.size)) throw new BlobImportError(`upload ${upload.id}: size ${upload.size} where its file has ${blob.size} bytes`);
        if (!fitsSniffed(upload.content_type, blob.sniffed)) throw new BlobImportError(`upload ${upload.id}: content_type ${upload.content_type} where its file is ${blob.sniffed}`);
      }
      if (uploads.length < 1000) break;
      after = uploads[uploads.length - 1]?.id as string;
    }
    const misfit = await this.trx
      .selectFrom('ticket_attachments as a')
      .leftJoin('ticket_comments as c', 'c.id', 'a.comment_id')
      .select('a.upload_id')
      .where((eb) =>
        eb.or([
          eb.and([eb('a.comment_id', 'is', null), eb('a.is_internal', '<>', 0)]),
          eb.and([eb('a.comment_id', 'is not', null), eb.or([eb('c.id', 'is', null), eb('c.ticket_id', '<>', eb.ref('a.ticket_id')), eb('c.is_internal', '<>', eb.ref('a.is_internal'))])]),
        ]),
      )
      .limit(1)
      .executeTakeFirst();
    if (misfit) throw new BlobImportError(`attachment ${misfit.upload_id} does not match its comment (none of its ticket, or marked internal unlike it)`);
  }

  /** After a failed import: removes the staging file of a blob half received. */
  async abandon(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    await current.handle.close().catch(() => undefined);
    await this.store.discard(current.path);
  }
}
