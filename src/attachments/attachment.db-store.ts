import fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Db } from '../db/database.js';
import { fileBlobStore, type BlobStore } from './attachment.store.js';

/** Bytes per row of `attachment_chunks`: a 25 MB file is 100 rows, and one row is all a read holds. */
export const CHUNK_BYTES = 256 * 1024;

/**
 * A store in the database (migration 021), for several instances without a shared disk: each
 * blob is a row of `attachment_blobs` and its bytes rows of `attachment_chunks`, written in one
 * transaction (never half there) and read a chunk at a time (never whole in memory). Uploads
 * are still staged on the local disk while they arrive.
 */
export function databaseBlobStore(db: Db, dataDir: string): BlobStore {
  const staging = fileBlobStore(dataDir);
  return {
    stage: () => staging.stage(),
    discard: (stagedPath) => staging.discard(stagedPath),
    sweep: (graceMs) => staging.sweep(graceMs),

    async commit(stagedPath, sha256, within) {
      const handle = await fsp.open(stagedPath, 'r');
      try {
        const { size } = await handle.stat();
        const storedAt = new Date().toISOString();
        const write = async (trx: Db) => {
          // The blob's row first: a collector deleting this blob holds it, so the chunks below
          // are written after its delete, never beside it. Stored again, it is fresh again.
          await trx
            .insertInto('attachment_blobs')
            .values({ sha256, size, stored_at: storedAt })
            .onConflict((oc) => oc.column('sha256').doUpdateSet({ stored_at: storedAt }))
            .execute();
          const stored = await trx.selectFrom('attachment_chunks').select((eb) => eb.fn.countAll<number | string>().as('chunks')).where('sha256', '=', sha256).executeTakeFirst();
          const expected = Math.ceil(size / CHUNK_BYTES);
          // Stored before (the same bytes, by their hash): nothing to write.
          if (Number(stored?.chunks ?? 0) === expected) return;
          await trx.deleteFrom('attachment_chunks').where('sha256', '=', sha256).execute();
          const buffer = Buffer.alloc(CHUNK_BYTES);
          for (let n = 0; n < expected; n++) {
            const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, n * CHUNK_BYTES);
            // One buffer for every chunk: each insert is awaited before the next read refills it.
            await trx.insertInto('attachment_chunks').values({ sha256, n, data: buffer.subarray(0, bytesRead) }).execute();
          }
        };
        await (within ? write(within) : db.transaction().execute(write));
      } finally {
        await handle.close();
      }
      await staging.discard(stagedPath);
    },

    async read(sha256, range) {
      const blob = await db.selectFrom('attachment_blobs').select('size').where('sha256', '=', sha256).executeTakeFirst();
      if (!blob) return undefined;
      const start = range?.start ?? 0;
      const end = range?.end ?? Number(blob.size) - 1;
      async function* chunks() {
        for (let n = Math.floor(start / CHUNK_BYTES); n <= Math.floor(end / CHUNK_BYTES); n++) {
          const row = await db.selectFrom('attachment_chunks').select('data').where('sha256', '=', sha256).where('n', '=', n).executeTakeFirst();
          if (!row) throw new Error(`chunk ${n} of blob ${sha256} is missing`);
          const data = Buffer.from(row.data);
          const from = n * CHUNK_BYTES;
          yield data.subarray(Math.max(0, start - from), Math.min(data.length, end - from + 1));
        }
      }
      return Readable.from(chunks(), { objectMode: false });
    },

    async collect(sha256, _isReferenced, graceMs) {
      const before = new Date(Date.now() - graceMs).toISOString();
      return db.transaction().execute(async (trx) => {
        // One statement decides: not stored lately, and named by no upload.
        const gone = await trx
          .deleteFrom('attachment_blobs')
          .where('sha256', '=', sha256)
          .where('stored_at', '<', before)
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('uploads').select('id').whereRef('uploads.sha256', '=', 'attachment_blobs.sha256'))))
          .returning('sha256')
          .executeTakeFirst();
        if (!gone) return false;
        await trx.deleteFrom('attachment_chunks').where('sha256', '=', sha256).execute();
        return true;
      });
    },

    async *list() {
      let after = '';
      for (;;) {
        const rows = await db.selectFrom('attachment_blobs').select('sha256').where('sha256', '>', after).orderBy('sha256').limit(500).execute();
        for (const row of rows) yield row.sha256;
        if (rows.length < 500) return;
        after = rows[rows.length - 1]?.sha256 as string;
      }
    },
  };
}

/** The configured store: files under the data directory (the default), or the database. */
export function createBlobStore(config: { dataDir: string; attachments: { store: 'filesystem' | 'database' } }, db: Db): BlobStore {
  return config.attachments.store === 'database' ? databaseBlobStore(db, config.dataDir) : fileBlobStore(config.dataDir);
}
