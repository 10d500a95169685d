import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, LIST, StatementType, VARCHAR, listValue, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { EngineError } from '../core/errors.js';
import type { ParamValue, QueryResult, SkippedFile, WindowStats } from '../core/model.js';
import { toCloudTrailTime } from '../core/time.js';
import type { LogFile } from '../source/types.js';
import { CLOUDTRAIL_COLUMNS, tableColumns, type CloudTrailColumn, type ColumnType } from '../core/cloudtrail-table.js';
import type { QueryEngine, WindowInput } from './types.js';

export interface DuckDbEngineOptions {
  /** Worker threads; default: every core. */
  readonly threads?: number;
  /** DuckDB memory limit, e.g. "1GB"; above it DuckDB spills to a temporary folder. */
  readonly memoryLimit?: string;
  /** Most files per read statement (tests make it small to exercise the retries). */
  readonly batchSize?: number;
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

/** The record type to read with: only the wanted keys, so the JSON reader skips the rest. */
export function recordType(columns: readonly CloudTrailColumn[] = CLOUDTRAIL_COLUMNS): string {
  return `STRUCT(${tableColumns(columns)
    .map((c) => `${c.key} ${duckDbType(c.type, 'key')}`)
    .join(', ')})`;
}

/**
 * The SELECT list turning a record `r` into `cloudtrail_window` columns. Nested values are cast to Athena's
 * lower-case field names (DuckDB's struct cast matches fields by name, ignoring case); scalars keep theirs.
 */
export function projection(columns: readonly CloudTrailColumn[]): string {
  const scalar = (type: ColumnType) => type.kind === 'string' || type.kind === 'json';
  return tableColumns(columns)
    .map((c) => (scalar(c.type) ? `r.${c.key} AS ${c.name}` : `CAST(r.${c.key} AS ${duckDbType(c.type, 'name')}) AS ${c.name}`))
    .join(', ');
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
  `CREATE OR REPLACE MACRO date_add(unit, n, ts) AS
     CASE lower(unit)
       WHEN 'second' THEN ts + to_seconds(n) WHEN 'minute' THEN ts + to_minutes(n)
       WHEN 'hour' THEN ts + to_hours(n) WHEN 'day' THEN ts + to_days(n) WHEN 'week' THEN ts + to_weeks(n)
       WHEN 'month' THEN ts + to_months(n) WHEN 'year' THEN ts + to_years(n) END,
     (d, i) AS d + i`,
];

interface LoadPlan {
  readonly start: string;
  readonly end: string;
  readonly recordType: string;
  readonly projection: string;
}

/**
 * A read statement takes up to this many files or gzip bytes. One large statement is fastest (DuckDB
 * spreads its files over all threads; the same files in six statements were measured 70% slower), but
 * a corrupt file fails its whole statement, and the work done before it is lost. Files that look
 * truncated are therefore read first, one per statement (see `screenGzip`).
 */
const BATCH_FILES = 4096;
const BATCH_BYTES = 256 * 1024 * 1024;

/**
 * Cheap checks before DuckDB sees the files, reading 2 bytes at the start and 4 at the end of each:
 * - not gzip at all (DuckDB's error for those names no file): a failure;
 * - suspicious: the gzip trailer's uncompressed size (ISIZE, mod 2^32) is impossible for the file's
 *   compressed size, as it is for about 98% of truncated files, whose last bytes are arbitrary.
 */
async function screenGzip(files: readonly LogFile[]): Promise<{ failures: Map<number, string>; suspicious: Set<number> }> {
  const failures = new Map<number, string>();
  const suspicious = new Set<number>();
  const head = Buffer.alloc(2);
  const tail = Buffer.alloc(4);
  const gzipped = [...files.entries()].filter(([, file]) => file.path.endsWith('.gz'));
  for (const [id, file] of gzipped) {
    const handle = await open(file.path, 'r');
    try {
      const { bytesRead } = await handle.read(head, 0, 2, 0);
      if (bytesRead < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
        failures.set(id, 'Input is not a GZIP stream');
        continue;
      }
      await handle.read(tail, 0, 4, Math.max(0, file.bytes - 4));
      const isize = tail.readUInt32LE(0);
      // Deflate never grows data by more than a few bytes per block, nor shrinks it more than ~1032:1.
      if (file.bytes < 2 ** 22 && (isize < file.bytes - 1024 || isize > file.bytes * 1032)) suspicious.add(id);
    } finally {
      await handle.close();
    }
  }
  return { failures, suspicious };
}

/**
 * DuckDB sizes its read buffers by `maximum_object_size`, so a huge value slows every file down (5x
 * measured on small files). Most delivery files are far below 64 MB uncompressed; a file above it fails
 * its batch and is read again alone with the large limit.
 */
const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;
const LARGE_MAX_OBJECT_BYTES = 1024 * 1024 * 1024;

const TEMP_PREFIX = 'trailwarden-duckdb-';

/**
 * DuckDB spills to a temporary folder that close() removes. A process killed mid-run leaves its folder
 * behind (possibly gigabytes): remove those whose process is gone.
 */
async function removeOrphanedTempDirs(): Promise<void> {
  const entries = await readdir(os.tmpdir()).catch(() => [] as string[]);
  for (const name of entries) {
    const pid = name.startsWith(TEMP_PREFIX) ? Number(/^(\d+)-/.exec(name.slice(TEMP_PREFIX.length))?.[1]) : 0;
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') await rm(path.join(os.tmpdir(), name), { recursive: true, force: true });
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
  return message.replaceAll(file.path, file.key);
}

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
export class DuckDbEngine implements QueryEngine {
  readonly kind = 'duckdb';
  readonly readsLocalFiles = true;
  readonly #instance: DuckDBInstance;
  readonly #connection: DuckDBConnection;
  readonly #tempDir: string;
  readonly #batchFiles: number;
  readonly #log: Logger;
  /** Set once the first query has shut the engine's access to anything but the loaded window (see `#confine`). */
  #confined = false;

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection, tempDir: string, batchSize: number, log: Logger) {
    this.#instance = instance;
    this.#connection = connection;
    this.#tempDir = tempDir;
    this.#batchFiles = batchSize;
    this.#log = log;
  }

  static async create(options: DuckDbEngineOptions, log: Logger): Promise<DuckDbEngine> {
    await removeOrphanedTempDirs();
    const tempDir = await mkdtemp(path.join(os.tmpdir(), `${TEMP_PREFIX}${process.pid}-`));
    try {
      const config: Record<string, string> = {
        threads: String(options.threads ?? Math.max(1, os.availableParallelism())),
        temp_directory: tempDir,
        // Row order within the load does not matter (checks ORDER BY); dropping it saves memory.
        preserve_insertion_order: 'false',
      };
      if (options.memoryLimit) config.memory_limit = options.memoryLimit;
      const instance = await DuckDBInstance.create(':memory:', config);
      const connection = await instance.connect();
      for (const statement of TRINO_SHIMS) await connection.run(statement);
      return new DuckDbEngine(instance, connection, tempDir, options.batchSize ?? BATCH_FILES, log);
    } catch (error) {
      await rm(tempDir, { recursive: true, force: true });
      throw new EngineError('could not start DuckDB', { cause: error });
    }
  }

  /**
   * One read statement over a batch of files: the events of the window, and the records without an
   * eventTime (to be counted). The Records list is unnested as it is: any list expression around it
   * (a marker row prepended per document, say) copies every list and was measured to make the whole
   * load about 40% slower. Files that yield no row are examined afterwards (see `#emptyFileReasons`).
   */
  async #readBatch(load: LoadPlan, files: readonly LogFile[], maxObjectBytes = DEFAULT_MAX_OBJECT_BYTES): Promise<void> {
    const fileList = `[${files.map((file) => quoteLiteral(file.path)).join(', ')}]`;
    await this.#connection.run(
      `INSERT INTO _load
       SELECT ${load.projection}, f.account, f.region, f.id AS _file
       FROM (
         SELECT unnest(Records) AS r, filename
         FROM read_json(${fileList}, columns = {Records: '${load.recordType}[]'},
                        filename = true, format = 'auto', maximum_object_size = ${maxObjectBytes})
       ) j
       JOIN _files f ON f.path = j.filename
       WHERE r.eventTime IS NULL OR (r.eventTime >= ? AND r.eventTime < ?)`,
      [load.start, load.end],
    );
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
    const fileList = `[${ids.map((id) => quoteLiteral(files[id]!.path)).join(', ')}]`;
    const documents = await this.#connection.runAndReadAll(
      `SELECT f.id, bool_or(j.Records IS NULL) AS records_missing
       FROM read_json(${fileList}, columns = {Records: 'JSON'}, filename = true, format = 'auto',
                      maximum_object_size = ${LARGE_MAX_OBJECT_BYTES}) j
       JOIN _files f ON f.path = j.filename
       GROUP BY f.id`,
    );
    const found = new Map(documents.getRowsJS().map((row) => [Number(row[0]), row[1] === true]));
    for (const id of ids) {
      if (!found.has(id)) reasons.set(id, 'no JSON document could be read (empty or truncated file)');
      else if (found.get(id)) reasons.set(id, 'JSON without a "Records" array (expected {"Records": [...]})');
    }
    return reasons;
  }

  async loadWindow(input: WindowInput): Promise<WindowStats> {
    try {
      return await this.#loadWindow(input);
    } catch (error) {
      if (error instanceof EngineError) throw error;
      throw new EngineError(`loading the window failed: ${firstLine(error)}`, { cause: error });
    }
  }

  async #loadWindow({ window, files, columns = CLOUDTRAIL_COLUMNS }: WindowInput): Promise<WindowStats> {
    const load: LoadPlan = {
      start: toCloudTrailTime(window.start),
      end: toCloudTrailTime(window.end),
      recordType: recordType(columns),
      projection: projection(columns),
    };
    const c = this.#connection;
    await c.run('DROP VIEW IF EXISTS cloudtrail_window');
    await c.run('CREATE OR REPLACE TEMP TABLE _files (id INTEGER, path VARCHAR, key VARCHAR, account VARCHAR, region VARCHAR)');
    const appender = await c.createAppender('_files', 'main', 'temp');
    files.forEach((file, id) => {
      appender.appendInteger(id);
      appender.appendVarchar(file.path);
      appender.appendVarchar(file.key);
      appender.appendVarchar(file.account);
      appender.appendVarchar(file.region);
      appender.endRow();
    });
    appender.closeSync();
    // An empty read fixes the staging table's column types from the same projection the loads use.
    await c.run(
      `CREATE OR REPLACE TEMP TABLE _load AS
       SELECT ${load.projection}, ''::VARCHAR AS account, ''::VARCHAR AS region, 0::INTEGER AS _file
       FROM (SELECT NULL::${load.recordType} AS r) WHERE false`,
    );

    const started = performance.now();
    const failures = await this.#readAll(load, files);
    const readMs = performance.now() - started;

    const skipped: SkippedFile[] = [];
    const withRows = new Set((await c.runAndReadAll('SELECT DISTINCT _file FROM _load')).getRowsJS().map((row) => Number(row[0])));
    const silent = [...files.keys()].filter((id) => !failures.has(id) && !withRows.has(id));
    const emptyReasons = await this.#emptyFileReasons(files, silent);
    const skippedIds: number[] = [];
    files.forEach((file, id) => {
      const failure = failures.get(id);
      const reason = failure !== undefined ? explainReadError(failure, file) : emptyReasons.get(id);
      if (reason) {
        skipped.push({ path: file.key, reason });
        skippedIds.push(id);
      }
    });

    const tidyStarted = performance.now();
    const unusable = `list_contains([${skippedIds.join(',')}]::INTEGER[], _file)`;
    const [withoutTime] = (await c.runAndReadAll(`SELECT count(*) FROM _load WHERE eventtime IS NULL AND NOT ${unusable}`)).getRowsJS()[0] ?? [];
    // Events of a file that turned out unusable must not count; records without a time belong to no window.
    await c.run(`DELETE FROM _load WHERE eventtime IS NULL OR ${unusable}`);
    // CloudTrail may deliver an event twice: keep the first row per eventID. Only IDs seen more than
    // once are ranked, and rows are deleted in place: no second copy of the window.
    const removed = await c.run(
      `DELETE FROM _load WHERE rowid IN (
         SELECT rowid FROM (
           SELECT rowid, row_number() OVER (PARTITION BY eventid ORDER BY _file, rowid) AS n
           FROM _load
           WHERE eventid IN (SELECT eventid FROM _load GROUP BY eventid HAVING count(*) > 1))
         WHERE n > 1)`,
    );
    await c.run('CREATE VIEW cloudtrail_window AS SELECT * EXCLUDE (_file) FROM _load');
    const counts = await c.runAndReadAll(
      `SELECT count(*) AS events,
              count(*) FILTER (WHERE eventcategory = 'Data') AS data_events,
              coalesce(list(DISTINCT account ORDER BY account), []) AS accounts,
              coalesce(list(DISTINCT region ORDER BY region), []) AS regions
       FROM cloudtrail_window`,
    );
    const [events, dataEvents, accounts, regions] = counts.getRowsJS()[0] ?? [];
    const stats: WindowStats = {
      filesRead: files.length - skipped.length,
      filesSkipped: skipped,
      events: Number(events),
      duplicates: Number(removed.rowsChanged),
      recordsWithoutTime: Number(withoutTime),
      recordsDropped: [],
      conflicts: [],
      dataEvents: Number(dataEvents),
      accounts: (accounts as string[] | undefined) ?? [],
      regions: (regions as string[] | undefined) ?? [],
    };
    this.#log.debug(
      {
        readMs: Math.round(readMs),
        tidyMs: Math.round(performance.now() - tidyStarted),
        columns: columns.length,
        stats: { ...stats, filesSkipped: skipped.length },
      },
      'window loaded',
    );
    return stats;
  }

  /**
   * Reads every file into `_load` in as few statements as possible. A statement is all or nothing, so
   * when one fails: a file named in the error is set aside and the rest re-read; an error naming no
   * file splits the batch in two. A clean tree costs one pass.
   * Returns the files that could not be read, with DuckDB's message.
   */
  async #readAll(load: LoadPlan, files: readonly LogFile[]): Promise<Map<number, string>> {
    const { failures, suspicious } = await screenGzip(files);
    // Suspicious files first, alone: if they fail, no other work is lost.
    const queue: number[][] = [...suspicious].map((id) => [id]);
    let batch: number[] = [];
    let bytes = 0;
    files.forEach((file, id) => {
      if (failures.has(id) || suspicious.has(id)) return;
      batch.push(id);
      bytes += file.bytes;
      if (batch.length >= this.#batchFiles || bytes >= BATCH_BYTES) {
        queue.push(batch);
        batch = [];
        bytes = 0;
      }
    });
    if (batch.length > 0) queue.push(batch);

    for (let ids = queue.shift(); ids !== undefined; ids = queue.shift()) {
      try {
        await this.#readBatch(
          load,
          ids.map((id) => files[id]!),
        );
      } catch (error) {
        const message = firstLine(error);
        // Only a file's own fault (unreadable, not gzip, not JSON, wrong shape) is a skip. Anything else
        // (out of memory, an internal error) would otherwise turn every file into a "skipped" one and
        // every check into a pass: abort the run instead.
        if (!/^(Invalid Input Error|IO Error)\b/.test(message) || /No space left on device|Too many open files/i.test(message)) {
          throw new EngineError(`reading the CloudTrail files failed: ${message}`, { cause: error });
        }
        const named = ids.find((id) => message.includes(`"${files[id]!.path}"`) || message.endsWith(files[id]!.path));
        const culprit = named ?? (ids.length === 1 ? ids[0] : undefined);
        if (culprit !== undefined) {
          if (message.includes('maximum_object_size')) {
            const retry = await this.#readBatch(load, [files[culprit]!], LARGE_MAX_OBJECT_BYTES).then(
              () => undefined,
              (e: unknown) => firstLine(e),
            );
            if (retry !== undefined) failures.set(culprit, retry);
          } else {
            failures.set(culprit, message);
          }
          const rest = ids.filter((id) => id !== culprit);
          if (rest.length > 0) queue.unshift(rest);
        } else {
          const half = Math.ceil(ids.length / 2);
          queue.unshift(ids.slice(0, half), ids.slice(half));
        }
      }
    }
    return failures;
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
    for (const setting of ['enable_external_access', 'autoinstall_known_extensions', 'autoload_known_extensions']) {
      await this.#connection.run(`SET ${setting} = false`);
    }
    await this.#connection.run('SET lock_configuration = true');
    this.#confined = true;
  }

  async query(sql: string, params: readonly ParamValue[]): Promise<QueryResult> {
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
    try {
      this.#connection.closeSync();
      this.#instance.closeSync();
    } finally {
      await rm(this.#tempDir, { recursive: true, force: true });
    }
  }
}
