import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Db } from '../db/database.js';

/**
 * Where attachment bytes live, named by their SHA-256 (so the same file is stored once).
 * Writing is two steps so that nothing is ever half-visible: the bytes go to a staging file
 * (`stage`), and `commit` makes them the blob once they are durable. A staging file left by a
 * killed process is removed by `sweep`.
 */
export interface BlobStore {
  /** A new staging file to write an upload to. */
  stage(): { path: string };
  /**
   * Moves a durable staging file in as the blob `sha256` (replacing an identical one). A store
   * in the database writes it in `within`, the caller's transaction, when given (an import:
   * the blobs land with the rows or not at all); the filesystem has no transaction to join.
   */
  commit(stagedPath: string, sha256: string, within?: Db): Promise<void>;
  /** Removes a staging file (a refused or aborted upload); missing is fine. */
  discard(stagedPath: string): Promise<void>;
  /** The blob's bytes from `start` to `end` inclusive (all by default); undefined if it is missing. */
  read(sha256: string, range?: { start: number; end: number }): Promise<Readable | undefined>;
  /**
   * Deletes the blob unless an upload names it (`isReferenced`, for a store that cannot ask
   * the database in the same statement), or it was stored in the last `graceMs` (an upload in
   * flight may be about to name it). Returns whether it went.
   */
  collect(sha256: string, isReferenced: () => Promise<boolean>, graceMs: number): Promise<boolean>;
  /** Removes staging files older than `graceMs` (uploads killed mid-way). Returns how many. */
  sweep(graceMs: number): Promise<number>;
  /** Every stored blob's SHA-256, to find those a killed collector left behind. */
  list(): AsyncIterable<string>;
}

const SHA256 = /^[0-9a-f]{64}$/;

function assertSha(sha256: string): void {
  // The name is ours (a hash we computed); this only guards against a bug making it a path.
  if (!SHA256.test(sha256)) throw new Error('not a SHA-256');
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The default store: files under `<dataDir>/attachments`, fanned out by the hash's first bytes. */
export function fileBlobStore(dataDir: string): BlobStore {
  const root = path.join(dataDir, 'attachments');
  const staging = path.join(root, 'staging');
  fs.mkdirSync(staging, { recursive: true });
  const blobPath = (sha256: string) => {
    assertSha(sha256);
    return path.join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  };
  const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

  return {
    stage: () => ({ path: path.join(staging, `${randomUUID()}.part`) }),

    async commit(stagedPath, sha256) {
      const target = blobPath(sha256);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      // Always a fresh file (rename over any twin): its mtime tells `collect` it is new.
      await fsp.rename(stagedPath, target);
      await fsyncDir(path.dirname(target));
    },

    async discard(stagedPath) {
      await fsp.rm(stagedPath, { force: true });
    },

    async read(sha256, range) {
      const file = blobPath(sha256);
      try {
        // Opened before answering, so that a missing file is known before any header is sent.
        const handle = await fsp.open(file, 'r');
        return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },

    async collect(sha256, isReferenced, graceMs) {
      const file = blobPath(sha256);
      const fresh = async (p: string) => Date.now() - (await fsp.stat(p)).mtimeMs < graceMs;
      try {
        if ((await fresh(file)) || (await isReferenced())) return false;
        // Moved aside first, then checked again: an upload that committed a twin since (a new
        // file, so fresh) or named it since keeps it, and it is moved back.
        const aside = path.join(staging, `${sha256}.${randomUUID()}.collect`);
        await fsp.rename(file, aside);
        if ((await fresh(aside)) || (await isReferenced())) {
          await fsp.rename(aside, file);
          return false;
        }
        await fsp.rm(aside, { force: true });
        return true;
      } catch (error) {
        if (isMissing(error)) return false;
        throw error;
      }
    },

    async *list() {
      const dirs = async (dir: string) => (await fsp.readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory() && /^[0-9a-f]{2}$/.test(entry.name));
      for (const first of await dirs(root)) {
        for (const second of await dirs(path.join(root, first.name))) {
          for (const name of await fsp.readdir(path.join(root, first.name, second.name))) if (SHA256.test(name)) yield name;
        }
      }
    },

    async sweep(graceMs) {
      let removed = 0;
      for (const name of await fsp.readdir(staging)) {
        const file = path.join(staging, name);
        try {
          if (Date.now() - (await fsp.stat(file)).mtimeMs < graceMs) continue;
          await fsp.rm(file, { force: true });
          removed++;
        } catch (error) {
          if (!isMissing(error)) throw error;
        }
      }
      return removed;
    },
  };
}
