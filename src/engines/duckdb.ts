import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  DuckDBInstance,
  LIST,
  VARCHAR,
  listValue,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { Logger } from 'pino';
import { EngineError } from '../core/errors.js';
import type { ParamValue, QueryResult, SkippedFile, WindowStats } from '../core/model.js';
import { toCloudTrailTime } from '../core/time.js';
import type { LogFile } from '../source/types.js';
import { CLOUDTRAIL_COLUMNS, type CloudTrailColumn } from '../core/cloudtrail-table.js';
import type { QueryEngine, WindowInput } from './types.js';

export interface DuckDbEngineOptions {
  /** Worker threads; default: every core. */
  readonly threads?: number;
  /** DuckDB memory limit, e.g. "1GB"; above it DuckDB spills to a temporary folder. */
  readonly memoryLimit?: string;
  /** Files per read statement. One bad file makes its statement fail; its batch is then re-read file by file. */
  readonly batchSize?: number;
}

/** One column of `cloudtrail_window`: its JSON key in the record, how it is read, and its Athena shape. */
interface ColumnSpec {
  readonly name: CloudTrailColumn;
  /** CloudTrail's exact camelCase key: DuckDB matches JSON keys case-sensitively (a wrong case reads NULLs). */
  readonly key: string;
  readonly readType: string;
  /** The Athena table's lower-case struct shape; DuckDB struct casts match fields by name. */
  readonly athenaType?: string;
}

const V = 'VARCHAR';
/** Free-form objects stay JSON text, as in Athena's table. */
const J = 'JSON';
const COLUMN_SPECS: readonly ColumnSpec[] = [
  { name: 'eventversion', key: 'eventVersion', readType: V },
  {
    name: 'useridentity',
    key: 'userIdentity',
    readType: `STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, invokedBy VARCHAR,
      accessKeyId VARCHAR, userName VARCHAR,
      sessionContext STRUCT(attributes STRUCT(mfaAuthenticated VARCHAR, creationDate VARCHAR),
        sessionIssuer STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, userName VARCHAR),
        ec2RoleDelivery VARCHAR, webIdFederationData JSON))`,
    athenaType: `STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, invokedby VARCHAR,
      accesskeyid VARCHAR, username VARCHAR,
      sessioncontext STRUCT(attributes STRUCT(mfaauthenticated VARCHAR, creationdate VARCHAR),
        sessionissuer STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, username VARCHAR),
        ec2roledelivery VARCHAR, webidfederationdata JSON))`,
  },
  { name: 'eventtime', key: 'eventTime', readType: V },
  { name: 'eventsource', key: 'eventSource', readType: V },
  { name: 'eventname', key: 'eventName', readType: V },
  { name: 'awsregion', key: 'awsRegion', readType: V },
  { name: 'sourceipaddress', key: 'sourceIPAddress', readType: V },
  { name: 'useragent', key: 'userAgent', readType: V },
  { name: 'errorcode', key: 'errorCode', readType: V },
  { name: 'errormessage', key: 'errorMessage', readType: V },
  { name: 'requestparameters', key: 'requestParameters', readType: J },
  { name: 'responseelements', key: 'responseElements', readType: J },
  { name: 'additionaleventdata', key: 'additionalEventData', readType: J },
  { name: 'requestid', key: 'requestID', readType: V },
  { name: 'eventid', key: 'eventID', readType: V },
  {
    name: 'resources',
    key: 'resources',
    readType: 'STRUCT(ARN VARCHAR, accountId VARCHAR, type VARCHAR)[]',
    athenaType: 'STRUCT(arn VARCHAR, accountid VARCHAR, type VARCHAR)[]',
  },
  { name: 'eventtype', key: 'eventType', readType: V },
  { name: 'apiversion', key: 'apiVersion', readType: V },
  { name: 'readonly', key: 'readOnly', readType: V },
  { name: 'recipientaccountid', key: 'recipientAccountId', readType: V },
  { name: 'serviceeventdetails', key: 'serviceEventDetails', readType: J },
  { name: 'sharedeventid', key: 'sharedEventID', readType: V },
  { name: 'vpcendpointid', key: 'vpcEndpointId', readType: V },
  { name: 'eventcategory', key: 'eventCategory', readType: V },
  {
    name: 'tlsdetails',
    key: 'tlsDetails',
    readType: 'STRUCT(tlsVersion VARCHAR, cipherSuite VARCHAR, clientProvidedHostHeader VARCHAR)',
    athenaType: 'STRUCT(tlsversion VARCHAR, ciphersuite VARCHAR, clientprovidedhostheader VARCHAR)',
  },
];

const oneLine = (text: string) => text.replace(/\s+/g, ' ');

/** The record type to read with: only the wanted keys, so the JSON reader skips the rest. */
export function recordType(columns: readonly CloudTrailColumn[] = CLOUDTRAIL_COLUMNS): string {
  const specs = COLUMN_SPECS.filter((spec) => columns.includes(spec.name));
  return oneLine(`STRUCT(${specs.map((spec) => `${spec.key} ${spec.readType}`).join(', ')})`);
}

/** The SELECT list turning a record `r` into `cloudtrail_window` columns. */
function projection(columns: readonly CloudTrailColumn[]): string {
  return oneLine(
    COLUMN_SPECS.filter((spec) => columns.includes(spec.name))
      .map((spec) => (spec.athenaType ? `CAST(r.${spec.key} AS ${spec.athenaType}) AS ${spec.name}` : `r.${spec.key} AS ${spec.name}`))
      .join(', '),
  );
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
 * DuckDB sizes its read buffers by `maximum_object_size`, so a huge value slows every file down (5x
 * measured on small files). Most delivery files are far below 64 MB uncompressed; a file above it fails
 * its batch and is read again alone with the large limit.
 */
const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;
const LARGE_MAX_OBJECT_BYTES = 1024 * 1024 * 1024;

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
  readonly #instance: DuckDBInstance;
  readonly #connection: DuckDBConnection;
  readonly #tempDir: string;
  readonly #batchSize: number;
  readonly #log: Logger;

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection, tempDir: string, batchSize: number, log: Logger) {
    this.#instance = instance;
    this.#connection = connection;
    this.#tempDir = tempDir;
    this.#batchSize = batchSize;
    this.#log = log;
  }

  static async create(options: DuckDbEngineOptions, log: Logger): Promise<DuckDbEngine> {
    const tempDir = await mkdtemp(path.join(os.tmpdir(), 'trailwarden-duckdb-'));
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
      return new DuckDbEngine(instance, connection, tempDir, options.batchSize ?? 64, log);
    } catch (error) {
      await rm(tempDir, { recursive: true, force: true });
      throw new EngineError('could not start DuckDB', { cause: error });
    }
  }

  /**
   * One read statement over a batch of files. Besides the events of the window it inserts one marker
   * row per JSON document read (Records prepended with NULL), which is how a file that yields no
   * document at all (truncated gzip) or one without a `Records` array is told apart from a file
   * whose events are simply all outside the window.
   */
  async #readBatch(load: LoadPlan, files: readonly LogFile[], maxObjectBytes = DEFAULT_MAX_OBJECT_BYTES): Promise<void> {
    const fileList = `[${files.map((file) => quoteLiteral(file.path)).join(', ')}]`;
    await this.#connection.run(
      `INSERT INTO _load
       SELECT ${load.projection}, f.account, f.region, f.id AS _file, r IS NULL AS _marker, j.records_missing AS _records_missing
       FROM (
         SELECT unnest(list_prepend(NULL, coalesce(Records, []))) AS r, Records IS NULL AS records_missing, filename
         FROM read_json(${fileList}, columns = {Records: '${load.recordType}[]'},
                        filename = true, format = 'auto', maximum_object_size = ${maxObjectBytes})
       ) j
       JOIN _files f ON f.path = j.filename
       WHERE r IS NULL OR r.eventTime IS NULL OR (r.eventTime >= ? AND r.eventTime < ?)`,
      [load.start, load.end],
    );
  }

  async loadWindow({ window, files, columns = CLOUDTRAIL_COLUMNS }: WindowInput): Promise<WindowStats> {
    const load: LoadPlan = {
      start: toCloudTrailTime(window.start),
      end: toCloudTrailTime(window.end),
      recordType: recordType(columns),
      projection: projection(columns),
    };
    const c = this.#connection;
    await c.run('DROP TABLE IF EXISTS cloudtrail_window');
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
       SELECT ${load.projection}, ''::VARCHAR AS account, ''::VARCHAR AS region, 0::INTEGER AS _file, false AS _marker, false AS _records_missing
       FROM (SELECT NULL::${load.recordType} AS r) WHERE false`,
    );

    const started = performance.now();
    const failures = new Map<number, string>();
    for (let i = 0; i < files.length; i += this.#batchSize) {
      const batch = files.slice(i, i + this.#batchSize);
      try {
        await this.#readBatch(load, batch);
      } catch {
        // A statement is all or nothing: find the bad file(s) by reading the batch one file at a time.
        for (const [offset, file] of batch.entries()) {
          try {
            await this.#readBatch(load, [file]);
          } catch (fileError) {
            let error = fileError;
            if (firstLine(error).includes('maximum_object_size')) {
              error = await this.#readBatch(load, [file], LARGE_MAX_OBJECT_BYTES).then(() => undefined, (e: unknown) => e);
            }
            if (error !== undefined) failures.set(i + offset, firstLine(error));
          }
        }
      }
    }

    const readMs = performance.now() - started;
    const skipped: SkippedFile[] = [];
    const markers = await c.runAndReadAll(
      'SELECT _file, bool_or(_records_missing) FROM _load WHERE _marker GROUP BY _file',
    );
    const documents = new Map(markers.getRowsJS().map((row) => [Number(row[0]), row[1] === true]));
    files.forEach((file, id) => {
      const failure = failures.get(id);
      if (failure !== undefined) {
        skipped.push({ path: file.key, reason: explainReadError(failure, file) });
      } else if (!documents.has(id)) {
        skipped.push({ path: file.key, reason: 'no JSON document could be read (empty or truncated file)' });
      } else if (documents.get(id)) {
        skipped.push({ path: file.key, reason: 'JSON without a "Records" array (expected {"Records": [...]})' });
      }
    });
    // Events of a file that turned out unusable must not count (e.g. a file with one good and one bad document).
    const skippedIds = files.flatMap((file, id) => (skipped.some((s) => s.path === file.key) ? [id] : []));
    if (skippedIds.length > 0) await c.run(`DELETE FROM _load WHERE list_contains(${`[${skippedIds.join(',')}]`}, _file)`);

    // CloudTrail may deliver an event twice: keep one row per eventID (records without an ID are all kept).
    const dedupStarted = performance.now();
    await c.run(
      `CREATE TABLE cloudtrail_window AS
       SELECT * EXCLUDE (_file, _marker, _records_missing) FROM _load
       WHERE NOT _marker AND eventtime IS NOT NULL
       QUALIFY eventid IS NULL OR row_number() OVER (PARTITION BY eventid ORDER BY _file) = 1`,
    );
    const counts = await c.runAndReadAll(
      `SELECT
         (SELECT count(*) FROM _load WHERE NOT _marker AND eventtime IS NOT NULL) AS loaded,
         (SELECT count(*) FROM _load WHERE NOT _marker AND eventtime IS NULL) AS without_time,
         (SELECT count(*) FROM cloudtrail_window) AS events,
         (SELECT count(*) FROM cloudtrail_window WHERE eventcategory = 'Data') AS data_events,
         (SELECT coalesce(list(DISTINCT account ORDER BY account), []) FROM cloudtrail_window) AS accounts,
         (SELECT coalesce(list(DISTINCT region ORDER BY region), []) FROM cloudtrail_window) AS regions`,
    );
    await c.run('DROP TABLE _load');
    const [loaded, withoutTime, events, dataEvents, accounts, regions] = counts.getRowsJS()[0] ?? [];
    const stats: WindowStats = {
      filesRead: files.length - skipped.length,
      filesSkipped: skipped,
      events: Number(events),
      duplicates: Number(loaded) - Number(events),
      recordsWithoutTime: Number(withoutTime),
      dataEvents: Number(dataEvents),
      accounts: (accounts as string[] | undefined) ?? [],
      regions: (regions as string[] | undefined) ?? [],
    };
    this.#log.debug(
      { readMs: Math.round(readMs), dedupMs: Math.round(performance.now() - dedupStarted), columns: columns.length, stats: { ...stats, filesSkipped: skipped.length } },
      'window loaded',
    );
    return stats;
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
    const reader = await this.#connection.runAndReadAll(sql, values, types);
    return {
      columns: reader.columnNames(),
      rows: reader.getRowsJS().map((row) => row.map(toText)),
    };
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
