import { StringDecoder } from 'node:string_decoder';
import { Type, type TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { exportedBlobs, isExportedUpload } from '../attachments/attachment.repository.js';
import { BlobImportError, BlobReceiver, BLOB_LINE_BYTES, writeBlobLines, type BlobLine } from '../attachments/attachment.transfer.js';
import type { BlobStore } from '../attachments/attachment.store.js';
import { sanitizeFilename, STORED_TYPES } from '../attachments/attachment.types.js';
import type { Database, Db } from '../db/database.js';
import { ACTOR_TYPES, AUDIENCES, EVENT_TYPES } from '../events/event.table.js';
import { charCount, indexedChars } from '../tickets/ticket.changes.js';
import { resetTicketNumbers } from '../tickets/ticket.numbers.js';
import { deriveAttention, recountComments, recountDerived } from '../tickets/ticket.repository.js';
import { NonBlank } from '../tickets/ticket.schemas.js';
import { AUTHOR_TYPES, COMMENT_CHANNELS, MESSAGE_FROM, TICKET_PRIORITIES, TICKET_STATUSES, TICKET_TYPES, WAITING_ON } from '../tickets/ticket.table.js';

// ajv-formats is CommonJS; under NodeNext its callable export sits on `.default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const FORMAT = 'helpdesk-export';
/**
 * 3: attachments (their rows, and their files as blob lines); 2: events, and the comment
 * counters are no longer carried (they are recounted). 1 and 2 are still read.
 */
const VERSION = 4;
const READABLE_VERSIONS = [1, 2, 3, 4];
const PAGE = 1000;
const INSERT_BATCH = 500;

const Enum = (values: readonly string[]) => Type.Unsafe<string>({ type: 'string', enum: [...values] });
const Id = Type.String({ minLength: 1, maxLength: 200 });
const Text = (maxLength: number) => Type.String({ maxLength });
const Uuid = Type.String({ format: 'uuid' });
const Time = Type.String({ format: 'date-time' });
const Nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);
const Flag = Type.Union([Type.Literal(0), Type.Literal(1)]);
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Row = (properties: Record<string, TSchema>) => Type.Object(properties, { additionalProperties: false });

/**
 * Each table's rows as an export holds them, parents before children (so foreign keys hold
 * while importing), validated on import with the API's own rules (enums, lengths, formats): a
 * file is data from outside. Left out on purpose: idempotency keys (24-hour retry records),
 * and what is derived from the rows (tallies, owner versions, comment counters, the search
 * index), which the import rebuilds.
 */
const TABLES = {
  users: Row({ id: Id, email: Text(320), is_staff: Flag, first_seen_at: Time, last_seen_at: Time }),
  tickets: Row({
    id: Uuid,
    tenant_id: Id,
    created_by: Id,
    created_by_email: Text(320),
    title: NonBlank(200, 'title'),
    description: NonBlank(20000, 'description'),
    type: Enum(TICKET_TYPES),
    status: Enum(TICKET_STATUSES),
    priority: Enum(TICKET_PRIORITIES),
    assigned_to: Nullable(Id),
    assigned_to_email: Nullable(Text(320)),
    created_at: Time,
    updated_at: Time,
    resolved_at: Nullable(Time),
    first_response_at: Nullable(Time),
    version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
    waiting_on: Nullable(Enum(WAITING_ON)),
    waiting_since: Nullable(Time),
    last_message_from: Enum(MESSAGE_FROM),
    last_customer_message_at: Time,
    last_staff_reply_at: Nullable(Time),
    last_message_preview: Text(1000),
  }),
  ticket_comments: Row({
    id: Uuid,
    ticket_id: Uuid,
    author_id: Id,
    author_email: Text(320),
    author_type: Enum(AUTHOR_TYPES),
    content: NonBlank(20000, 'content'),
    is_internal: Flag,
    created_at: Time,
    // Format 4: how the comment came (a reply by e-mail). Older files have none: 'web'.
    channel: Type.Optional(Enum(COMMENT_CHANNELS)),
  }),
  ticket_history: Row({
    id: Uuid,
    ticket_id: Uuid,
    field_changed: Enum(['status', 'priority', 'type', 'assigned_to']),
    old_value: Nullable(Text(200)),
    new_value: Nullable(Text(200)),
    changed_by: Id,
    changed_by_email: Text(320),
    created_at: Time,
  }),
  ticket_events: Row({
    event_id: Uuid,
    type: Enum(EVENT_TYPES),
    ticket_id: Uuid,
    tenant_id: Id,
    actor_id: Id,
    actor_email: Text(320),
    actor_type: Enum(ACTOR_TYPES),
    audience: Enum(AUDIENCES),
    occurred_at: Time,
    data: Type.String({ maxLength: 20_000, pattern: '^\\{' }),
  }),
  uploads: Row({
    id: Uuid,
    tenant_id: Id,
    uploader_id: Id,
    filename: Type.String({ minLength: 1, maxLength: 1000 }),
    content_type: Enum(STORED_TYPES),
    size: Count,
    sha256: Sha256,
    created_at: Time,
    expires_at: Time,
  }),
  ticket_attachments: Row({ upload_id: Uuid, ticket_id: Uuid, comment_id: Nullable(Uuid), is_internal: Flag, created_at: Time }),
} satisfies Partial<Record<keyof Database, TSchema>>;

type TableName = keyof typeof TABLES;
const TABLE_NAMES = Object.keys(TABLES) as TableName[];
/** What orders each table's rows in an export: its key, time-ordered (UUIDv7) for the events. */
const ORDER_BY: Record<TableName, string> = {
  users: 'id',
  tickets: 'id',
  ticket_comments: 'id',
  ticket_history: 'id',
  ticket_events: 'event_id',
  uploads: 'id',
  ticket_attachments: 'upload_id',
};

/**
 * A line of a file's bytes (attachment.transfer.ts): its blob, its total size, the piece's
 * number and the piece in base64, at most BLOB_LINE_BYTES of it.
 */
const BlobLineSchema = Row({
  blob: Sha256,
  size: Count,
  n: Count,
  data: Type.String({ maxLength: Math.ceil(BLOB_LINE_BYTES / 3) * 4, pattern: '^[A-Za-z0-9+/]*={0,2}$' }),
});
/** Columns a version-1 export has that are now recounted instead. */
const DROPPED_V1 = new Set(['comment_count', 'internal_comment_count']);
/** Columns a version-1 export lacks, derived from its rows after the import. */
const ADDED_V2 = ['number', 'waiting_on', 'waiting_since', 'last_message_from', 'last_customer_message_at', 'last_staff_reply_at', 'last_message_preview'];

/** Row counts written or read per table, and how many files (blobs) came with the attachments. */
export type TransferCounts = Record<TableName, number> & { files: number };

const columnsOf = (table: TableName) => Object.keys(TABLES[table].properties);

const emptyCounts = (): TransferCounts => ({ ...(Object.fromEntries(TABLE_NAMES.map((t) => [t, 0])) as Record<TableName, number>), files: 0 });

/**
 * Writes the whole database as newline-delimited JSON: a header line, then one
 * `{"table", "row"}` line per row, tables in dependency order, rows by key, then the bytes of
 * every attachment's file from `store`, each in blob lines of at most BLOB_LINE_BYTES (see
 * attachment.transfer.ts). Reads in pages and files a piece at a time, so memory stays flat
 * however large the database or a file is. Uploads never attached and past their expiry are
 * left out: housekeeping is about to delete them.
 */
export async function exportDatabase(db: Db, store: BlobStore, write: (line: string) => Promise<void> | void): Promise<TransferCounts> {
  const now = new Date().toISOString();
  await write(JSON.stringify({ format: FORMAT, version: VERSION, exported_at: now }));
  const counts = emptyCounts();
  for (const table of TABLE_NAMES) {
    const key = ORDER_BY[table];
    let after: string | null = null;
    for (;;) {
      const rows: Array<Record<string, unknown>> = await db
        .selectFrom(table)
        .select(columnsOf(table) as never[])
        .$if(table === 'uploads', (qb) => qb.where(isExportedUpload(now) as never))
        .$if(after !== null, (qb) => qb.where(key as never, '>', after as never))
        .orderBy(key as never)
        .limit(PAGE)
        .execute();
      for (const row of rows) await write(JSON.stringify({ table, row }));
      counts[table] += rows.length;
      if (rows.length < PAGE) break;
      after = String(rows[rows.length - 1]?.[key]);
    }
  }
  let after = '';
  for (;;) {
    const blobs = await exportedBlobs(db, now, after, PAGE);
    for (const blob of blobs) await writeBlobLines(store, blob.sha256, blob.size, write);
    counts.files += blobs.length;
    if (blobs.length < PAGE) break;
    after = blobs[blobs.length - 1]?.sha256 as string;
  }
  return counts;
}

/** Thrown for an export file that cannot be imported; says which line and why. */
export class ImportError extends Error {}

/** Longer than any line an export writes (a blob line is 64 KiB, a row some tens of kilobytes at most). */
const MAX_LINE_CHARS = 1024 * 1024;

/**
 * The lines of an export file as the import reads them (`\n` or `\r\n`), pulled from `input`
 * one chunk at a time: the stream is read no faster than the import takes lines, so a file's
 * pieces never pile up in memory (readline's iterator reads megabytes ahead). Read
 * only once iteration starts. A line longer than any export writes is an ImportError.
 */
export async function* linesOf(input: AsyncIterable<Buffer | string>): AsyncIterable<string> {
  const decoder = new StringDecoder('utf8');
  const strip = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);
  let rest = '';
  let lineNumber = 0;
  for await (const chunk of input) {
    const lines = (rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk))).split('\n');
    rest = lines.pop() as string;
    if (rest.length > MAX_LINE_CHARS) throw new ImportError(`line ${lineNumber + lines.length + 1}: longer than ${MAX_LINE_CHARS} characters`);
    for (const line of lines) {
      lineNumber++;
      yield strip(line);
    }
  }
  rest += decoder.end();
  if (rest !== '') yield strip(rest);
}

let validators: (Record<TableName, ValidateFunction> & { ticketsV1: ValidateFunction; blob: ValidateFunction }) | undefined;
function compiled() {
  if (!validators) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    addFormats(ajv);
    const ticketsV1 = Row(Object.fromEntries(Object.entries(TABLES.tickets.properties).filter(([column]) => !ADDED_V2.includes(column))));
    validators = {
      ...(Object.fromEntries(TABLE_NAMES.map((t) => [t, ajv.compile(TABLES[t])])) as Record<TableName, ValidateFunction>),
      ticketsV1: ajv.compile(ticketsV1),
      blob: ajv.compile(BlobLineSchema),
    };
  }
  return validators;
}
const validatorOf = (table: TableName): ValidateFunction => compiled()[table];
const ticketsV1Validator = (): ValidateFunction => compiled().ticketsV1;
const blobValidator = (): ValidateFunction => compiled().blob;

/** Why `validate` refused, in the words of an ImportError. */
function firstError(validate: ValidateFunction): string {
  const error = validate.errors?.[0];
  const where = error?.instancePath ? `${error.instancePath.slice(1)} ` : '';
  return `${where}${error?.message ?? 'invalid'}`;
}

/**
 * Loads an export into an empty database of either kind, ids and timestamps preserved, in one
 * transaction: all of it lands or none of it. Every row is checked first (ImportError names the
 * line); what is derived from the rows is rebuilt from them. Attachments' files go into
 * `store` as they come, each checked against its hash and its uploads; a store in the database
 * writes them in the import's transaction. The filesystem store cannot: files of an import that
 * fails stay, named by no upload, until the collector's first round after the server starts.
 */
export async function importDatabase(db: Db, store: BlobStore, lines: AsyncIterable<string>): Promise<TransferCounts> {
  return db.transaction().execute(async (trx) => {
    const files = new BlobReceiver(store, trx);
    try {
      return await importLines(trx, files, lines);
    } catch (error) {
      await files.abandon();
      throw error;
    }
  });
}

/** The import's work inside its transaction: checks the target is empty, then takes the file line by line. */
async function importLines(trx: Db, files: BlobReceiver, lines: AsyncIterable<string>): Promise<TransferCounts> {
  for (const table of TABLE_NAMES) {
    const row = await trx.selectFrom(table).select(ORDER_BY[table] as never).limit(1).executeTakeFirst();
    if (row) throw new ImportError(`the target database is not empty (table ${table} has rows); import needs an empty database`);
  }
  const counts = emptyCounts();
  let pending: { table: TableName; rows: Array<Record<string, unknown>> } = { table: 'users', rows: [] };
  const flush = async () => {
    if (pending.rows.length === 0) return;
    await trx.insertInto(pending.table).values(pending.rows as never).execute();
    counts[pending.table] += pending.rows.length;
    pending = { table: pending.table, rows: [] };
  };
  // Characters of comments so far per ticket, in the file's order (the order they were written).
  const commentChars = new Map<string, number>();

  let lineNumber = 0;
  let version: number | undefined;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new ImportError(`line ${lineNumber}: not valid JSON`);
    }
    if (version === undefined) {
      const header = parsed as { format?: unknown; version?: unknown } | null;
      if (header?.format !== FORMAT || !READABLE_VERSIONS.includes(header.version as number)) {
        throw new ImportError(`line ${lineNumber}: not a ${FORMAT} file of version ${READABLE_VERSIONS.join(' or ')}`);
      }
      version = header.version as number;
      continue;
    }
    if (version >= 3 && parsed !== null && typeof parsed === 'object' && Object.hasOwn(parsed, 'blob')) {
      if (!blobValidator()(parsed)) throw new ImportError(`line ${lineNumber}: not a valid blob line: ${firstError(blobValidator())}`);
      try {
        if (await files.accept(parsed as BlobLine)) counts.files++;
      } catch (error) {
        throw error instanceof BlobImportError ? new ImportError(`line ${lineNumber}: ${error.message}`) : error;
      }
      continue;
    }
    const { table, row } = (parsed ?? {}) as { table?: unknown; row?: unknown };
    if (typeof table !== 'string' || !Object.hasOwn(TABLES, table)) throw new ImportError(`line ${lineNumber}: unknown table ${JSON.stringify(table)}`);
    const name = table as TableName;
    const values = version === 1 && row !== null && typeof row === 'object' ? withoutV1Columns(row as Record<string, unknown>) : row;
    const validate = version === 1 && name === 'tickets' ? ticketsV1Validator() : validatorOf(name);
    if (!validate(values)) throw new ImportError(`line ${lineNumber}: not a valid ${name} row: ${firstError(validate)}`);
    const record = { ...(values as Record<string, unknown>) };
    if (name === 'ticket_events' && !isJsonObject(record.data as string)) throw new ImportError(`line ${lineNumber}: not a valid ticket_events row: data is not a JSON object`);
    // A name is shown and sent in headers: only one the upload itself would have kept.
    if (name === 'uploads' && sanitizeFilename(record.filename as string) !== record.filename) {
      throw new ImportError(`line ${lineNumber}: not a valid uploads row: filename is not one an upload keeps`);
    }
    if (name === 'ticket_comments') {
      const ticketId = record.ticket_id as string;
      const before = commentChars.get(ticketId) ?? 0;
      const length = charCount(record.content as string);
      record.indexed_chars = indexedChars(before, length);
      commentChars.set(ticketId, before + length);
    }
    if (name !== pending.table || pending.rows.length >= INSERT_BATCH) {
      await flush();
      pending = { table: name, rows: [] };
    }
    pending.rows.push(record);
  }
  await flush();
  if (version === undefined) throw new ImportError('the file is empty');
  try {
    await files.finish();
  } catch (error) {
    throw error instanceof BlobImportError ? new ImportError(error.message) : error;
  }
  await recountComments(trx);
  if (version === 1) await deriveAttention(trx);
  await resetTicketNumbers(trx);
  await recountDerived(trx);
  return counts;
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

function withoutV1Columns(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([column]) => !DROPPED_V1.has(column)));
}
