import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, LIST, StatementType, VARCHAR, listValue, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { EngineError } from '../core/errors.js';
import { mapLimit } from '../core/map-limit.js';
import { hashLogFile } from '../integrity/hash-file.js';
import type { DroppedRecords, EventIdConflict, ParamValue, QueryResult, SkippedFile, WindowStats } from '../core/model.js';
import { toCloudTrailTime } from '../core/time.js';
import type { LogFile } from '../source/types.js';
import {
  CLOUDTRAIL_TABLE,
  NEVER,
  tableColumns,
  type CloudTrailColumn,
  type ColumnType,
  type LoadFields,
  type RowCondition,
  type TableField,
} from '../core/cloudtrail-table.js';
import { precheck, salvageRecords, type Precheck } from './duckdb-salvage.js';
import type { EventStore, PartitionWork, StoreSnapshot } from '../store/types.js';
import { createTable, materialiseInventory } from './duckdb-inventory.js';
import type { InventoryTable } from '../inventory/tables.js';
import { activityByDaySql, activityFromRollupsSql } from '../inventory/activity.js';
import type { InventoryLoad, InventoryQueries } from '../inventory/engine-input.js';
import type { ConvertProgress, QueryContext, QueryEngine, WindowInput, WindowSource } from './types.js';

export interface DuckDbEngineOptions {
  /** Worker threads; default: every core. Fewer under a memory limit too small for that many JSON readers (`threadsWithin`). */
  readonly threads?: number;
  /** DuckDB memory limit, e.g. "1GB"; above it DuckDB spills to a temporary folder. */
  readonly memoryLimit?: string;
  /** Most files per read statement (tests make it small to exercise the retries). */
  readonly batchSize?: number;
  /** Where DuckDB spills above the memory limit; default: the system's temporary folder. A folder per process is made in it. */
  readonly spillPath?: string;
  /** The memory limit for reading a stored window and running the checks, when lower than `memoryLimit` (which conversion needs). */
  readonly windowMemoryLimit?: string;
  /** The columnar store: when given, runs read the window from it, converting only what is not stored yet. */
  readonly store?: EventStore;
  /** Told how a conversion into the store advances (a progress bar, log lines). */
  readonly progress?: (progress: ConvertProgress) => void;
}

/**
 * Delivery files converted into the store per read: enough for DuckDB to spread over every thread, small enough that
 * memory holds one chunk (about 1 GB of DuckDB table per 200 MB of gzip, all columns), not the window.
 */
const CONVERT_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * Partitions written by one COPY statement. A partitioned Parquet write holds buffers for every partition it writes,
 * however few their rows (measured: 600 partitions of one event each need more than the store's default 768MB), so
 * a chunk of many small partitions — quiet regions, the first run over a long window — is written in groups.
 */
const PARTITIONS_PER_WRITE = 64;
/**
 * Partitions per statement when a chunk goes straight from JSON to Parquet (`#convertDirect`): each thread keeps a
 * writer per partition next to its JSON buffers, and 16 partitions over 4 threads already passed a 768MB limit
 * (measured), where 8 kept a 16 MB chunk under 240 MB at 2 threads and was the fastest.
 */
const DIRECT_PARTITIONS_PER_WRITE = 8;

/** Where a chunk's activity rollups are staged, inside its staging folder. */
const ROLLUP_STAGING = 'rollups';
/** What a segment's rollup was written with: a store's rollups of another digest are not used (the records are read). */
const ROLLUP_DIGEST = createHash('sha256')
  .update(activityByDaySql('r', ['_part']))
  .digest('hex')
  .slice(0, 16);

/** The gzip bytes of delivery files. */
function bytesOf(files: readonly LogFile[]): number {
  return files.reduce((sum, file) => sum + file.bytes, 0);
}

/** Splits `work` into runs of partitions of about `bytes` of delivery files each (a larger partition is a chunk alone). */
function chunksOf(work: readonly PartitionWork[], bytes: number): PartitionWork[][] {
  const chunks: PartitionWork[][] = [];
  let current: PartitionWork[] = [];
  let size = 0;
  for (const item of work) {
    const itemBytes = bytesOf(item.files);
    if (current.length > 0 && size + itemBytes > bytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += itemBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * A DuckDB type for a spec type. `key` spells struct fields as CloudTrail's JSON keys (for reading: DuckDB
 * matches keys case-sensitively, and a wrong case reads NULLs); `name` as Athena's lower-case names.
 */
function duckDbType(type: ColumnType, spelling: 'key' | 'name'): string {
  switch (type.kind) {
    case 'string':
      return 'VARCHAR';
    case 'json':
      // Free-form objects stay JSON text, as in Athena's table.
      return 'JSON';
    case 'array':
      return `${duckDbType(type.of, spelling)}[]`;
    case 'map':
      return `MAP(VARCHAR, ${duckDbType(type.of, spelling)})`;
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `${f[spelling]} ${duckDbType(f.type, spelling)}`).join(', ')})`;
  }
}

/** Columns by name (each with its whole type), or as a load reads them (structs maybe pruned: `fieldsUsedBy`). */
export type ColumnsOrFields = readonly CloudTrailColumn[] | LoadFields;

/** The columns as fields, in table order when given by name. */
export function asFields(columns: ColumnsOrFields): LoadFields {
  return columns.every((column): column is CloudTrailColumn => typeof column === 'string') ? tableColumns(columns) : columns;
}

/** The record type to read with: only the wanted keys (and struct fields), so the JSON reader skips the rest. */
export function recordType(columns: ColumnsOrFields = CLOUDTRAIL_TABLE): string {
  return `STRUCT(${asFields(columns)
    .map((c) => `${c.key} ${duckDbType(c.type, 'key')}`)
    .join(', ')})`;
}

/**
 * The SELECT list turning a record `r` into `cloudtrail_window` columns. Nested values are cast to Athena's
 * lower-case field names (DuckDB's struct cast matches fields by name, ignoring case); scalars keep theirs.
 * `instead` gives the expression of a column that is not read as it is (the load's canonical `eventtime`).
 * A column in `since` is NULL in records whose time (`time`, an expression) is before its time there.
 */
export function projection(
  columns: ColumnsOrFields,
  instead: Partial<Record<CloudTrailColumn, string>> = {},
  since: Partial<Record<CloudTrailColumn, string>> = {},
  time = 't',
  where: Partial<Record<CloudTrailColumn, RowCondition>> = {},
): string {
  const scalar = (type: ColumnType) => type.kind === 'string' || type.kind === 'json';
  const expressionOf = (c: TableField<CloudTrailColumn>) =>
    instead[c.name] ?? (scalar(c.type) ? `r.${c.key}` : `CAST(r.${c.key} AS ${duckDbType(c.type, 'name')})`);
  // A condition may name any column, loaded or not: the record holds them all.
  const column = (name: CloudTrailColumn) => (name === 'eventtime' ? time : expressionOf(CLOUDTRAIL_TABLE.find((c) => c.name === name)!));
  return asFields(columns)
    .map((c) => `${loadedFrom(expressionOf(c), time, since[c.name], where[c.name], column)} AS ${c.name}`)
    .join(', ');
}

/** `fields` and any column the conditions of `where` (on the columns of `since`) name besides, whole. */
function withConditionColumns(
  fields: LoadFields,
  since: Partial<Record<CloudTrailColumn, string>>,
  where: Partial<Record<CloudTrailColumn, RowCondition>>,
): LoadFields {
  const named = new Set<CloudTrailColumn>();
  for (const [column, condition] of Object.entries(where) as [CloudTrailColumn, RowCondition][]) {
    if (since[column] !== undefined) condition((name) => (named.add(name), name));
  }
  const missing = [...named].filter((name) => name !== 'eventtime' && !fields.some((f) => f.name === name));
  return missing.length === 0 ? fields : [...fields, ...tableColumns(missing)];
}

/**
 * `value` where a record holds its column: everywhere, or only from `from` on (by `time`) and, before it, in the
 * records that meet `condition` (over the record's columns, `column`); NULL in the others.
 */
function loadedFrom(
  value: string,
  time: string,
  from: string | undefined,
  condition: RowCondition | undefined,
  column: (name: CloudTrailColumn) => string,
): string {
  if (from === undefined) return value;
  const when = condition === undefined ? `${time} >= ${quoteLiteral(from)}` : `${time} >= ${quoteLiteral(from)} OR (${condition(column)})`;
  return `CASE WHEN ${when} THEN ${value} END`;
}

/**
 * The canonical `YYYY-MM-DDTHH:MM:SSZ` (UTC) form of an eventTime `s` (VARCHAR), or NULL when it is not an
 * ISO-8601 date and time. The checks compare `eventtime` with bound `YYYY-MM-DDTHH:MM:SSZ` values as strings, so
 * every time must have this one form for a string comparison to be a time comparison.
 *
 * CloudTrail's own form (nearly every record) is only validated — shape, hour below 24, a real date — and kept;
 * any other ISO-8601 date-time is converted: lower-case t/z, a space for the T, the basic format, fractions
 * (floored to the second, as the window's edges are), a UTC offset (applied by hand, so DuckDB's TimeZone
 * setting plays no part), 24:00:00 (the next midnight), a leap second (:59), no zone at all (taken as UTC,
 * CloudTrail's zone). A date without a time of day, a number, an object or other text gives NULL.
 */
export function eventTimeSql(s: string): string {
  const iso = String.raw`^\s*(\d{4})-?(\d\d)-?(\d\d)[Tt ](\d\d):?(\d\d)(?::?(\d\d)(?:[.,]\d+)?)?\s*(?:[Zz]|([+-])(\d\d)(?::?(\d\d))?)?\s*$`;
  const parts = `regexp_extract(${s}, '${iso}', ['y', 'mo', 'd', 'h', 'mi', 'sec', 'sign', 'oh', 'om'])`;
  const seconds = `CASE m.sec WHEN '' THEN '00' WHEN '60' THEN '59' ELSE m.sec END`;
  const local = `TRY_CAST(m.y || '-' || m.mo || '-' || m.d || ' ' || m.h || ':' || m.mi || ':' || ${seconds} AS TIMESTAMP)`;
  const offsetMinutes = `CASE m.sign WHEN '' THEN 0 ELSE (CASE m.sign WHEN '-' THEN -1 ELSE 1 END) * (TRY_CAST(m.oh AS INTEGER) * 60 + coalesce(TRY_CAST(nullif(m.om, '') AS INTEGER), 0)) END`;
  return `CASE WHEN ${s} LIKE '____-__-__T__:__:__Z' AND ${s}[12:13] < '24' AND TRY_CAST(${s} AS TIMESTAMP) IS NOT NULL THEN ${s}
     ELSE list_transform([${parts}], lambda m: strftime(${local} - to_minutes(${offsetMinutes}), '%Y-%m-%dT%H:%M:%SZ'))[1] END`;
}

/**
 * Trino functions the checks may use that DuckDB lacks or spells differently, so one SQL text runs on
 * both engines. (`cardinality` here is for arrays; DuckDB's own map version is shadowed.)
 */
const TRINO_SHIMS = [
  `CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS
     CASE WHEN json_type(json_extract(j, p)) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END`,
  `CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)`,
  `CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`,
  `CREATE OR REPLACE MACRO cardinality(x) AS len(x)`,
  // Trino's array_join leaves NULL elements out, as array_to_string does.
  `CREATE OR REPLACE MACRO array_join(x, d) AS array_to_string(x, d)`,
  `CREATE OR REPLACE MACRO date_add(unit, n, ts) AS
     CASE lower(unit)
       WHEN 'second' THEN ts + to_seconds(n) WHEN 'minute' THEN ts + to_minutes(n)
       WHEN 'hour' THEN ts + to_hours(n) WHEN 'day' THEN ts + to_days(n) WHEN 'week' THEN ts + to_weeks(n)
       WHEN 'month' THEN ts + to_months(n) WHEN 'year' THEN ts + to_years(n) END,
     (d, i) AS d + i`,
];

/** What reading delivery files found, per file (by index in the list read). */
interface FileFacts {
  /** Files that could not be used at all, with the reason. */
  readonly skipped: ReadonlyMap<number, string>;
  /** Records of readable files that could not be used, per reason, in the order found. */
  readonly dropped: ReadonlyMap<number, ReadonlyMap<string, number>>;
  readonly withoutTime: ReadonlyMap<number, number>;
  /** Events kept in `_load`, per file. */
  readonly rowsPerFile: ReadonlyMap<number, number>;
  readonly counts: ReadCounts;
  readonly readMs: number;
  readonly salvaged: number;
}

interface LoadPlan {
  readonly start: string;
  readonly end: string;
  /** The columns loaded, structs maybe pruned to the fields the queries name. */
  readonly fields: LoadFields;
  /** Columns loaded only for records from a time on (NULL before it): see `columnsSince`; and where before it (`columnsWhere`). */
  readonly since: Partial<Record<CloudTrailColumn, string>>;
  readonly where: Partial<Record<CloudTrailColumn, RowCondition>>;
  readonly recordType: string;
  readonly projection: string;
}

/**
 * A read statement takes up to this many files or gzip bytes. One large statement is fastest (DuckDB
 * spreads its files over all threads; the same files in six statements were measured 70% slower), but
 * a corrupt file fails its whole statement, and the work done before it is lost (see `#readIsolating` for how
 * little is read again).
 */
const BATCH_FILES = 4096;
const BATCH_BYTES = 256 * 1024 * 1024;

/** `cloudtrail_window` over the staging table, as the checks see it. */
const WINDOW_VIEW = 'SELECT * EXCLUDE (_file, _eventtime_raw), coalesce(_eventtime_raw, eventtime) AS eventtime_original FROM _load';

/** After a failure, the next statement reads at least this many files (and twice what the failed one got through). */
const MIN_BATCH_AFTER_FAILURE = 32;

/** Rounds of reading that defer the files before a failure to the next round; then failed batches are bisected. */
const MAX_DEFERRING_ROUNDS = 3;

/**
 * Bad files are "dense" past this many failed statements per MB (gzip) read: then checking each remaining file in
 * Node (~90 ms per MB measured) costs less than a failed probe per bad file (~50 ms each measured on 2 cores).
 */
const DENSE_FAILURES_PER_MB = 1.5;
const DENSE_AFTER_FAILURES = 3;

/** Files `precheck`ed at once: their reading and gunzip (off the main thread) overlap the parsing of another. */
const PRECHECKS_IN_FLIGHT = 4;

/** Failed statements and bytes read so far while isolating the bad files of a batch. */
interface Tally {
  failures: number;
  bytes: number;
}

/** Node's error codes that are the machine's trouble, not one file's: they abort the run. */
const MACHINE_ERRNO = new Set(['EMFILE', 'ENFILE', 'ENOSPC', 'ENOMEM', 'EDQUOT']);

/**
 * Why a file could not be opened or read, naming it by its key. An error of the machine rather than the file
 * (too many open files, a full disk, no memory) is thrown as an EngineError: it would make every file "unreadable".
 */
function fileAccessReason(error: unknown, file: LogFile): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) throw error;
  if (MACHINE_ERRNO.has(code)) throw new EngineError(`reading ${file.key} failed: ${firstLine(error)}`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') return `cannot be opened: permission denied (${code}); check the owner and mode of the file`;
  return `cannot be read: ${firstLine(error).replaceAll(file.path, file.key)}`;
}

/**
 * Whether a DuckDB error is one file's own fault (unreadable, not gzip, not JSON, wrong shape): only those make a
 * file skipped. Anything else — out of memory, a full disk, too many open files, an internal error — would turn
 * every file into a skipped one and every check into a pass: it aborts the run.
 */
function isFileFault(message: string): boolean {
  return (
    /^(Invalid Input Error|IO Error)\b/.test(message) &&
    !/out of memory|No space left on device|Too many open files|Cannot allocate memory|quota/i.test(message)
  );
}

/** Whether DuckDB's message says it ran out of memory (under its memory limit: never a file's fault). */
function isOutOfMemory(message: string): boolean {
  return /out of memory/i.test(message);
}

interface Screening {
  /** Files that can't even be opened: skipped as they are. */
  readonly unopenable: Map<number, string>;
  /** Named .gz but not gzip (DuckDB's error for them names no file): read record by record, as plain JSON. */
  readonly notGzip: Set<number>;
  /** Almost certainly truncated: read record by record straight away rather than fail a statement. */
  readonly suspicious: Set<number>;
}

/**
 * Cheap checks before DuckDB sees the files, reading 2 bytes at the start and 4 at the end of each .gz:
 * - it can't be opened (permissions…): skipped, with the reason — one unreadable object never stops the run;
 * - not gzip at all;
 * - suspicious: the gzip trailer's uncompressed size (ISIZE, mod 2^32) is impossible for the file's
 *   compressed size, as it is for about 98% of truncated files (whose last bytes are arbitrary) and for
 *   files with bytes after the gzip stream.
 */
async function screenGzip(files: readonly LogFile[]): Promise<Screening> {
  const screening: Screening = { unopenable: new Map(), notGzip: new Set(), suspicious: new Set() };
  const head = Buffer.alloc(2);
  const tail = Buffer.alloc(4);
  const gzipped = [...files.entries()].filter(([, file]) => file.path.endsWith('.gz'));
  for (const [id, file] of gzipped) {
    let handle;
    try {
      handle = await open(file.path, 'r');
      const { bytesRead } = await handle.read(head, 0, 2, 0);
      if (bytesRead < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
        screening.notGzip.add(id);
        continue;
      }
      await handle.read(tail, 0, 4, Math.max(0, file.bytes - 4));
      const isize = tail.readUInt32LE(0);
      // Deflate never grows data by more than a few bytes per block, nor shrinks it more than ~1032:1.
      if (file.bytes < 2 ** 22 && (isize < file.bytes - 1024 || isize > file.bytes * 1032)) screening.suspicious.add(id);
    } catch (error) {
      screening.unopenable.set(id, fileAccessReason(error, file));
    } finally {
      await handle?.close();
    }
  }
  return screening;
}

/**
 * DuckDB sizes its read buffers by `maximum_object_size`, so a huge value slows every file down (5x
 * measured on small files). Most delivery files are far below 64 MB uncompressed; a file above it fails
 * its batch and is read again alone with the large limit.
 */
export const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;
const LARGE_MAX_OBJECT_BYTES = 1024 * 1024 * 1024;

const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** A DuckDB size setting ("768MB", "1GiB") in bytes; undefined when absent or not understood. */
export function sizeInBytes(text: string | undefined): number | undefined {
  const size = text === undefined ? undefined : /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  return size ? Number(size[1]) * (SIZE_UNITS[(size[2] ?? 'b').toLowerCase()] ?? 1) : undefined;
}

/**
 * The `maximum_object_size` for a file too large for the default: DuckDB's JSON reader allocates twice it, which must
 * fit the memory limit (it can't spill) — 1 GB without one, a quarter of the limit with one.
 */
function largeObjectBytes(memoryLimit: string | undefined): number {
  const limit = sizeInBytes(memoryLimit);
  return limit === undefined ? LARGE_MAX_OBJECT_BYTES : Math.max(DEFAULT_MAX_OBJECT_BYTES, Math.min(LARGE_MAX_OBJECT_BYTES, Math.floor(limit / 4)));
}

/**
 * Memory one JSON-reading thread needs: DuckDB's JSON reader allocates buffers of twice `maximum_object_size`
 * (128 MiB at DEFAULT_MAX_OBJECT_BYTES) whatever the files' sizes, cannot spill them, and a thread can hold two at
 * once (the file it parses and the next one it reads). Measured on a tree of 21 small files, 100 reads each under
 * load: 2 threads under 500MB failed 18 times, with 3 buffers held and a 4th asked for; 3 threads under the store's
 * default 768MB (3 × 192 MiB was the budget) failed in CI with 5 held and a 6th asked for; 1 thread under 300MB never.
 */
const JSON_THREAD_BYTES = 256 * 2 ** 20;
/** What the JSON readers must leave of a memory limit: the chunk being written, its Parquet writers, the catalog. */
const JSON_RESERVE_BYTES = 128 * 2 ** 20;

/** `threads`, fewer when `memoryLimit` (DuckDB's spelling: "768MB", "1GiB") cannot hold two JSON-reading buffers for each. */
export function threadsWithin(threads: number, memoryLimit: string | undefined): number {
  const bytes = sizeInBytes(memoryLimit);
  if (bytes === undefined) return threads;
  return Math.max(1, Math.min(threads, Math.floor((bytes - JSON_RESERVE_BYTES) / JSON_THREAD_BYTES)));
}

/**
 * Runs `read`, a read statement; should it run out of memory on more than one thread (DuckDB's scheduling can still
 * hold more JSON buffers than `threadsWithin` leaves room for), goes down to one thread (`setThreads`) and runs it
 * again. Returns the threads to go on with: one after a retry, so that the rest of a load does not run short again
 * (its caller goes back to its threads when the load ends). Running it again is safe because a failed statement
 * changed nothing: reads run outside any transaction, each its own.
 */
export async function readOnOneThreadIfShort(
  read: () => Promise<unknown>,
  threads: number,
  setThreads: (threads: number) => Promise<void>,
  onRetry: (reason: string) => void,
): Promise<number> {
  try {
    await read();
    return threads;
  } catch (error) {
    const reason = firstLine(error);
    if (threads <= 1 || !isOutOfMemory(reason)) throw error;
    onRetry(reason);
    await setThreads(1);
    await read();
    return 1;
  }
}

const TEMP_PREFIX = 'trailwarden-duckdb-';

/** The sub-folder of the engine's temporary folder that holds rewritten (salvaged) files during a load. */
const SALVAGE_DIR = 'salvage';

const COMMA_BYTES = Buffer.from(',');

/**
 * DuckDB spills to a temporary folder that close() removes. A process killed mid-run leaves its folder
 * behind (possibly gigabytes): remove those whose process is gone.
 */
async function removeOrphanedTempDirs(root: string): Promise<void> {
  const entries = await readdir(root).catch(() => [] as string[]);
  for (const name of entries) {
    const pid = name.startsWith(TEMP_PREFIX) ? Number(/^(\d+)-/.exec(name.slice(TEMP_PREFIX.length))?.[1]) : 0;
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (error) {
      // Another user's folder (EPERM from kill, EACCES from rm) is theirs to clean up; it must not stop this run.
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') await rm(path.join(root, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** DuckDB's first error line, without the SQL echo that follows it. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() ?? message;
}

/** Says why a file could not be read, in words a user can act on, naming the file by its key. */
function explainReadError(message: string, file: LogFile): string {
  const malformed = /Malformed JSON in file "[^"]*", at byte (\d+)[^:]*: (.*)$/.exec(message);
  if (malformed) return `not valid JSON at byte ${malformed[1]} after decompression (${malformed[2]?.replace(/\.\s*$/, '')}): the file is truncated or corrupt`;
  const shape = /JSON transform error in file "[^"]*", in record\/value \d+: (.*)$/.exec(message);
  if (shape) return `unexpected JSON structure: ${shape[1]} (expected {"Records": [ {...CloudTrail event...} ]})`;
  if (message.includes('not a GZIP stream')) return 'not a valid gzip file (corrupt, or not gzip-compressed despite its .gz name)';
  if (/permission denied/i.test(message)) return 'cannot be opened: permission denied; check the owner and mode of the file';
  return message.replaceAll(file.path, file.key);
}

/** One file for a read statement: its id in `_files`, and the path DuckDB reads (a salvaged file's rewritten copy has its own). */
interface ReadTarget {
  readonly id: number;
  readonly path: string;
  readonly bytes: number;
}

/** Work done to read the window: statements run (probes among them) and the files they were given (what bounds the re-reading). */
interface ReadCounts {
  statements: number;
  probes: number;
  files: number;
  /** Files checked in Node instead (see `precheck`). */
  prechecked: number;
}

/** A statement that loads its files into `_load`, or one that only reads them to see whether they can be (`#probeBatch`). */
type ReadMode = 'load' | 'probe';

/** What a run of read statements found wrong. */
interface Found {
  /** Files DuckDB rejects, with its message. */
  readonly bad: Map<ReadTarget, string>;
  /** Files above the default `maximum_object_size`, to be read again alone with the large one. */
  readonly large: ReadTarget[];
}

/** The position in `batch` of the file a failed statement's message names; -1 when it names none (a batch of one is its own culprit). */
function culpritIndex(batch: readonly ReadTarget[], message: string): number {
  if (batch.length === 1) return 0;
  return batch.findIndex((target) => message.includes(`"${target.path}"`) || message.endsWith(target.path));
}

/** Sets a file DuckDB rejected aside: to be read again alone with the large `maximum_object_size` when that was the fault, or as bad. */
function setAside(found: Found, target: ReadTarget, message: string, maxObjectBytes: number, largeBytes: number): void {
  if (message.includes('maximum_object_size') && maxObjectBytes < largeBytes) found.large.push(target);
  else found.bad.set(target, message);
}

/** Why eventTime values that are not times are dropped, by the kind of value (the text DuckDB gives a non-string). */
/** Why records whose eventTime is there but not a time were dropped: the kind of value (`TIME_KIND_SQL`), with an example. */
function untimedReason(kind: string | null, sample: string): string {
  const shown = JSON.stringify(sample.length > 40 ? `${sample.slice(0, 40)}…` : sample);
  return kind === null ? `eventTime is not an ISO-8601 date and time (e.g. ${shown})` : `eventTime is ${kind}, not a date and time (e.g. ${shown})`;
}

const TIME_KIND_SQL = `CASE
    WHEN _eventtime_raw LIKE '{%' THEN 'an object'
    WHEN _eventtime_raw LIKE '[%' THEN 'an array'
    WHEN _eventtime_raw IN ('true', 'false') THEN 'a boolean'
    WHEN TRY_CAST(_eventtime_raw AS DOUBLE) IS NOT NULL THEN 'a number'
  END`;

function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return toCloudTrailTime(value);
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}

/**
 * The embedded engine: DuckDB in-process over local delivery files. Loads the window once into an
 * in-memory table (spilling to a temporary folder above the memory limit), then answers every check.
 */
/**
 * The value of `field` read from a stored column (`source`, every field of the table's type): the column itself, or,
 * for a struct pruned to fewer fields, a struct of just those (so Parquet decodes only their columns).
 */
function storedValue(field: TableField, source: string, full: ColumnType | undefined = CLOUDTRAIL_TABLE.find((c) => c.name === field.name)?.type): string {
  if (field.type === full || field.type.kind !== 'struct' || full?.kind !== 'struct') return source;
  const inner = field.type.fields.map((sub) => {
    const stored = full.fields.find((f) => f.name === sub.name);
    return `${sub.name} := ${storedValue(sub, `struct_extract(${source}, ${quoteLiteral(sub.name)})`, stored?.type)}`;
  });
  return `struct_pack(${inner.join(', ')})`;
}

export class DuckDbEngine implements QueryEngine {
  readonly kind = 'duckdb';
  readonly readsLocalFiles = true;
  readonly fetchesOnDemand: boolean;
  readonly #instance: DuckDBInstance;
  readonly #store: EventStore | undefined;
  readonly #progress: ((progress: ConvertProgress) => void) | undefined;
  readonly #largeObjectBytes: number;
  readonly #windowMemoryLimit: string | undefined;
  readonly #connection: DuckDBConnection;
  readonly #tempDir: string;
  readonly #batchFiles: number;
  /** DuckDB's worker threads (`threadsWithin` the memory limit). */
  readonly #threads: number;
  /** The threads set now: `#threads`, or one from a read that ran out of memory until its load ends (`#readWithinMemory`). */
  #threadsNow: number;
  readonly #log: Logger;
  /** Set once the first query has shut the engine's access to anything but the loaded window (see `#confine`). */
  #confined = false;
  /**
   * The query `cloudtrail_window` is a view of once a window is loaded: over `_load` (a raw load), or over the store's
   * Parquet files (`#windowFromStore`); each check sees it cut to its own window.
   */
  #windowSql: string | undefined;
  /** From the store: the window's SELECT over only the Parquet files that can hold events from a start on. */
  #windowFrom: ((start: string) => string) | undefined;
  /** The Parquet files the stored window's view reads: still readable, and nothing else, once the engine is confined. */
  #readableFiles: readonly string[] = [];
  /** The stored window's activity rollups, when all of them can be used, and its second deliveries (`#windowFromStore`). */
  #rollups: { readonly files: readonly string[]; readonly removed: string | undefined } | undefined;

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection, tempDir: string, threads: number, options: DuckDbEngineOptions, log: Logger) {
    const batchSize = options.batchSize ?? BATCH_FILES;
    this.#store = options.store;
    this.#progress = options.progress;
    this.fetchesOnDemand = options.store !== undefined;
    this.#largeObjectBytes = largeObjectBytes(options.memoryLimit);
    this.#windowMemoryLimit = options.windowMemoryLimit;
    this.#instance = instance;
    this.#connection = connection;
    this.#tempDir = tempDir;
    this.#batchFiles = batchSize;
    this.#threads = threads;
    this.#threadsNow = threads;
    this.#log = log;
  }

  static async create(options: DuckDbEngineOptions, log: Logger): Promise<DuckDbEngine> {
    const spillRoot = options.spillPath ?? os.tmpdir();
    await mkdir(spillRoot, { recursive: true });
    await removeOrphanedTempDirs(spillRoot);
    const tempDir = await mkdtemp(path.join(spillRoot, `${TEMP_PREFIX}${process.pid}-`));
    const asked = options.threads ?? Math.max(1, os.availableParallelism());
    const threads = threadsWithin(asked, options.memoryLimit);
    if (threads < asked) {
      log[options.threads === undefined ? 'debug' : 'info'](
        { threads, asked, memoryLimit: options.memoryLimit },
        'fewer DuckDB threads than asked: the memory limit holds two JSON buffers of 128 MiB for this many (raise engine.memory_limit for more)',
      );
    }
    try {
      const config: Record<string, string> = {
        threads: String(threads),
        temp_directory: tempDir,
        // Row order within the load does not matter (checks ORDER BY); dropping it saves memory.
        preserve_insertion_order: 'false',
      };
      if (options.memoryLimit) config.memory_limit = options.memoryLimit;
      const instance = await DuckDBInstance.create(':memory:', config);
      const connection = await instance.connect();
      for (const statement of TRINO_SHIMS) await connection.run(statement);
      // The store's Parquet metadata is read by every check: keep it parsed (a setting of the parquet extension, loaded on first use).
      if (options.store) await connection.run('SET parquet_metadata_cache = true');
      return new DuckDbEngine(instance, connection, tempDir, threads, options, log);
    } catch (error) {
      await rm(tempDir, { recursive: true, force: true });
      throw new EngineError('could not start DuckDB', { cause: error });
    }
  }

  /**
   * One read statement over a batch of files: the events of the window, the records without an eventTime and
   * those whose eventTime is not a time (to be counted). The window is taken on the canonical time (`t`, see
   * `eventTimeSql`), which becomes `eventtime`; the original string is kept in `_eventtime_raw` only where it
   * differs, which is nearly never, so it costs nothing for the rest. The Records list is unnested as it is: any
   * list expression around it (a marker row prepended per document, say) copies every list and was measured to
   * make the whole load about 40% slower. Files that yield no row are examined afterwards (see `#emptyFileReasons`).
   */
  async #readBatch(load: LoadPlan, targets: readonly ReadTarget[], maxObjectBytes: number): Promise<void> {
    const fileList = `[${targets.map((target) => quoteLiteral(target.path)).join(', ')}]`;
    await this.#connection.run(
      `INSERT INTO _load
       SELECT ${load.projection}, nullif(r.eventTime, t) AS _eventtime_raw, f.account, f.region, f.id AS _file
       FROM (
         SELECT r, ${eventTimeSql('r.eventTime')} AS t, filename
         FROM (
           SELECT unnest(Records) AS r, filename
           FROM read_json(${fileList}, columns = {Records: '${load.recordType}[]'},
                          filename = true, format = 'auto', maximum_object_size = ${maxObjectBytes}))
       ) j
       JOIN _files f ON f.path = j.filename
       WHERE t IS NULL OR (t >= ? AND t < ?)`,
      [load.start, load.end],
    );
  }

  /**
   * A probe: reads and converts the records of `targets` exactly as `#readBatch` does, and loads nothing. It fails
   * on the same files, at a quarter of the cost (measured): what isolates bad files once a load has failed.
   */
  async #probeBatch(load: LoadPlan, targets: readonly ReadTarget[], maxObjectBytes: number): Promise<void> {
    const fileList = `[${targets.map((target) => quoteLiteral(target.path)).join(', ')}]`;
    await this.#connection.run(
      `SELECT sum(len(Records))
       FROM read_json(${fileList}, columns = {Records: '${load.recordType}[]'}, format = 'auto', maximum_object_size = ${maxObjectBytes})`,
    );
  }

  /** One statement over `batch` (a load or a probe): undefined when it succeeded, DuckDB's message when a file is at fault; throws for the engine's own failures. */
  async #tryBatch(load: LoadPlan, batch: readonly ReadTarget[], maxObjectBytes: number, counts: ReadCounts, mode: ReadMode): Promise<string | undefined> {
    counts.statements += 1;
    counts.files += batch.length;
    if (mode === 'probe') counts.probes += 1;
    try {
      await this.#readWithinMemory(() => (mode === 'load' ? this.#readBatch(load, batch, maxObjectBytes) : this.#probeBatch(load, batch, maxObjectBytes)));
      return undefined;
    } catch (error) {
      if (error instanceof EngineError) throw error;
      const message = firstLine(error);
      if (!isFileFault(message)) throw new EngineError(`reading the CloudTrail files failed: ${message}`, { cause: error });
      return message;
    }
  }

  /** `read` (a statement reading JSON), on one thread from there to the end of the load should it run out of memory (`readOnOneThreadIfShort`). */
  async #readWithinMemory(read: () => Promise<unknown>): Promise<void> {
    await readOnOneThreadIfShort(
      read,
      this.#threadsNow,
      (threads) => this.#setThreads(threads),
      (reason) =>
        this.#log.warn(
          { reason, threads: this.#threadsNow },
          'DuckDB ran out of memory reading CloudTrail files: reading them on one thread until this load ends (a larger engine.memory_limit keeps more threads)',
        ),
    );
  }

  /** Sets DuckDB's threads; a failure is the engine's, never taken for a bad file. */
  async #setThreads(threads: number): Promise<void> {
    try {
      await this.#connection.run(`SET threads = ${threads}`);
    } catch (error) {
      throw new EngineError(`setting DuckDB's threads to ${threads} failed: ${firstLine(error)}`, { cause: error });
    }
    this.#threadsNow = threads;
  }

  /** Back to the engine's threads once a load that went down to one (`#readWithinMemory`) ends. */
  async #restoreThreads(): Promise<void> {
    if (this.#threadsNow !== this.#threads) await this.#setThreads(this.#threads);
  }

  /** The next batch: from `start`, at most `width` files, the configured batch size and BATCH_BYTES (at least one file). */
  #batchAt(targets: readonly ReadTarget[], start: number, width: number): ReadTarget[] {
    const batch: ReadTarget[] = [];
    let bytes = 0;
    for (let i = start; i < targets.length && batch.length < Math.min(width, this.#batchFiles) && (batch.length === 0 || bytes < BATCH_BYTES); i++) {
      batch.push(targets[i]!);
      bytes += targets[i]!.bytes;
    }
    return batch;
  }

  /** Reads `targets` (see `#readIsolating`), those above the default `maximum_object_size` again alone with the large one; returns the files DuckDB rejects. */
  async #readAnySize(load: LoadPlan, targets: readonly ReadTarget[], counts: ReadCounts): Promise<Map<ReadTarget, string>> {
    const found = await this.#readIsolating(load, targets, DEFAULT_MAX_OBJECT_BYTES, counts);
    for (const target of found.large) {
      const alone = await this.#readIsolating(load, [target], this.#largeObjectBytes, counts);
      for (const [bad, message] of alone.bad) found.bad.set(bad, message);
    }
    return found.bad;
  }

  /**
   * Reads `targets` into `_load`, setting aside the files DuckDB rejects (into `found`) without reading the others
   * more than needed. A clean list is one load statement per BATCH_FILES, as fast as DuckDB reads. A statement is
   * all or nothing, though, and stops at the first bad file it meets, naming it (most errors do); the work done
   * before is lost. So once a batch fails, its other bad files are found first (`#isolate`), and then the files
   * that passed are loaded together, in one statement (bisected, should one still fail).
   */
  async #readIsolating(load: LoadPlan, targets: readonly ReadTarget[], maxObjectBytes: number, counts: ReadCounts): Promise<Found> {
    const found: Found = { bad: new Map(), large: [] };
    for (let next = 0; next < targets.length;) {
      const batch = this.#batchAt(targets, next, targets.length);
      next += batch.length;
      const failure = await this.#tryBatch(load, batch, maxObjectBytes, counts, 'load');
      if (failure === undefined) continue;
      const at = culpritIndex(batch, failure);
      if (at !== -1) setAside(found, batch[at]!, failure, maxObjectBytes, this.#largeObjectBytes);
      const passed = await this.#isolate(load, at === -1 ? batch : [...batch.slice(0, at), ...batch.slice(at + 1)], maxObjectBytes, counts, found);
      await this.#readRun(load, passed, maxObjectBytes, counts, found, {});
    }
    return found;
  }

  /**
   * Finds the bad files among `targets` (the rest of a batch that failed) and returns the others, with probes
   * (`#probeBatch`: the same reading as a load, a quarter of the cost) — or, where bad files turn out to be many,
   * with a quick check of each file in Node (`precheck`), which then costs less than one failed probe per bad file.
   *
   * Probing goes in rounds. DuckDB hands files to its threads in list order, so the files before the one a failed
   * probe names were most likely good — but not surely: DuckDB parses well ahead of converting records, so a file
   * of malformed JSON is named before an earlier one with a record of the wrong shape. In a round, a failure naming
   * a file sets it aside, defers the files before it to the next round (probed there together, in one statement)
   * and goes on after it with a probe twice as large as what the failed one got through (at least
   * MIN_BATCH_AFTER_FAILURE files), doubling after each success. A round hands its probes at most about
   * 4 × its files + MIN_BATCH_AFTER_FAILURE × its failures, and has fewer files than the one before; it takes one
   * round per stage of DuckDB's reading that fails. After MAX_DEFERRING_ROUNDS rounds, or for an error that names
   * no file, a failed probe is bisected instead (its culprit, if named, set aside). In all: O(n log n) files read at
   * worst, and in practice one probe per bad file and one load per file — against the k × n reads of restarting
   * the rest of the batch after each of k bad files.
   */
  async #isolate(load: LoadPlan, targets: readonly ReadTarget[], maxObjectBytes: number, counts: ReadCounts, found: Found): Promise<ReadTarget[]> {
    const passed: ReadTarget[] = [];
    const tally: Tally = { failures: 1, bytes: 0 };
    let list = targets;
    for (let round = 0; list.length > 0; round++) {
      const deferred: ReadTarget[] = [];
      const unprobed = await this.#readRun(load, list, maxObjectBytes, counts, found, {
        probe: passed,
        deferred: round < MAX_DEFERRING_ROUNDS ? deferred : undefined,
        tally,
      });
      if (unprobed.length > 0) {
        await this.#precheckAll(load, [...deferred, ...unprobed], maxObjectBytes, counts, found, passed);
        break;
      }
      list = deferred;
    }
    return passed;
  }

  /** `precheck`s every file of `targets`, a few in flight at once: the readable ones go to `passed`, the others are set aside. */
  async #precheckAll(
    load: LoadPlan,
    targets: readonly ReadTarget[],
    maxObjectBytes: number,
    counts: ReadCounts,
    found: Found,
    passed: ReadTarget[],
  ): Promise<void> {
    counts.prechecked += targets.length;
    const check = (target: ReadTarget) =>
      // An error reading the file sends it to be read record by record, which names the problem.
      precheck(target.path, load.fields, maxObjectBytes).catch((): Precheck => 'damaged');
    const inFlight: Promise<Precheck>[] = [];
    for (let next = 0, done = 0; done < targets.length; done++) {
      while (next < targets.length && inFlight.length < PRECHECKS_IN_FLIGHT) inFlight.push(check(targets[next++]!));
      const target = targets[done]!;
      const verdict = await inFlight.shift()!;
      if (verdict === 'readable') passed.push(target);
      else if (verdict === 'large') found.large.push(target);
      else found.bad.set(target, 'not readable as a whole (checked file by file)');
    }
  }

  /**
   * One pass over `targets` (see `#isolate`): loads them, or with `probe` probes them and collects those that pass.
   * With `deferred`, the files before a named failure are deferred there; without, failed batches are bisected.
   * With `tally`, the pass stops once bad files prove dense (more than DENSE_FAILURES_PER_MB per MB read, after a
   * few) and returns the files it did not get to.
   */
  async #readRun(
    load: LoadPlan,
    targets: readonly ReadTarget[],
    maxObjectBytes: number,
    counts: ReadCounts,
    found: Found,
    how: { probe?: ReadTarget[]; deferred?: ReadTarget[]; tally?: Tally },
  ): Promise<readonly ReadTarget[]> {
    let next = 0;
    let width = targets.length;
    while (next < targets.length) {
      const batch = this.#batchAt(targets, next, width);
      const failure = await this.#tryBatch(load, batch, maxObjectBytes, counts, how.probe ? 'probe' : 'load');
      if (failure === undefined) {
        how.probe?.push(...batch);
        next += batch.length;
        width = 2 * batch.length;
        if (how.tally) how.tally.bytes += batch.reduce((sum, target) => sum + target.bytes, 0);
        continue;
      }
      const at = culpritIndex(batch, failure);
      if (at !== -1) setAside(found, batch[at]!, failure, maxObjectBytes, this.#largeObjectBytes);
      if (at === -1 || how.deferred === undefined) {
        const rest = at === -1 ? batch : [...batch.slice(0, at), ...batch.slice(at + 1)];
        const half = Math.ceil(rest.length / 2);
        if (half > 0) await this.#readRun(load, rest.slice(0, half), maxObjectBytes, counts, found, { probe: how.probe });
        if (rest.length > half) await this.#readRun(load, rest.slice(half), maxObjectBytes, counts, found, { probe: how.probe });
        next += batch.length;
        continue;
      }
      how.deferred.push(...batch.slice(0, at));
      next += at + 1;
      width = Math.max(MIN_BATCH_AFTER_FAILURE, 2 * (at + 1));
      if (how.tally) {
        how.tally.failures += 1;
        how.tally.bytes += batch.slice(0, at + 1).reduce((sum, target) => sum + target.bytes, 0);
        if (how.tally.failures >= DENSE_AFTER_FAILURES && how.tally.failures > (DENSE_FAILURES_PER_MB * how.tally.bytes) / 2 ** 20) return targets.slice(next);
      }
    }
    return [];
  }

  /**
   * Why files that were read without an error but gave no row are unusable, if they are: no JSON
   * document at all (a gzip truncated before its first record), or JSON without a `Records` array. A
   * file whose events all fall outside the window is fine. These are few (mostly the day folders at the
   * window's edges), so reading them a second time — only whether `Records` is there — costs little.
   */
  async #emptyFileReasons(files: readonly LogFile[], ids: readonly number[]): Promise<Map<number, string>> {
    const reasons = new Map<number, string>();
    if (ids.length === 0) return reasons;
    const recordsMissing = async (batch: readonly number[], maxObjectBytes: number) => {
      const fileList = `[${batch.map((id) => quoteLiteral(files[id]!.path)).join(', ')}]`;
      const documents = await this.#connection.runAndReadAll(
        `SELECT f.id, bool_or(j.Records IS NULL) AS records_missing
         FROM read_json(${fileList}, columns = {Records: 'JSON'}, filename = true, format = 'auto', maximum_object_size = ${maxObjectBytes}) j
         JOIN _files f ON f.path = j.filename
         GROUP BY f.id`,
      );
      return documents.getRowsJS().map((row) => [Number(row[0]), row[1] === true] as const);
    };
    let found = new Map<number, boolean>();
    try {
      await this.#readWithinMemory(async () => (found = new Map(await recordsMissing(ids, DEFAULT_MAX_OBJECT_BYTES))));
    } catch (error) {
      if (error instanceof EngineError || isOutOfMemory(firstLine(error))) throw error;
      // A document above the default size: each file alone, with the large size (its buffer must fit the memory limit).
      found = new Map();
      for (const id of ids) for (const [file, missing] of await recordsMissing([id], this.#largeObjectBytes)) found.set(file, missing);
    }
    for (const id of ids) {
      if (!found.has(id)) reasons.set(id, 'no JSON document could be read (empty or truncated file)');
      else if (found.get(id)) reasons.set(id, 'JSON without a "Records" array (expected {"Records": [...]})');
    }
    return reasons;
  }

  async loadWindow(input: WindowInput): Promise<WindowStats> {
    this.#rollups = undefined;
    this.#windowFrom = undefined;
    try {
      return await this.#loadWindow(input);
    } catch (error) {
      if (error instanceof EngineError) throw error;
      throw new EngineError(`loading the window failed: ${firstLine(error)}`, { cause: error });
    } finally {
      await rm(path.join(this.#tempDir, SALVAGE_DIR), { recursive: true, force: true });
      await this.#restoreThreads();
    }
  }

  async #loadWindow(input: WindowInput): Promise<WindowStats> {
    const { window, files } = input;
    const fields = asFields(input.columns ?? CLOUDTRAIL_TABLE);
    const start = toCloudTrailTime(window.start);
    // A column needed from the window's start on is simply loaded.
    const since = Object.fromEntries(Object.entries(input.since ?? {}).filter(([, from]) => from > start));
    const where = input.where ?? {};
    const load: LoadPlan = {
      start,
      end: toCloudTrailTime(window.end),
      fields,
      since,
      where,
      // A condition's columns are read from the record, loaded or not: the record type must hold them.
      recordType: recordType(withConditionColumns(fields, since, where)),
      projection: projection(fields, { eventtime: 't' }, since, 't', where),
    };
    if (this.#store && input.source) return this.#loadFromStore(load, files, this.#store, input.source, input.hashing);
    const c = this.#connection;
    await c.run('DROP VIEW IF EXISTS cloudtrail_window');
    const facts = await this.#readIntoLoad(load, files);
    const skipped: SkippedFile[] = [];
    const recordsDropped: DroppedRecords[] = [];
    let withoutTime = 0;
    files.forEach((file, id) => {
      const reason = facts.skipped.get(id);
      if (reason) skipped.push({ path: file.key, reason });
      for (const [why, count] of facts.dropped.get(id) ?? []) recordsDropped.push({ path: file.key, reason: why, count });
      withoutTime += facts.withoutTime.get(id) ?? 0;
    });

    const tidyStarted = performance.now();
    const stats = await this.#finishWindow(load, files, { filesSkipped: skipped, withoutTime, recordsDropped });
    this.#log.debug(
      {
        readMs: Math.round(facts.readMs),
        tidyMs: Math.round(performance.now() - tidyStarted),
        columns: fields.length,
        reads: facts.counts,
        salvaged: facts.salvaged,
        stats: { ...stats, filesSkipped: skipped.length, recordsDropped: recordsDropped.length, conflicts: stats.conflicts.length },
      },
      'window loaded',
    );
    if (recordsDropped.length > 0 || stats.conflicts.length > 0)
      this.#log.debug({ recordsDropped, conflicts: stats.conflicts }, 'window records dropped and eventID conflicts');
    return stats;
  }

  /**
   * Once `_load` holds the window, raw or stored alike: second deliveries removed, `cloudtrail_window` over what is
   * left, and the window's counts.
   */
  async #finishWindow(
    load: LoadPlan,
    files: readonly LogFile[],
    facts: { filesSkipped: readonly SkippedFile[]; withoutTime: number; recordsDropped: readonly DroppedRecords[] },
  ): Promise<WindowStats> {
    const { duplicates, conflicts } = await this.#removeRepeats(load, files);
    await this.#useWindow(WINDOW_VIEW);
    return this.#windowStats({ ...facts, filesRead: files.length - facts.filesSkipped.length, duplicates, conflicts });
  }

  /** The window's counts, once `cloudtrail_window` is there. */
  async #windowStats(facts: {
    filesRead: number;
    filesSkipped: readonly SkippedFile[];
    duplicates: number;
    withoutTime: number;
    recordsDropped: readonly DroppedRecords[];
    conflicts: readonly EventIdConflict[];
  }): Promise<WindowStats> {
    const counts = await this.#connection.runAndReadAll(
      `SELECT count(*) AS events,
              count(*) FILTER (WHERE eventcategory = 'Data') AS data_events,
              coalesce(list(DISTINCT account ORDER BY account), []) AS accounts,
              coalesce(list(DISTINCT region ORDER BY region), []) AS regions
       FROM cloudtrail_window`,
    );
    const [events, dataEvents, accounts, regions] = counts.getRowsJS()[0] ?? [];
    return {
      filesRead: facts.filesRead,
      filesSkipped: facts.filesSkipped,
      events: Number(events),
      duplicates: facts.duplicates,
      recordsWithoutTime: facts.withoutTime,
      recordsDropped: facts.recordsDropped,
      conflicts: facts.conflicts,
      dataEvents: Number(dataEvents),
      accounts: (accounts as string[] | undefined) ?? [],
      regions: (regions as string[] | undefined) ?? [],
    };
  }

  /** A fresh `_files` (the files to read, by index) and an empty `_load` with the columns of `load`. */
  async #prepareLoad(load: LoadPlan, files: readonly LogFile[]): Promise<void> {
    const c = this.#connection;
    await this.#registerFiles(files);
    // An empty read fixes the staging table's column types from the same projection the loads use.
    await c.run(
      `CREATE OR REPLACE TEMP TABLE _load AS
       SELECT ${load.projection}, NULL::VARCHAR AS _eventtime_raw, ''::VARCHAR AS account, ''::VARCHAR AS region, 0::INTEGER AS _file
       FROM (SELECT NULL::${load.recordType} AS r, NULL::VARCHAR AS t) WHERE false`,
    );
  }

  /**
   * Reads `files` into a fresh `_load` (the events of `load`'s window, of usable files, with a time) and says, per
   * file (by index in `files`): why it could not be used, which records of it were dropped and why, and how many
   * records had no eventTime.
   */
  async #readIntoLoad(load: LoadPlan, files: readonly LogFile[]): Promise<FileFacts> {
    const c = this.#connection;
    await this.#prepareLoad(load, files);
    const started = performance.now();
    const read = await this.#readAll(load, files);
    const readMs = performance.now() - started;

    const withRows = new Set((await c.runAndReadAll('SELECT DISTINCT _file FROM _load')).getRowsJS().map((row) => Number(row[0])));
    const silent = [...files.keys()].filter((id) => !read.skipped.has(id) && !read.salvaged.has(id) && !withRows.has(id));
    const emptyReasons = await this.#emptyFileReasons(files, silent);
    const skipped = new Map<number, string>();
    files.forEach((_file, id) => {
      const reason = read.skipped.get(id) ?? emptyReasons.get(id);
      if (reason) skipped.set(id, reason);
    });

    const unusable = `list_contains([${[...skipped.keys()].join(',')}]::INTEGER[], _file)`;
    const withoutTime = new Map(
      (await c.runAndReadAll(`SELECT _file, count(*) FROM _load WHERE eventtime IS NULL AND _eventtime_raw IS NULL AND NOT ${unusable} GROUP BY _file`))
        .getRowsJS()
        .map(([file, count]) => [Number(file), Number(count)] as const),
    );
    // Records whose eventTime is there but is not a time: counted per file and kind of value, never silently lost.
    const untimed = await c.runAndReadAll(
      `SELECT _file, ${TIME_KIND_SQL} AS kind, count(*), min(_eventtime_raw)
       FROM _load WHERE eventtime IS NULL AND _eventtime_raw IS NOT NULL AND NOT ${unusable}
       GROUP BY ALL ORDER BY ALL`,
    );
    const dropped = new Map<number, Map<string, number>>([...read.salvaged].map(([id, reasons]) => [id, new Map(reasons)]));
    for (const [file, kind, count, example] of untimed.getRowsJS()) {
      const reason = untimedReason(kind as string | null, example as string);
      const reasons = dropped.get(Number(file)) ?? new Map<string, number>();
      reasons.set(reason, (reasons.get(reason) ?? 0) + Number(count));
      dropped.set(Number(file), reasons);
    }
    // Events of a file that turned out unusable must not count; records without a time belong to no window.
    await c.run(`DELETE FROM _load WHERE eventtime IS NULL OR ${unusable}`);
    const rowsPerFile = new Map(
      (await c.runAndReadAll('SELECT _file, count(*) FROM _load GROUP BY _file')).getRowsJS().map(([file, count]) => [Number(file), Number(count)] as const),
    );
    return { skipped, dropped, withoutTime, rowsPerFile, counts: read.counts, readMs, salvaged: read.salvaged.size };
  }

  /**
   * The window from the store: partitions missing or out of date for the listed files are converted first (as the
   * only writer of the store), then `cloudtrail_window` is loaded from the Parquet files that hold exactly the listed
   * files (`#windowFromStore`). A window already stored reads no raw log at all.
   */
  async #loadFromStore(
    load: LoadPlan,
    files: readonly LogFile[],
    store: EventStore,
    source: WindowSource,
    hashing: WindowInput['hashing'],
  ): Promise<WindowStats> {
    const sourceId = source.describe();
    const started = performance.now();
    let snapshot = await store.snapshot(sourceId, files);
    const snapshotMs = performance.now() - started;
    let converted = 0;
    if ('missing' in snapshot) {
      snapshot = await store.withLock(sourceId, async () => {
        converted = (await this.#planAndConvert(store, files, source, {}, hashing)).files;
        const done = await store.snapshot(sourceId, files);
        if ('missing' in done) throw new EngineError(`the store still lacks partition ${done.missing} after converting it (${store.describe()})`);
        return done;
      });
    }
    // Reading the stored window needs no JSON reader buffers (which can't spill), only memory DuckDB spills.
    if (this.#windowMemoryLimit !== undefined) await this.#connection.run(`SET memory_limit = ${quoteLiteral(this.#windowMemoryLimit)}`);
    const readStarted = performance.now();
    const stats = await this.#windowFromStore(load, files, snapshot);
    this.#log.debug(
      {
        store: store.root,
        snapshotMs: Math.round(snapshotMs),
        windowMs: Math.round(performance.now() - readStarted),
        converted,
        parquetFiles: snapshot.parquetFiles.length,
        stats: { ...stats, filesSkipped: stats.filesSkipped.length },
      },
      'window loaded from the store',
    );
    if (stats.recordsDropped.length > 0 || stats.conflicts.length > 0) {
      this.#log.debug({ recordsDropped: stats.recordsDropped, conflicts: stats.conflicts }, 'window records dropped and eventID conflicts');
    }
    return stats;
  }

  /**
   * Converts the delivery files of `work` into the store, a chunk of partitions at a time (about CONVERT_CHUNK_BYTES
   * of gzip each) so that memory holds one chunk, not the window: each chunk is read with the same statements and
   * salvage as a raw load (every column, no time limit), and each partition's rows become one zstd Parquet file,
   * committed with what became of each of its delivery files. Used by runs and by `trailwarden store rebuild`.
   */
  async #convert(work: readonly PartitionWork[], store: EventStore, source: WindowSource, hashing?: WindowInput['hashing']): Promise<void> {
    if (work.length === 0) return;
    await store.prepareStaging();
    const total = work.reduce((n, w) => n + bytesOf(w.files), 0);
    let done = 0;
    const started = performance.now();
    this.#progress?.({ phase: 'start', partitions: work.length, bytes: total, doneBytes: 0 });
    const plan: LoadPlan = {
      start: '0000-01-01T00:00:00Z',
      end: '9999-12-31T23:59:59Z',
      fields: CLOUDTRAIL_TABLE,
      since: {},
      where: {},
      recordType: recordType(),
      projection: projection(CLOUDTRAIL_TABLE, { eventtime: 't' }),
    };
    for (const chunk of chunksOf(work, CONVERT_CHUNK_BYTES)) {
      const listed = chunk.flatMap((w) => w.files);
      const local = source.fetch ? await source.fetch(listed) : listed;
      const chunkStarted = performance.now();
      // Beside DuckDB's reading: the hashes validation will want, of the files at hand (on S3, before they are released).
      const hashed = hashing ? this.#hashFiles(local, hashing) : undefined;
      const staging = store.stagingFile();
      await mkdir(staging, { recursive: true });
      const parts = chunk.flatMap((item, part) => item.files.map(() => part));
      let facts = await this.#convertDirect(plan, local, parts, staging);
      const direct = facts !== undefined;
      const perWrite = direct ? DIRECT_PARTITIONS_PER_WRITE : PARTITIONS_PER_WRITE;
      let readMs = performance.now() - chunkStarted;
      if (facts === undefined) {
        // A file DuckDB could not read as a whole (or memory ran short): the raw load's reading, salvage and all.
        await rm(staging, { recursive: true, force: true });
        await mkdir(staging, { recursive: true });
        facts = await this.#readIntoLoad(plan, local);
        readMs = performance.now() - chunkStarted;
        await this.#writeLoad(chunk, listed, parts, staging);
      }
      const writeMs = performance.now() - chunkStarted - readMs;
      const rollups = await this.#stageRollups(staging);
      const hashedFiles = await hashed;
      let first = 0;
      for (const [part, item] of chunk.entries()) {
        const ids = { from: first, to: first + item.files.length };
        first = ids.to;
        const written = path.join(staging, `${part - (part % perWrite)}`, `_part=${part}`);
        const staged = (await readdir(written).catch((): string[] => [])).filter((name) => name.endsWith('.parquet')).map((name) => path.join(written, name));
        const rolledUp = rollups === undefined ? undefined : path.join(rollups, `_part=${part}`);
        const rollup =
          rolledUp === undefined
            ? undefined
            : {
                digest: ROLLUP_DIGEST,
                staged: (await readdir(rolledUp).catch((): string[] => []))
                  .filter((name) => name.endsWith('.parquet'))
                  .map((name) => path.join(rolledUp, name)),
              };
        const sources = item.files.map((file, i) => {
          const id = ids.from + i;
          const skipped = facts.skipped.get(id);
          return {
            key: file.key,
            bytes: file.bytes,
            ...(file.version === undefined ? {} : { version: file.version }),
            ...(skipped === undefined ? {} : { skipped }),
            dropped: [...(facts.dropped.get(id) ?? [])].map(([reason, count]) => ({ reason, count })),
            without_time: facts.withoutTime.get(id) ?? 0,
          };
        });
        const events = item.files.reduce((n, _file, i) => n + (facts.rowsPerFile.get(ids.from + i) ?? 0), 0);
        await store.commit(source.describe(), item, { staged, events, sources, ...(rollup === undefined ? {} : { rollup }) }, new Date());
        done += bytesOf(item.files);
        this.#progress?.({ phase: 'progress', partitions: work.length, bytes: total, doneBytes: done });
      }
      await rm(staging, { recursive: true, force: true });
      this.#log.debug(
        {
          partitions: chunk.length,
          files: listed.length,
          readMs: Math.round(readMs),
          writeMs: Math.round(writeMs),
          totalMs: Math.round(performance.now() - chunkStarted),
          direct,
          hashed: hashedFiles,
          reads: facts.counts,
        },
        'store chunk converted',
      );
      await this.#connection.run('DROP TABLE IF EXISTS _load');
      await source.release?.(listed);
    }
    this.#progress?.({ phase: 'end', partitions: work.length, bytes: total, doneBytes: done });
    this.#log.info(
      { partitions: work.length, files: work.reduce((n, w) => n + w.files.length, 0), bytes: total, ms: Math.round(performance.now() - started) },
      'logs converted into the store',
    );
  }

  /**
   * Hashes the files of `files` that `hashing` wants (two at a time: DuckDB has the other threads), handing each hash
   * over; returns how many. Never fails: a file that can't be hashed here is left to validation, which says why.
   */
  async #hashFiles(files: readonly LogFile[], hashing: NonNullable<WindowInput['hashing']>): Promise<number> {
    let count = 0;
    await mapLimit(
      files.filter((file) => hashing.wanted(file)),
      2,
      async (file) => {
        try {
          hashing.hashed(file, await hashLogFile(file));
          count += 1;
        } catch (error) {
          this.#log.debug({ file: file.key, err: firstLine(error) }, 'could not hash a converted log file: validation reads it');
        }
      },
    );
    return count;
  }

  /**
   * The IAM activity of the Parquet files staged in `staging` (in `<group>/_part=<n>/`), per day (`activityByDaySql`),
   * written per partition to `<staging>/rollups/_part=<n>/`, which this returns: one statement over the chunk's files,
   * small beside the conversion (see `Segment.rollup`).
   */
  async #stageRollups(staging: string): Promise<string | undefined> {
    const rollups = path.join(staging, ROLLUP_STAGING);
    const groups = (await readdir(staging)).filter((name) => name !== ROLLUP_STAGING);
    const written = (
      await Promise.all(groups.map(async (group) => (await readdir(path.join(staging, group))).filter((name) => name.startsWith('_part='))))
    ).flat().length;
    if (written === 0) return rollups;
    try {
      await this.#connection.run(
        `COPY (${activityByDaySql(`read_parquet(${quoteLiteral(path.join(staging, '*', '_part=*', '*.parquet'))}, hive_partitioning = true)`, ['_part'])})
         TO ${quoteLiteral(rollups)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (_part), FILENAME_PATTERN 'rollup_{i}')`,
      );
    } catch (error) {
      // Rollups only spare runs a read: without them, the segments are committed all the same and runs read the records.
      this.#log.warn({ err: firstLine(error) }, 'could not roll up the IAM activity of converted logs: runs read their records instead');
      await rm(rollups, { recursive: true, force: true });
      return undefined;
    }
    return rollups;
  }

  /**
   * The fast way to convert a chunk: its delivery files go from JSON straight to Parquet, DIRECT_PARTITIONS_PER_WRITE
   * partitions per statement, with no staging table (measured: about half the time of loading the chunk and then
   * writing it). What each file gave is then read from the Parquet written: its events, records without a time and
   * records whose eventTime is not a time (both kept in the Parquet with a NULL eventtime, which no window reads),
   * and, for files that gave no row, why (`#emptyFileReasons`). Undefined, with the staging folder to be cleared,
   * when a file of the chunk needs the raw load's care (a suspicious gzip, or one DuckDB rejects) or memory ran
   * short: the caller converts the chunk the raw load's way.
   */
  async #convertDirect(plan: LoadPlan, files: readonly LogFile[], parts: readonly number[], staging: string): Promise<FileFacts | undefined> {
    const c = this.#connection;
    const screening = await screenGzip(files);
    if (screening.unopenable.size + screening.notGzip.size + screening.suspicious.size > 0) return undefined;
    await this.#registerFiles(files, parts);
    const counts: ReadCounts = { statements: 0, probes: 0, files: 0, prechecked: 0 };
    const started = performance.now();
    const last = Math.max(-1, ...parts);
    for (let from = 0; from <= last; from += DIRECT_PARTITIONS_PER_WRITE) {
      const group = files.filter((_file, id) => parts[id]! >= from && parts[id]! < from + DIRECT_PARTITIONS_PER_WRITE);
      if (group.length === 0) continue;
      counts.statements += 1;
      counts.files += group.length;
      try {
        await c.run(
          `COPY (
             SELECT ${plan.projection}, nullif(r.eventTime, t) AS _eventtime_raw, f.account, f.region, f.key AS _source, f.part AS _part
             FROM (
               SELECT r, ${eventTimeSql('r.eventTime')} AS t, filename
               FROM (
                 SELECT unnest(Records) AS r, filename
                 FROM read_json([${group.map((file) => quoteLiteral(file.path)).join(', ')}], columns = {Records: '${plan.recordType}[]'},
                                filename = true, format = 'auto', maximum_object_size = ${DEFAULT_MAX_OBJECT_BYTES}))
             ) j
             JOIN _files f ON f.path = j.filename)
           TO ${quoteLiteral(path.join(staging, `${from}`))} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (_part), FILENAME_PATTERN 'events_{i}')`,
        );
      } catch (error) {
        const message = firstLine(error);
        if (isFileFault(message) || isOutOfMemory(message)) {
          this.#log.debug({ reason: message }, "store chunk converted the raw load's way");
          return undefined;
        }
        throw new EngineError(`converting the CloudTrail files failed: ${message}`, { cause: error });
      }
    }
    const readMs = performance.now() - started;
    const written = `read_parquet(${quoteLiteral(path.join(staging, '*', '*', '*.parquet'))})`;
    const idOf = new Map(files.map((file, id) => [file.key, id]));
    const rowsPerFile = new Map<number, number>();
    const withoutTime = new Map<number, number>();
    const dropped = new Map<number, Map<string, number>>();
    const seen = new Set<number>();
    if ((await readdir(staging)).length > 0) {
      const perFile = await c.runAndReadAll(
        `SELECT _source, count(eventtime), count(*) FILTER (WHERE eventtime IS NULL AND _eventtime_raw IS NULL) FROM ${written} GROUP BY _source`,
      );
      for (const [key, events, untimed] of perFile.getRowsJS()) {
        const id = idOf.get(key as string)!;
        seen.add(id);
        if (Number(events) > 0) rowsPerFile.set(id, Number(events));
        if (Number(untimed) > 0) withoutTime.set(id, Number(untimed));
      }
      // Records whose eventTime is there but is not a time: counted per file and kind of value, as a raw load does.
      const untimed = await c.runAndReadAll(
        `SELECT _source, ${TIME_KIND_SQL} AS kind, count(*), min(_eventtime_raw)
         FROM ${written} WHERE eventtime IS NULL AND _eventtime_raw IS NOT NULL
         GROUP BY ALL ORDER BY ALL`,
      );
      for (const [key, kind, count, example] of untimed.getRowsJS()) {
        const id = idOf.get(key as string)!;
        const reasons = dropped.get(id) ?? new Map<string, number>();
        reasons.set(untimedReason(kind as string | null, example as string), Number(count));
        dropped.set(id, reasons);
      }
    }
    const skipped = await this.#emptyFileReasons(
      files,
      [...files.keys()].filter((id) => !seen.has(id)),
    );
    return { skipped, dropped, withoutTime, rowsPerFile, counts, readMs, salvaged: 0 };
  }

  /** A fresh `_files`: the files to read, by index, and (converting a chunk) each file's partition, its index in the chunk. */
  async #registerFiles(files: readonly LogFile[], parts: readonly number[] = []): Promise<void> {
    const c = this.#connection;
    await c.run('CREATE OR REPLACE TEMP TABLE _files (id INTEGER, path VARCHAR, key VARCHAR, account VARCHAR, region VARCHAR, part INTEGER)');
    const appender = await c.createAppender('_files', 'main', 'temp');
    files.forEach((file, id) => {
      appender.appendInteger(id);
      appender.appendVarchar(file.path);
      appender.appendVarchar(file.key);
      appender.appendVarchar(file.account);
      appender.appendVarchar(file.region);
      appender.appendInteger(parts[id] ?? 0);
      appender.endRow();
    });
    appender.closeSync();
  }

  /** Writes the loaded chunk (`_load`, see `#readIntoLoad`) as Parquet, PARTITIONS_PER_WRITE partitions per statement (DuckDB writes them in parallel). */
  async #writeLoad(chunk: readonly PartitionWork[], listed: readonly LogFile[], parts: readonly number[], staging: string): Promise<void> {
    // `_part` is the index of the partition in the chunk, and the delivery file's key goes with each row (for duplicates and conflicts).
    await this.#connection.run('CREATE OR REPLACE TEMP TABLE _parts (id INTEGER, part INTEGER, key VARCHAR)');
    const appender = await this.#connection.createAppender('_parts', 'main', 'temp');
    listed.forEach((file, id) => {
      appender.appendInteger(id);
      appender.appendInteger(parts[id]!);
      appender.appendVarchar(file.key);
      appender.endRow();
    });
    appender.closeSync();
    for (let from = 0; from < chunk.length; from += PARTITIONS_PER_WRITE) {
      await this.#connection.run(
        `COPY (SELECT _load.* EXCLUDE (_file), p.key AS _source, p.part AS _part FROM _load JOIN _parts p ON p.id = _load._file
               WHERE p.part >= ${from} AND p.part < ${from + PARTITIONS_PER_WRITE})
         TO ${quoteLiteral(path.join(staging, `${from}`))} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (_part), FILENAME_PATTERN 'events_{i}')`,
      );
    }
  }

  /**
   * Converts the partitions of `files` into the store (`force`: all of them, whatever is stored), as `store rebuild`
   * does; returns how many partitions and files were converted.
   */
  async syncStore(files: readonly LogFile[], source: WindowSource, options: { force?: boolean } = {}): Promise<{ partitions: number; files: number }> {
    const store = this.#store;
    if (!store) throw new EngineError('no store is configured (store: in the config)');
    try {
      return await store.withLock(source.describe(), () => this.#planAndConvert(store, files, source, options));
    } finally {
      await this.#restoreThreads();
    }
  }

  /** Holding the store's lock: converts the partitions of `files` that `plan` finds missing or out of date (all with `force`). */
  async #planAndConvert(
    store: EventStore,
    files: readonly LogFile[],
    source: WindowSource,
    options: { force?: boolean } = {},
    hashing?: WindowInput['hashing'],
  ): Promise<{ partitions: number; files: number }> {
    const work = await store.plan(source.describe(), files, options);
    await this.#convert(work, store, source, hashing);
    return { partitions: work.length, files: work.reduce((n, w) => n + w.files.length, 0) };
  }

  /**
   * `cloudtrail_window` as a view over the snapshot's Parquet files: the window's events, second deliveries left out
   * as in a raw load (see `#removeRepeats`: same eventID and same content in the columns the checks use). Nothing is
   * copied into memory: the activity aggregate reads the few columns it needs of 90 days straight from Parquet, and
   * each check reads its own days from the Parquet files that can hold them (`#windowFrom`), which costs a 7-day check
   * ~70 ms against ~25 ms from memory, where copying the checks' 30 days into memory took ~2.3 s and ~300 MB at 1M
   * events (and spilled, which made DuckDB's close ~1 s slower). The Parquet files a run reads stay put while it runs (a
   * partition's older files are removed hours after it is rewritten). What each delivery file gave (skipped, dropped
   * records, records without time) comes from the partitions' records, in listing order.
   */
  async #windowFromStore(load: LoadPlan, files: readonly LogFile[], snapshot: StoreSnapshot): Promise<WindowStats> {
    const c = this.#connection;
    const skipped: SkippedFile[] = [];
    const recordsDropped: DroppedRecords[] = [];
    let withoutTime = 0;
    for (const file of files) {
      const stored = snapshot.sources.get(file.key)!;
      if (stored.skipped !== undefined) skipped.push({ path: file.key, reason: stored.skipped });
      for (const { reason, count } of stored.dropped) recordsDropped.push({ path: file.key, reason, count });
      withoutTime += stored.without_time;
    }
    await c.run('DROP VIEW IF EXISTS cloudtrail_window');
    // `_load`, empty, fixes the window's column types: those of a raw load.
    await this.#prepareLoad(load, files);
    if (snapshot.parquetFiles.length === 0) return this.#finishWindow(load, files, { filesSkipped: skipped, withoutTime, recordsDropped });
    const started = performance.now();
    const parquetFiles = snapshot.parquetFiles.map((file) => path.resolve(file));
    const parquet = `[${parquetFiles.map(quoteLiteral).join(', ')}]`;
    const inWindow = (alias: string) => `${alias}.eventtime >= ${quoteLiteral(load.start)} AND ${alias}.eventtime < ${quoteLiteral(load.end)}`;
    const loadTypes = new Map(
      (await c.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE _load)`)).getRowsJS().map(([name, type]) => [name as string, type as string]),
    );
    const stored = load.fields.map((field) => ({ field, pruned: storedValue(field, `p.${field.name}`) }));
    const storedTypes = new Map(
      (
        await c.runAndReadAll(
          `SELECT column_name, column_type FROM (DESCRIBE SELECT ${stored.map(({ field, pruned }) => `${pruned} AS ${field.name}`).join(', ')} FROM read_parquet(${quoteLiteral(snapshot.parquetFiles[0]!)}) p)`,
        )
      )
        .getRowsJS()
        .map(([name, type]) => [name as string, type as string]),
    );
    // `exact`: a column as a raw load of the plan holds it: cast only where Parquet gave another type (a plain column keeps
    // the pushdown of filters), and, as in a raw load, a column of `since` NULL before its time there (no check's window
    // reaches back that far) but in the records its `where` names. `view`: the same, but a pruned struct column whole: DuckDB then decodes only the fields a
    // query takes of it (measured 1.5× faster than re-packing the named fields), and a query that names a field only
    // ever sees what a raw load holds. What is compared for de-duplication and copied for the checks is `exact`.
    const columns = stored.map(({ field, pruned }) => {
      const whole = `p.${field.name}`;
      const typed = (sql: string) => (storedTypes.get(field.name) === loadTypes.get(field.name) ? sql : `CAST(${sql} AS ${loadTypes.get(field.name)!})`);
      const since = (sql: string) => loadedFrom(sql, 'p.eventtime', load.since[field.name], load.where[field.name], (name) => `p.${name}`);
      const view = since(pruned === whole ? typed(whole) : whole);
      return { name: field.name, exact: since(typed(pruned)), view };
    });
    const { duplicates, conflicts, removed, holders } = await this.#storedRepeats(files, parquet, columns, inWindow);
    // The activity from the partitions' rollups, when every segment has one of this version (see `loadInventory`).
    const rollups = snapshot.rollups;
    this.#rollups =
      rollups !== undefined && [...rollups.digests].every((digest) => digest === ROLLUP_DIGEST)
        ? {
            files: rollups.files.map((file) => path.resolve(file)),
            // The second deliveries the view leaves out, as stored: the rollups counted them.
            removed:
              removed && holders !== undefined
                ? `(SELECT p.* FROM read_parquet(${holders}, filename = true, file_row_number = true) p
                    SEMI JOIN _removed r ON r.parquet_file = p.filename AND r.file_row = p.file_row_number)`
                : undefined,
          }
        : undefined;
    // The window's events in `among` (Parquet files). An anti join (measured 8× faster over 90 days than NOT EXISTS,
    // which DuckDB plans per row group here).
    const select = (among: readonly string[]) => {
      const list = `[${among.map(quoteLiteral).join(', ')}]`;
      const from = removed
        ? `read_parquet(${list}, filename = true, file_row_number = true) p
           ANTI JOIN _removed r ON r.parquet_file = p.filename AND r.file_row = p.file_row_number
           WHERE ${inWindow('p')}`
        : `read_parquet(${list}) p WHERE ${inWindow('p')}`;
      return `SELECT ${columns.map((f) => `${f.view} AS ${f.name}`).join(', ')}, p.account, p.region, coalesce(p._eventtime_raw, p.eventtime) AS eventtime_original FROM ${from}`;
    };
    await c.run('DROP TABLE _load');
    this.#readableFiles = parquetFiles;
    await this.#useWindow(select(parquetFiles));
    const latest = await this.#latestEventTimes(parquet);
    this.#windowFrom = (start) => {
      const among = parquetFiles.filter((file) => (latest.get(file) ?? NEVER) >= start);
      // No file holds an event from `start` on: one file keeps the statement valid, and the check's window filters it out.
      return select(among.length > 0 ? among : parquetFiles.slice(0, 1));
    };
    const tidyMs = performance.now() - started;
    const stats = await this.#windowStats({
      filesRead: files.length - skipped.length,
      filesSkipped: skipped,
      duplicates,
      withoutTime,
      recordsDropped,
      conflicts,
    });
    this.#log.debug({ tidyMs: Math.round(tidyMs), countMs: Math.round(performance.now() - started - tidyMs), removed }, 'stored window read');
    return stats;
  }

  /**
   * The latest eventtime of each Parquet file in the list `parquet` (a SQL list), from the files' own statistics: a
   * file written with none, or with a value not of eventtime's one form (say, a truncated one), is left out of the map,
   * and read by every check.
   */
  async #latestEventTimes(parquet: string): Promise<Map<string, string>> {
    const rows = await this.#connection.runAndReadAll(
      `SELECT file_name, max(stats_max_value), bool_and(stats_max_value IS NOT NULL AND length(stats_max_value) = 20)
       FROM parquet_metadata(${parquet}) WHERE path_in_schema = 'eventtime' GROUP BY 1`,
    );
    return new Map(
      rows
        .getRowsJS()
        .filter(([, , known]) => known === true)
        .map(([file, max]) => [file as string, max as string]),
    );
  }

  /** `cloudtrail_window` becomes a view of `sql` (each check sees it cut to its own window). */
  async #useWindow(sql: string): Promise<void> {
    await this.#connection.run(`CREATE OR REPLACE VIEW cloudtrail_window AS ${sql}`);
    this.#windowSql = sql;
  }

  /**
   * `#removeRepeats` for a window left in Parquet: of records with one eventID and identical content in the view's
   * columns (`columns`: what a raw load of the same plan holds), the first by delivery file,
   * then position, is kept; the others are listed in `_removed` (Parquet file and row), which the view leaves out. Only
   * eventIDs seen more than once are read whole. Returns whether any record is left out.
   */
  async #storedRepeats(
    files: readonly LogFile[],
    parquet: string,
    columns: readonly { exact: string }[],
    inWindow: (alias: string) => string,
  ): Promise<{ duplicates: number; conflicts: EventIdConflict[]; removed: boolean; holders?: string }> {
    const c = this.#connection;
    const content = [...columns.map((f) => f.exact), 'p._eventtime_raw', 'p.account', 'p.region'].join(', ');
    const position = `f.id::BIGINT * 4294967296 + p.file_row_number`;
    // The hashes of eventIDs seen more than once (grouping by a hash is twice as fast as by the text; a collision only
    // brings a unique eventID into the comparison below, which keeps it), and the Parquet files that hold them: only
    // those files are read whole.
    await c.run(
      `CREATE OR REPLACE TEMP TABLE _repeated AS
       SELECT hash(q.eventid) AS id_hash FROM read_parquet(${parquet}) q WHERE ${inWindow('q')} AND q.eventid IS NOT NULL
       GROUP BY id_hash HAVING count(*) > 1`,
    );
    const holders = (
      await c.runAndReadAll(
        `SELECT DISTINCT q.filename FROM read_parquet(${parquet}, filename = true) q
         WHERE ${inWindow('q')} AND q.eventid IS NOT NULL AND hash(q.eventid) IN (SELECT id_hash FROM _repeated) ORDER BY 1`,
      )
    ).getRowsJS();
    if (holders.length === 0) {
      await c.run('DROP TABLE _repeated');
      return { duplicates: 0, conflicts: [], removed: false };
    }
    const among = `[${holders.map(([file]) => quoteLiteral(file as string)).join(', ')}]`;
    await c.run(
      `CREATE OR REPLACE TEMP TABLE _repeats AS
       SELECT p.filename AS parquet_file, p.file_row_number AS file_row, p.eventid, f.id AS _file,
              row_number() OVER (PARTITION BY p.eventid, ${content} ORDER BY ${position}) AS copy,
              min(${position}) OVER (PARTITION BY p.eventid, ${content}) AS variant
       FROM read_parquet(${among}, filename = true, file_row_number = true) p JOIN _files f ON f.key = p._source
       WHERE ${inWindow('p')} AND p.eventid IS NOT NULL AND hash(p.eventid) IN (SELECT id_hash FROM _repeated)`,
    );
    await c.run('DROP TABLE _repeated');
    await c.run('CREATE OR REPLACE TEMP TABLE _removed AS SELECT parquet_file, file_row FROM _repeats WHERE copy > 1');
    const conflicts = await this.#repeatConflicts(files);
    const duplicates = Number((await c.runAndReadAll('SELECT count(*) FROM _removed')).getRowsJS()[0]![0]);
    return { duplicates, conflicts, removed: duplicates > 0, holders: among };
  }

  /**
   * CloudTrail may deliver an event twice: of records with one eventID and identical content, the first (by file,
   * then position) is kept. "Identical" means equal in every column of `cloudtrail_window` this run loaded (and the
   * original eventTime string, account and region): what the checks can see. Records with one eventID and different
   * content are not a second delivery: all of them stay, and the id is reported as a conflict. Only ids seen more
   * than once are compared, and rows are deleted in place: no second copy of the window.
   */
  async #removeRepeats(load: LoadPlan, files: readonly LogFile[]): Promise<{ duplicates: number; conflicts: EventIdConflict[] }> {
    const c = this.#connection;
    const content = [...load.fields.map((column) => column.name), '_eventtime_raw', 'account', 'region'].join(', ');
    await c.run(
      `CREATE OR REPLACE TEMP TABLE _repeats AS
       SELECT rowid AS row_id, eventid, _file,
              row_number() OVER (PARTITION BY eventid, ${content} ORDER BY _file, rowid) AS copy,
              min(rowid) OVER (PARTITION BY eventid, ${content}) AS variant
       FROM _load
       WHERE eventid IN (SELECT eventid FROM _load GROUP BY eventid HAVING count(*) > 1)`,
    );
    const removed = await c.run('DELETE FROM _load WHERE rowid IN (SELECT row_id FROM _repeats WHERE copy > 1)');
    const conflicts = await this.#repeatConflicts(files);
    return { duplicates: Number(removed.rowsChanged), conflicts };
  }

  /** The eventIDs of `_repeats` (then dropped) with more than one content: all of their records stay, and they are reported. */
  async #repeatConflicts(files: readonly LogFile[]): Promise<EventIdConflict[]> {
    const conflicting = await this.#connection.runAndReadAll(
      `SELECT eventid, count(DISTINCT variant), list(DISTINCT _file)
       FROM _repeats GROUP BY eventid HAVING count(DISTINCT variant) > 1 ORDER BY eventid`,
    );
    await this.#connection.run('DROP TABLE _repeats');
    return conflicting.getRowsJS().map(([eventId, records, ids]) => ({
      eventId: eventId as string,
      paths: [...new Set((ids as number[]).map((id) => files[Number(id)]!.key))].sort(),
      records: Number(records),
    }));
  }

  /**
   * Reads every file into `_load` in as few statements as possible (see `#readIsolating`), then reads the files DuckDB
   * rejected record by record (`#salvage`). Returns the files that yield nothing, with the reason, and the files
   * that were read record by record, with what was dropped from each.
   */
  async #readAll(
    load: LoadPlan,
    files: readonly LogFile[],
  ): Promise<{ skipped: Map<number, string>; salvaged: Map<number, ReadonlyMap<string, number>>; counts: ReadCounts }> {
    const counts: ReadCounts = { statements: 0, probes: 0, files: 0, prechecked: 0 };
    const { unopenable, notGzip, suspicious } = await screenGzip(files);
    const skipped = new Map(unopenable);
    // Files to read record by record, with DuckDB's message when DuckDB read them.
    const damaged = new Map<number, string | undefined>([...notGzip, ...suspicious].map((id) => [id, undefined]));
    const targets = files.flatMap((file, id): ReadTarget[] => (skipped.has(id) || damaged.has(id) ? [] : [{ id, path: file.path, bytes: file.bytes }]));
    for (const [target, message] of await this.#readAnySize(load, targets, counts)) damaged.set(target.id, message);
    const salvaged = await this.#salvage(load, files, damaged, skipped, counts);
    return { skipped, salvaged, counts };
  }

  /**
   * Reads the files DuckDB can't read as a whole record by record (`salvageRecords`): their usable records are
   * written, byte for byte, to a new document that DuckDB reads with the same statement as any file (and as the
   * same file). A file without a single usable record is skipped. Should DuckDB still reject a rewritten file (a
   * record the checker let through), its records are bisected until the ones DuckDB rejects are found.
   */
  async #salvage(
    load: LoadPlan,
    files: readonly LogFile[],
    damaged: ReadonlyMap<number, string | undefined>,
    skipped: Map<number, string>,
    counts: ReadCounts,
  ): Promise<Map<number, ReadonlyMap<string, number>>> {
    const salvaged = new Map<number, Map<string, number>>();
    if (damaged.size === 0) return salvaged;
    const folder = path.join(this.#tempDir, SALVAGE_DIR);
    await mkdir(folder, { recursive: true });
    const rewritten: ReadTarget[] = [];
    const recordsOf = new Map<number, readonly Buffer[]>();
    for (const [id, message] of [...damaged].sort(([a], [b]) => a - b)) {
      const file = files[id]!;
      if (file.bytes > LARGE_MAX_OBJECT_BYTES) {
        skipped.set(id, explainReadError(message ?? 'larger than the largest file read record by record', file));
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = await readFile(file.path);
      } catch (error) {
        skipped.set(id, fileAccessReason(error, file));
        continue;
      }
      const result = await salvageRecords(bytes, file.path.endsWith('.gz'), load.fields);
      if (result.records.length === 0) {
        skipped.set(id, result.unreadable ?? (message !== undefined ? explainReadError(message, file) : 'no usable record'));
        continue;
      }
      salvaged.set(id, new Map(result.dropped));
      recordsOf.set(id, result.records);
      rewritten.push({ id, ...(await this.#rewrite(folder, `${id}`, file, result.records)) });
    }
    await this.#register(rewritten, (id) => files[id]!);
    for (const [target, message] of await this.#readAnySize(load, rewritten, counts)) {
      await this.#readRecordsApart(load, folder, files[target.id]!, target.id, recordsOf.get(target.id) ?? [], salvaged.get(target.id)!, counts, message);
    }
    return salvaged;
  }

  /** Writes `records` as one `{"Records": [...]}` document for file `id` (see `#register`). */
  async #rewrite(folder: string, name: string, file: LogFile, records: readonly Buffer[]): Promise<{ path: string; bytes: number }> {
    const target = path.join(folder, `${name}.json`);
    const parts: Buffer[] = [Buffer.from('{"Records":[')];
    records.forEach((record, i) => parts.push(...(i === 0 ? [record] : [COMMA_BYTES, record])));
    parts.push(Buffer.from(']}'));
    const document = Buffer.concat(parts);
    try {
      await writeFile(target, document);
    } catch (error) {
      throw new EngineError(`writing the records of ${file.key} to ${folder} failed: ${firstLine(error)}`, { cause: error });
    }
    return { path: target, bytes: document.length };
  }

  /** Makes the rewritten files' paths stand for their original files in `_files`. */
  async #register(targets: readonly ReadTarget[], fileOf: (id: number) => LogFile): Promise<void> {
    const appender = await this.#connection.createAppender('_files', 'main', 'temp');
    for (const { id, path: rewritten } of targets) {
      const file = fileOf(id);
      appender.appendInteger(id);
      appender.appendVarchar(rewritten);
      appender.appendVarchar(file.key);
      appender.appendVarchar(file.account);
      appender.appendVarchar(file.region);
      // The partition column is read only by a direct conversion (`#convertDirect`), which never salvages.
      appender.appendInteger(0);
      appender.endRow();
    }
    appender.closeSync();
  }

  /** Bisects the records of a rewritten file DuckDB rejected, counting each record it rejects alone with its reason. */
  async #readRecordsApart(
    load: LoadPlan,
    folder: string,
    file: LogFile,
    id: number,
    records: readonly Buffer[],
    dropped: Map<string, number>,
    counts: ReadCounts,
    firstFailure: string,
  ): Promise<void> {
    const queue: (readonly Buffer[])[] = [records];
    let attempt = 0;
    for (let part = queue.shift(); part !== undefined; part = queue.shift()) {
      let failure = firstFailure;
      let read = path.join(folder, `${id}.json`);
      if (part !== records) {
        const target: ReadTarget = { id, ...(await this.#rewrite(folder, `${id}-${(attempt += 1)}`, file, part)) };
        await this.#register([target], () => file);
        read = target.path;
        const result = await this.#tryBatch(
          load,
          [target],
          target.bytes < DEFAULT_MAX_OBJECT_BYTES ? DEFAULT_MAX_OBJECT_BYTES : this.#largeObjectBytes,
          counts,
          'load',
        );
        if (result === undefined) continue;
        failure = result;
      }
      if (part.length === 1) {
        const reason = explainReadError(failure, { ...file, path: read });
        dropped.set(reason, (dropped.get(reason) ?? 0) + 1);
      } else {
        const half = Math.ceil(part.length / 2);
        queue.unshift(part.slice(0, half), part.slice(half));
      }
    }
  }

  /**
   * A check is data (a check folder may come from a shared repository), and the catalogue's rule that it reads
   * only `cloudtrail_window` is enforced here too, so that a gap in that rule is not a hole. Once the window is
   * loaded nothing needs a file: no file or network access (read_text, COPY, ATTACH, INSTALL fail; spilling to
   * the temporary folder still works), no extension auto-install or auto-load, and the settings locked so that
   * no statement can turn them back on. Called by the first query, after loadWindow: loading reads the files.
   */
  async #confine(): Promise<void> {
    if (this.#confined) return;
    // The stored window is a view over the store's Parquet files: those stay readable (by exact path), nothing else.
    if (this.#readableFiles.length > 0) await this.#connection.run(`SET allowed_paths = [${this.#readableFiles.map(quoteLiteral).join(', ')}]`);
    for (const setting of ['enable_external_access', 'autoinstall_known_extensions', 'autoload_known_extensions']) {
      await this.#connection.run(`SET ${setting} = false`);
    }
    await this.#connection.run('SET lock_configuration = true');
    this.#confined = true;
  }

  /**
   * Creates `tables` (rows appended as values, never SQL text): what a check computed in-process reads (the log
   * integrity problems). Only before the first query, like the inventory.
   */
  async loadTables(tables: readonly InventoryTable[]): Promise<void> {
    if (this.#confined) throw new EngineError('tables must be loaded before the first check runs');
    for (const table of tables) await createTable(this.#connection, table);
  }

  /**
   * Puts the IAM inventory and the window's activity aggregate next to `cloudtrail_window` (see duckdb-inventory.ts);
   * `activity` rows instead when another engine aggregated them (Athena). Only before the first query: once
   * confined, the engine creates nothing.
   */
  async loadInventory(load: InventoryLoad, activity: Parameters<typeof materialiseInventory>[2] = { from: 'window' }): Promise<InventoryQueries> {
    if (this.#confined) throw new EngineError('the IAM inventory must be loaded before the first check runs');
    const rollups = this.#rollups;
    const facts = await materialiseInventory(
      this.#connection,
      load,
      activity.from === 'window' && rollups !== undefined && rollups.files.length > 0
        ? {
            from: 'sql',
            sql: activityFromRollupsSql(load.periodStarts, load.end, `read_parquet([${rollups.files.map(quoteLiteral).join(', ')}])`, rollups.removed),
          }
        : activity,
    );
    this.#log.debug({ fromRollups: rollups?.files.length ?? 0 }, 'IAM activity aggregated');
    return { facts, query: (sql, params) => this.query(sql, params) };
  }

  async query(sql: string, params: readonly ParamValue[], context?: QueryContext): Promise<QueryResult> {
    const values: DuckDBValue[] = [];
    const types: DuckDBType[] = [];
    for (const param of params) {
      if (typeof param === 'string') {
        values.push(param);
        types.push(VARCHAR);
      } else {
        values.push(listValue([...param]));
        types.push(LIST(VARCHAR));
      }
    }
    await this.#confine();
    const c = this.#connection;
    // Every query runs in a transaction that is always rolled back: whatever a statement changed, the next
    // check sees the window as it was loaded.
    await c.run('BEGIN TRANSACTION');
    try {
      // The check sees its own window, no more: a column loaded only for the latest days (`since`) is never a NULL
      // to it. Replacing the view is part of the transaction, undone with it.
      const start = context?.windowStart;
      if (start !== undefined && this.#windowSql !== undefined) {
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(start)) throw new EngineError(`not a window start: "${start}"`);
        const events = this.#windowFrom?.(start) ?? this.#windowSql;
        await c.run(`CREATE OR REPLACE VIEW cloudtrail_window AS SELECT * FROM (${events}) WHERE eventtime >= '${start}'`);
      }
      // prepare() takes exactly one statement (run() would execute all but the last one unprepared) and says which kind.
      const prepared = await c.prepare(sql);
      try {
        if (prepared.statementType !== StatementType.SELECT) {
          throw new EngineError(`refused a ${StatementType[prepared.statementType]} statement: a check is one SELECT`);
        }
        prepared.bind(values, types);
        const reader = await prepared.runAndReadAll();
        return {
          columns: reader.columnNames(),
          rows: reader.getRowsJS().map((row) => row.map(toText)),
        };
      } finally {
        prepared.destroySync();
      }
    } finally {
      await c.run('ROLLBACK');
    }
  }

  async close(): Promise<void> {
    const started = performance.now();
    let closedMs = 0;
    try {
      this.#connection.closeSync();
      this.#instance.closeSync();
      closedMs = performance.now() - started;
    } finally {
      await rm(this.#tempDir, { recursive: true, force: true });
      this.#log.debug({ closeMs: Math.round(closedMs), removeMs: Math.round(performance.now() - started - closedMs) }, 'DuckDB closed');
    }
  }
}
