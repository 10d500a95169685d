/**
 * An Athena-protocol test server of ours: a loopback HTTP server speaking AWS JSON 1.1
 * (`X-Amz-Target: AmazonAthena.<Operation>`) that executes the SQL it receives on DuckDB, so the real
 * `@aws-sdk/client-athena` — and with it our polling, pagination, parameter, throttling and error
 * handling — is exercised over the wire. No Athena emulator exists on npm or in Debian, hence this one.
 *
 * It stands apart from `src/engines/*` on purpose: what it shares with the DuckDB engine passes both
 * engines' tests when wrong. It takes only what real Athena is given: the DDL's column list.
 *
 * What it emulates, and how far:
 * - A CloudTrail table (`<database>.<table>`) loaded from a local CloudTrail tree, with the columns and types
 *   of the DDL `setup athena` writes, read by Hive's JsonSerDe rules (see hive-json-table.ts), plus the
 *   partition columns `account`, `region`, `"timestamp"` (`yyyy/MM/dd`) and `"$path"` (`s3://<bucket>/<key>`).
 *   Only `AWSLogs/[<o-id>/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/` objects are in it, as with a
 *   narrow storage.location.template (digests are not).
 * - The Trino functions the built-in checks and the engine's SQL use that DuckDB lacks (`TRINO_FUNCTIONS`).
 * - Partition pruning: which objects a query reads is decided from its `"timestamp" BETWEEN`, `account IN`,
 *   `region IN` and `"$path" NOT IN` predicates (parameters bound); no such predicate means every object.
 *   A query that reads a corrupt object FAILS with HIVE_CURSOR_ERROR naming its s3 path, as Athena does.
 *   DataScannedInBytes is the size of the objects read (gzip JSON is scanned whole), or 100 bytes per row
 *   for tables created by CTAS (stand-in for a Parquet column scan).
 * - CTAS (`CREATE TABLE … WITH (…, external_location = '…') AS SELECT`), DROP TABLE, SHOW TABLES; CREATE
 *   EXTERNAL TABLE and ALTER TABLE … ADD PARTITION are recorded (for `setup athena --apply`), not executed.
 *   A CTAS writes a placeholder object at its external_location (so deleting the prefix is observable) and
 *   fails when the location is not empty, like Athena.
 * - ExecutionParameters must each be one literal (`'…'`, `ARRAY['…', …]`, `CAST(ARRAY[] AS ARRAY(VARCHAR))`);
 *   anything else is rejected: that keeps the client honest about binding, never concatenating.
 * - Behaviours on demand: N polls QUEUED/RUNNING, never finishing, FAILED or CANCELLED with a reason,
 *   throttling (ThrottlingException / TooManyRequestsException) N times, losing the answer to a start,
 *   small result pages.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance, LIST, VARCHAR, listValue, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { parseLogKey } from '../../src/core/cloudtrail-layout.js';
import { CLOUDTRAIL_TABLE_COLUMNS } from '../../src/core/cloudtrail-table.js';
import { duckDbTypeOf, parseHiveColumns, readDeliveryFile } from './hive-json-table.js';

export interface AthenaServerOptions {
  /** A folder holding `AWSLogs/…`: the CloudTrail table's content (the same tree as uploaded to `bucket`). */
  readonly logsDir?: string;
  /** The bucket (and key prefix) the tree is in, for `"$path"`. */
  readonly bucket?: string;
  readonly prefix?: string;
  readonly database?: string;
  readonly table?: string;
  /** An S3 client for the CTAS external locations (placeholder objects, emptiness check). */
  readonly s3?: S3Client;
}

/** What to do with queries whose SQL matches. */
export interface Behaviour {
  readonly match: RegExp;
  /** Polls answered QUEUED, then RUNNING, before the final state (default 0 and 0). */
  readonly queuedPolls?: number;
  readonly runningPolls?: number;
  /** Stay RUNNING until stopped. */
  readonly hang?: boolean;
  /** End FAILED with this StateChangeReason. */
  readonly fail?: string;
  /** End CANCELLED with this reason. */
  readonly cancel?: string;
  /** Apply to this many matching queries, then stop (default: all). */
  times?: number;
}

type State = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

interface ResultSet {
  readonly columns: { name: string; type: string }[];
  readonly rows: (string | null)[][];
}

/** One query the server accepted. */
export interface ServerExecution {
  readonly id: string;
  readonly sql: string;
  readonly parameters: readonly string[];
  readonly token?: string;
  readonly workGroup?: string;
  readonly outputLocation?: string;
  readonly resultReuse?: unknown;
  readonly statementType: 'DML' | 'DDL';
  /** Objects of the CloudTrail table the query read (after pruning). */
  readonly pathsRead: readonly string[];
  polls: number;
  state: State;
  /** True once a poll has seen the final state: until then the query counts as in flight. */
  reported: boolean;
  stopped: boolean;
  reason?: string;
  scannedBytes: number;
  result?: ResultSet;
  readonly behaviour?: Behaviour;
}

export interface RecordedCall {
  readonly target: string;
  readonly input: Record<string, unknown>;
  readonly outcome: 'answered' | 'throttled' | 'lost' | 'rejected';
}

export interface AthenaServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Every API call in arrival order. */
  readonly calls: RecordedCall[];
  readonly executions: Map<string, ServerExecution>;
  /** CloudTrail objects that cannot be read (`s3://…` paths), found while loading the tree. */
  readonly corruptPaths: readonly string[];
  /** Source objects: `s3://…` path → bytes. */
  readonly sourceObjects: ReadonlyMap<string, number>;
  /** CREATE EXTERNAL TABLE / ALTER TABLE statements received, in order. */
  readonly ddl: string[];
  /** Partitions added with ALTER TABLE … ADD PARTITION: location by `k=v/k=v` spec. */
  readonly partitions: Map<string, string>;
  /** The most queries in flight (started, final state not yet seen by a poll) at any one time. */
  readonly maxInFlight: number;
  /** Starts counting `maxInFlight` afresh from the queries in flight now. */
  resetMaxInFlight(): void;
  /** Result page size cap (GetQueryResults MaxResults is lowered to it). */
  pageSize: number;
  behave(behaviour: Behaviour): void;
  /** The next `count` calls of `target` (e.g. 'StartQueryExecution') are answered with a throttling error. */
  throttle(target: string, count: number, errorType?: 'ThrottlingException' | 'TooManyRequestsException'): void;
  /** The next `count` StartQueryExecution calls start the query, then answer 500 as if the answer got lost. */
  loseStartAnswers(count: number): void;
  /** Tables in the database (lower-case names). */
  tables(): Promise<string[]>;
  /** Prepares a table as a crashed run would have left it: an empty table, and an object at its location. */
  seedTable(name: string, location: string): Promise<void>;
  stop(): Promise<void>;
}

// ===================================================================================================
// SQL text helpers

/** Splits SQL into quoted strings and the rest, so rewrites never touch string contents. */
function mapOutsideStrings(sql: string, fn: (code: string) => string): string {
  const parts = sql.split(/('(?:[^']|'')*')/);
  return parts.map((part, i) => (i % 2 === 1 ? part : fn(part))).join('');
}

function stripLeadingComments(sql: string): string {
  return sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/, '');
}

type Literal = string | string[];

function unquote(text: string): string {
  return text.slice(1, -1).replaceAll("''", "'");
}

const STRING = String.raw`'(?:[^']|'')*'`;

/** One ExecutionParameter → its value, or undefined when it is not exactly one literal. */
export function parseLiteral(text: string): Literal | undefined {
  const t = text.trim();
  if (new RegExp(`^${STRING}$`).test(t)) return unquote(t);
  if (/^CAST\s*\(\s*ARRAY\s*\[\s*\]\s*AS\s+ARRAY\s*\(\s*VARCHAR\s*\)\s*\)$/i.test(t)) return [];
  const array = new RegExp(`^ARRAY\\s*\\[\\s*(${STRING}(?:\\s*,\\s*${STRING})*)\\s*\\]$`, 'i').exec(t);
  if (array) return [...array[1]!.matchAll(new RegExp(STRING, 'g'))].map((m) => unquote(m[0]));
  return undefined;
}

/** The SQL with each `?` (outside strings) replaced by its literal text: for pruning analysis only. */
function inlineParameters(sql: string, literals: readonly string[]): string {
  let i = 0;
  return mapOutsideStrings(sql, (code) => code.replace(/\?/g, () => literals[i++] ?? '?'));
}

function stringsIn(list: string): string[] {
  return [...list.matchAll(new RegExp(STRING, 'g'))].map((m) => unquote(m[0]));
}

// ===================================================================================================
// Errors answered over the wire

class WireError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A query that ends FAILED (with Athena's error category). */
class QueryFailure extends Error {}

// ===================================================================================================
// The server

const ATHENA_TYPES: Record<string, string> = {
  VARCHAR: 'varchar',
  BIGINT: 'bigint',
  HUGEINT: 'bigint',
  INTEGER: 'integer',
  SMALLINT: 'smallint',
  TINYINT: 'tinyint',
  DOUBLE: 'double',
  FLOAT: 'real',
  BOOLEAN: 'boolean',
  DATE: 'date',
};

function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}

interface SourceFile {
  readonly path: string;
  readonly s3Path: string;
  readonly account: string;
  readonly region: string;
  readonly day: string;
  readonly bytes: number;
}

async function treeFiles(dir: string, bucket: string, prefix: string): Promise<SourceFile[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files: SourceFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full).split(path.sep).join('/');
    const key = parseLogKey(rel);
    if (!key) continue;
    files.push({
      path: full,
      s3Path: `s3://${bucket}/${prefix}${rel}`,
      account: key.account,
      region: key.region,
      day: key.day,
      bytes: (await stat(full)).size,
    });
  }
  return files.sort((a, b) => a.s3Path.localeCompare(b.s3Path));
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() ?? message;
}

/**
 * Trino functions that the built-in checks' query.sql files and the engine's window SQL use and DuckDB lacks or
 * spells otherwise (`contains`, `count_if`, `row_number` and `coalesce` DuckDB has as Trino does). Written for
 * this server alone, from Trino's documentation, so that the DuckDB engine's own versions are checked against them.
 */
const TRINO_FUNCTIONS = [
  // The scalar at a JSONPath, as varchar; NULL for an object, an array, a missing path or text that is not JSON.
  `CREATE MACRO json_extract_scalar(json_text, json_path) AS
     CASE WHEN NOT json_valid(json_text) THEN NULL
          WHEN json_type(json_text, json_path) IN ('OBJECT', 'ARRAY') THEN NULL
          ELSE json_extract_string(json_text, json_path) END`,
  // The number of elements of an array (DuckDB's own `cardinality` is for maps).
  `CREATE OR REPLACE MACRO cardinality(items) AS array_length(items)`,
];

/** The CloudTrail table's columns as the DDL declares them. */
const CLOUDTRAIL_DDL_COLUMNS = parseHiveColumns(CLOUDTRAIL_TABLE_COLUMNS);
/** Name and DuckDB type of every column of the table: the DDL's, then Athena's partition and path columns. */
const TABLE_TYPES: readonly (readonly [string, string])[] = [
  ...CLOUDTRAIL_DDL_COLUMNS.map((c) => [c.name, duckDbTypeOf(c.type)] as const),
  ...['account', 'region', 'timestamp', '$path'].map((name) => [name, 'VARCHAR'] as const),
];

/**
 * Creates the CloudTrail table and fills it from the tree's delivery files, each read the JsonSerDe way.
 * Returns the objects that cannot be read (`s3://…` path → why): a query that reads one fails.
 */
async function loadCloudTrailTable(db: DuckDBConnection, table: string, files: readonly SourceFile[]): Promise<Map<string, string>> {
  await db.run(`CREATE TABLE ${table} (${TABLE_TYPES.map(([name, type]) => `"${name}" ${type}`).join(', ')})`);
  const corrupt = new Map<string, string>();
  // The rows go to a file in the table's shape and names, so DuckDB only has to store them.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'trailwarden-athena-server-'));
  try {
    const rowsFile = path.join(dir, 'rows.ndjson');
    const out = await open(rowsFile, 'w');
    let rowCount = 0;
    try {
      for (const file of files) {
        let rows: Record<string, unknown>[];
        try {
          rows = readDeliveryFile(await readFile(file.path), file.path.endsWith('.gz'), CLOUDTRAIL_DDL_COLUMNS);
        } catch (error) {
          corrupt.set(file.s3Path, firstLine(error));
          continue;
        }
        const partition = { account: file.account, region: file.region, timestamp: file.day, $path: file.s3Path };
        if (rows.length > 0) await out.write(rows.map((row) => `${JSON.stringify({ ...row, ...partition })}\n`).join(''));
        rowCount += rows.length;
      }
    } finally {
      await out.close();
    }
    const columns = TABLE_TYPES.map(([name, type]) => `'${name}': '${type}'`).join(', ');
    if (rowCount > 0)
      await db.run(`INSERT INTO ${table} SELECT * FROM read_json('${rowsFile.replaceAll("'", "''")}', format = 'newline_delimited', columns = {${columns}})`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return corrupt;
}

export async function startAthenaServer(options: AthenaServerOptions = {}): Promise<AthenaServer> {
  const database = options.database ?? 'default';
  const sourceTable = options.table ?? 'cloudtrail_logs';
  const bucket = options.bucket ?? 'cloudtrail-bucket';
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const db: DuckDBConnection = await instance.connect();
  for (const definition of TRINO_FUNCTIONS) await db.run(definition);
  await db.run(`CREATE SCHEMA IF NOT EXISTS "${database}"`);
  await db.run(`SET schema = '${database}'`);

  // ---- the CloudTrail table
  const files = options.logsDir ? await treeFiles(options.logsDir, bucket, options.prefix ?? '') : [];
  const corrupt = await loadCloudTrailTable(db, `"${database}"."${sourceTable}"`, files);
  const sourceObjects = new Map(files.map((f) => [f.s3Path, f.bytes]));

  // ---- state
  const calls: RecordedCall[] = [];
  const executions = new Map<string, ServerExecution>();
  const tokens = new Map<string, string>();
  const behaviours: Behaviour[] = [];
  const throttles: { target: string; count: number; errorType: string }[] = [];
  let lostStarts = 0;
  const ddl: string[] = [];
  const partitions = new Map<string, string>();
  const locations = new Map<string, string>();
  let maxInFlight = 0;
  let queue: Promise<unknown> = Promise.resolve();
  /** DuckDB statements one at a time: the connection is shared. */
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  const tableList = async (): Promise<string[]> =>
    (await db.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE schema_name = '${database}' ORDER BY 1`)).getRowsJS().map((r) => r[0] as string);

  const tableName = /(?:(?:"([^"]+)"|`([^`]+)`|([A-Za-z_][A-Za-z0-9_]*))\s*\.\s*)?(?:"([^"]+)"|`([^`]+)`|([A-Za-z_][A-Za-z0-9_]*))/;
  const parseName = (text: string): string => {
    const m = new RegExp(`^\\s*${tableName.source}`).exec(text);
    if (!m) throw new QueryFailure(`SYNTAX_ERROR: expected a table name at "${text.slice(0, 40)}"`);
    return (m[4] ?? m[5] ?? m[6] ?? '').toLowerCase();
  };

  /** Which objects of the CloudTrail table a query reads, as Athena's partition pruning would decide. */
  const pruned = (analysed: string): SourceFile[] => {
    const lower = analysed.toLowerCase();
    if (!new RegExp(`\\b${sourceTable}\\b`).test(lower)) return [];
    const days = /"timestamp"\s+BETWEEN\s+('(?:[^']|'')*')\s+AND\s+('(?:[^']|'')*')/i.exec(analysed);
    const accounts = /\baccount\s+IN\s*\(([^)]*)\)/i.exec(analysed);
    const regions = /\bregion\s+IN\s*\(([^)]*)\)/i.exec(analysed);
    const excluded = /"\$path"\s+NOT\s+IN\s*\(([^)]*)\)/i.exec(analysed);
    const [from, to] = days ? [unquote(days[1]!), unquote(days[2]!)] : ['', '\uffff'];
    const inAccounts = accounts ? new Set(stringsIn(accounts[1]!)) : undefined;
    const inRegions = regions ? new Set(stringsIn(regions[1]!)) : undefined;
    const out = new Set(excluded ? stringsIn(excluded[1]!) : []);
    return files.filter(
      (f) => f.day >= from && f.day <= to && (!inAccounts || inAccounts.has(f.account)) && (!inRegions || inRegions.has(f.region)) && !out.has(f.s3Path),
    );
  };

  const ctasRows = async (sql: string): Promise<number> => {
    let rows = 0;
    for (const [table] of locations) {
      if (new RegExp(`\\b${table}\\b`).test(sql.toLowerCase())) {
        const count = (await db.runAndReadAll(`SELECT count(*) FROM "${database}"."${table}"`)).getRowsJS()[0]?.[0];
        rows += Number(count ?? 0);
      }
    }
    return rows;
  };

  const toDuckDb = (sql: string): string => mapOutsideStrings(sql, (code) => code.replace(/`([^`]*)`/g, '"$1"'));

  const bind = (values: Literal[]): { values: DuckDBValue[]; types: DuckDBType[] } => ({
    values: values.map((v) => (typeof v === 'string' ? v : listValue(v))),
    types: values.map((v) => (typeof v === 'string' ? VARCHAR : LIST(VARCHAR))),
  });

  const select = async (sql: string, values: Literal[]): Promise<ResultSet> => {
    const bound = bind(values);
    const reader = await db.runAndReadAll(toDuckDb(sql), bound.values, bound.types);
    const types = reader.columnTypes().map((t) => ATHENA_TYPES[String(t)] ?? (String(t).startsWith('DECIMAL') ? 'decimal' : 'varchar'));
    return { columns: reader.columnNames().map((name, i) => ({ name, type: types[i]! })), rows: reader.getRowsJS().map((row) => row.map(textOf)) };
  };

  /** Runs one statement; returns its result (DML SELECT), or nothing. Throws QueryFailure for a FAILED query. */
  const execute = async (execution: ServerExecution, values: Literal[]): Promise<ResultSet | undefined> => {
    const sql = stripLeadingComments(execution.sql);
    const analysed = inlineParameters(execution.sql, execution.parameters);
    const read = pruned(analysed);
    const bad = read.find((f) => corrupt.has(f.s3Path));
    if (bad) {
      const why = corrupt.get(bad.s3Path)!;
      throw new QueryFailure(`HIVE_CURSOR_ERROR: ${why}${why.includes(bad.s3Path) ? '' : ` (Path: ${bad.s3Path})`}`);
    }
    execution.scannedBytes = read.reduce((sum, f) => sum + f.bytes, 0) + 100 * (await ctasRows(analysed));

    let m: RegExpExecArray | null;
    if ((m = /^CREATE\s+TABLE\s+/i.exec(sql)) && /\)\s*AS\s/i.test(sql) && /^CREATE\s+TABLE\s+\S+\s+WITH\s*\(/i.test(sql)) {
      const name = parseName(sql.slice(m[0].length));
      const props = /\s+WITH\s*\(((?:[^()']|'(?:[^']|'')*')*)\)\s*AS\s+/i.exec(sql);
      if (!props) throw new QueryFailure('SYNTAX_ERROR: CTAS without WITH (...) properties');
      const location = /external_location\s*=\s*('(?:[^']|'')*')/i.exec(props[1]!);
      if (!location) throw new QueryFailure('SYNTAX_ERROR: this server wants an explicit external_location');
      const target = unquote(location[1]!);
      const loc = /^s3:\/\/([^/]+)\/(.*)$/.exec(target);
      if (!loc) throw new QueryFailure(`INVALID_TABLE_PROPERTY: external_location ${target} is not an S3 location`);
      if (options.s3) {
        const existing = await options.s3.send(new ListObjectsV2Command({ Bucket: loc[1]!, Prefix: loc[2]!, MaxKeys: 1 }));
        if ((existing.Contents ?? []).length > 0)
          throw new QueryFailure(`HIVE_PATH_ALREADY_EXISTS: Target directory for table '${database}.${name}' already exists: ${target}`);
      }
      const body = sql.slice(props.index + props[0].length);
      const bound = bind(values);
      await db.run(`CREATE TABLE "${database}"."${name}" AS ${toDuckDb(body)}`, bound.values, bound.types);
      locations.set(name, target);
      if (options.s3)
        await options.s3.send(new PutObjectCommand({ Bucket: loc[1]!, Key: `${loc[2]}${execution.id}_00000_placeholder`, Body: 'PAR1 placeholder' }));
      return undefined;
    }
    if ((m = /^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?/i.exec(sql))) {
      const name = parseName(sql.slice(m[0].length));
      if (!m[1] && !(await tableList()).includes(name)) throw new QueryFailure(`Table not found ${name}`);
      await db.run(`DROP TABLE IF EXISTS "${database}"."${name}"`);
      locations.delete(name); // Athena drops metadata only: the objects stay, as here
      return undefined;
    }
    if ((m = /^SHOW\s+TABLES(?:\s+IN\s+\S+)?(?:\s+('(?:[^']|'')*'))?\s*;?\s*$/i.exec(sql))) {
      const pattern = m[1] ? unquote(m[1]) : '*';
      const regex = new RegExp(
        `^(?:${pattern
          .split('|')
          .map((p) => p.replace(/[.+?^${}()[\]\\]/g, '\\$&').replaceAll('*', '.*'))
          .join('|')})$`,
        'i',
      );
      return { columns: [{ name: 'tab_name', type: 'string' }], rows: (await tableList()).filter((t) => regex.test(t)).map((t) => [t]) };
    }
    if (/^CREATE\s+EXTERNAL\s+TABLE\s/i.test(sql)) {
      for (const required of [/ROW\s+FORMAT\s+SERDE/i, /STORED\s+AS\s+INPUTFORMAT/i, /\bLOCATION\s+'s3:\/\//i, /PARTITIONED\s+BY/i]) {
        if (!required.test(sql)) throw new QueryFailure(`FAILED: ParseException: the DDL lacks ${required.source}`);
      }
      ddl.push(execution.sql);
      return undefined;
    }
    if ((m = /^ALTER\s+TABLE\s+\S+\s+ADD\s+(IF\s+NOT\s+EXISTS\s+)?/i.exec(sql))) {
      ddl.push(execution.sql);
      const specs = [...sql.matchAll(/PARTITION\s*\(([^)]*)\)\s*LOCATION\s*('(?:[^']|'')*')/gi)];
      if (specs.length === 0) throw new QueryFailure('FAILED: ParseException: no PARTITION (...) LOCATION ... found');
      for (const spec of specs) {
        const key = [...spec[1]!.matchAll(/`?"?([a-z_]+)"?`?\s*=\s*('(?:[^']|'')*')/gi)].map((p) => `${p[1]}=${unquote(p[2]!)}`).join('/');
        if (partitions.has(key) && !m[1]) throw new QueryFailure(`AlreadyExistsException: Partition already exists: ${key}`);
        partitions.set(key, unquote(spec[2]!));
      }
      return undefined;
    }
    if (/^(SELECT|WITH)\b/i.test(sql)) return select(execution.sql, values);
    throw new QueryFailure(`this test server does not support: ${sql.slice(0, 60)}`);
  };

  const startQuery = async (input: Record<string, unknown>): Promise<{ QueryExecutionId: string }> => {
    const sql = typeof input.QueryString === 'string' ? input.QueryString : '';
    if (sql.length === 0) throw new WireError('InvalidRequestException', 'QueryString is required');
    if (Buffer.byteLength(sql) > 262_144) throw new WireError('InvalidRequestException', 'QueryString exceeds the maximum length of 262144 bytes');
    const token = input.ClientRequestToken as string | undefined;
    if (token !== undefined && (token.length < 32 || token.length > 128))
      throw new WireError('InvalidRequestException', 'ClientRequestToken must be 32-128 characters');
    if (token && tokens.has(token)) return { QueryExecutionId: tokens.get(token)! };
    const parameters = (input.ExecutionParameters as string[] | undefined) ?? [];
    const values: Literal[] = [];
    for (const text of parameters) {
      const value = parseLiteral(text);
      if (value === undefined) throw new WireError('InvalidRequestException', `ExecutionParameters: not a single literal: ${text}`);
      values.push(value);
    }
    const behaviour = behaviours.find((b) => b.match.test(sql) && (b.times === undefined || b.times > 0));
    if (behaviour?.times !== undefined) behaviour.times -= 1;
    const body = stripLeadingComments(sql);
    const execution: ServerExecution = {
      id: randomUUID(),
      sql,
      parameters,
      token,
      workGroup: input.WorkGroup as string | undefined,
      outputLocation: (input.ResultConfiguration as { OutputLocation?: string } | undefined)?.OutputLocation,
      resultReuse: input.ResultReuseConfiguration,
      statementType: /^(SELECT|WITH|CREATE\s+TABLE\s+\S+\s+WITH|INSERT)\b/i.test(body) && !/^CREATE\s+EXTERNAL/i.test(body) ? 'DML' : 'DDL',
      pathsRead: pruned(inlineParameters(sql, parameters)).map((f) => f.s3Path),
      polls: 0,
      state: 'QUEUED',
      reported: false,
      stopped: false,
      scannedBytes: 0,
      behaviour,
    };
    executions.set(execution.id, execution);
    if (token) tokens.set(token, execution.id);
    maxInFlight = Math.max(maxInFlight, [...executions.values()].filter((e) => !e.reported).length);
    if (behaviour?.fail === undefined && behaviour?.cancel === undefined) {
      try {
        execution.result = await serial(() => execute(execution, values));
        execution.state = 'SUCCEEDED';
      } catch (error) {
        execution.state = 'FAILED';
        execution.reason = error instanceof QueryFailure ? error.message : firstLine(error);
      }
    } else {
      execution.state = behaviour.fail !== undefined ? 'FAILED' : 'CANCELLED';
      execution.reason = behaviour.fail ?? behaviour.cancel;
    }
    return { QueryExecutionId: execution.id };
  };

  const find = (input: Record<string, unknown>): ServerExecution => {
    const execution = executions.get(String(input.QueryExecutionId));
    if (!execution) throw new WireError('InvalidRequestException', `QueryExecution ${String(input.QueryExecutionId)} was not found`);
    return execution;
  };

  /** The state a poll sees: QUEUED, RUNNING for a while (or forever), then the outcome. */
  const observe = (execution: ServerExecution): State => {
    if (execution.stopped) return 'CANCELLED';
    const b = execution.behaviour;
    const poll = execution.polls;
    execution.polls += 1;
    if (poll < (b?.queuedPolls ?? 0)) return 'QUEUED';
    if (b?.hang || poll < (b?.queuedPolls ?? 0) + (b?.runningPolls ?? 0)) return 'RUNNING';
    execution.reported = true;
    return execution.state;
  };

  const getExecution = (input: Record<string, unknown>) => {
    const execution = find(input);
    const state = observe(execution);
    const final = state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED';
    return {
      QueryExecution: {
        QueryExecutionId: execution.id,
        Query: execution.sql,
        StatementType: execution.statementType,
        WorkGroup: execution.workGroup,
        ExecutionParameters: execution.parameters.length > 0 ? execution.parameters : undefined,
        ResultConfiguration: execution.outputLocation ? { OutputLocation: `${execution.outputLocation}${execution.id}.csv` } : undefined,
        Status: {
          State: state,
          StateChangeReason: final && state !== 'SUCCEEDED' ? (execution.stopped ? 'Query cancelled by user' : execution.reason) : undefined,
          AthenaError: final && state === 'FAILED' ? { ErrorCategory: 2, ErrorType: 1100, Retryable: false, ErrorMessage: execution.reason } : undefined,
          SubmissionDateTime: Date.now() / 1000,
          CompletionDateTime: final ? Date.now() / 1000 : undefined,
        },
        Statistics: { DataScannedInBytes: final && state === 'SUCCEEDED' ? execution.scannedBytes : 0, EngineExecutionTimeInMillis: 1 },
      },
    };
  };

  const getResults = (input: Record<string, unknown>) => {
    const execution = find(input);
    if (!execution.reported || execution.state !== 'SUCCEEDED') {
      throw new WireError(
        'InvalidRequestException',
        `Query has not yet finished. Current state: ${execution.stopped ? 'CANCELLED' : execution.reported ? execution.state : 'RUNNING'}`,
      );
    }
    const max = Number(input.MaxResults ?? 1000);
    if (max < 1 || max > 1000) throw new WireError('InvalidRequestException', 'MaxResults must be between 1 and 1000');
    const size = Math.min(max, server.pageSize);
    const result = execution.result ?? { columns: [], rows: [] };
    // A SELECT's result starts with a header row (the column names); DDL output does not.
    const all = execution.statementType === 'DML' && execution.result ? [result.columns.map((c) => c.name), ...result.rows] : result.rows;
    const offset = input.NextToken ? Number(input.NextToken) : 0;
    const page = all.slice(offset, offset + size);
    return {
      ResultSet: {
        Rows: page.map((row) => ({ Data: row.map((value) => (value === null ? {} : { VarCharValue: value })) })),
        ResultSetMetadata: {
          ColumnInfo: result.columns.map((c) => ({
            CatalogName: 'hive',
            SchemaName: '',
            TableName: '',
            Name: c.name,
            Label: c.name,
            Type: c.type,
            Nullable: 'UNKNOWN',
            CaseSensitive: c.type === 'varchar',
          })),
        },
      },
      NextToken: offset + size < all.length ? String(offset + size) : undefined,
      UpdateCount: 0,
    };
  };

  const stopQuery = (input: Record<string, unknown>) => {
    const execution = find(input);
    if (!execution.reported) {
      execution.stopped = true;
      execution.reported = true;
    }
    return {};
  };

  const handlers: Record<string, (input: Record<string, unknown>) => unknown> = {
    StartQueryExecution: startQuery,
    GetQueryExecution: getExecution,
    GetQueryResults: getResults,
    StopQueryExecution: stopQuery,
  };

  const httpServer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const target = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonAthena\./, '');
        let input: Record<string, unknown> = {};
        const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), ...headers });
          res.end(JSON.stringify(body));
        };
        try {
          input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
          const throttle = throttles.find((t) => t.target === target && t.count > 0);
          if (throttle) {
            throttle.count -= 1;
            calls.push({ target, input, outcome: 'throttled' });
            const body = {
              __type: throttle.errorType,
              message: 'Rate exceeded',
              ...(throttle.errorType === 'TooManyRequestsException' ? { Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED' } : {}),
            };
            answer(400, body, { 'x-amzn-errortype': throttle.errorType });
            return;
          }
          const handler = handlers[target];
          if (!handler) throw new WireError('UnknownOperationException', `this test server does not implement ${target}`);
          const result = await handler(input);
          if (target === 'StartQueryExecution' && lostStarts > 0) {
            lostStarts -= 1;
            calls.push({ target, input, outcome: 'lost' });
            answer(500, { __type: 'InternalServerException', message: 'the answer got lost (test)' }, { 'x-amzn-errortype': 'InternalServerException' });
            return;
          }
          calls.push({ target, input, outcome: 'answered' });
          answer(200, result ?? {});
        } catch (error) {
          calls.push({ target, input, outcome: 'rejected' });
          const wire = error instanceof WireError ? error : new WireError('InternalServerException', firstLine(error), 500);
          answer(wire.status, { __type: wire.type, message: wire.message, ...wire.extra }, { 'x-amzn-errortype': wire.type });
        }
      })();
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;

  const server: AthenaServer = {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    executions,
    corruptPaths: [...corrupt.keys()],
    sourceObjects,
    ddl,
    partitions,
    get maxInFlight() {
      return maxInFlight;
    },
    resetMaxInFlight() {
      maxInFlight = [...executions.values()].filter((e) => !e.reported).length;
    },
    pageSize: 1000,
    behave(behaviour) {
      behaviours.push(behaviour);
    },
    throttle(target, count, errorType = 'ThrottlingException') {
      throttles.push({ target, count, errorType });
    },
    loseStartAnswers(count) {
      lostStarts += count;
    },
    tables: () => serial(tableList),
    async seedTable(name, location) {
      await serial(() => db.run(`CREATE TABLE "${database}"."${name}" (eventid VARCHAR)`));
      locations.set(name, location);
      const loc = /^s3:\/\/([^/]+)\/(.*)$/.exec(location);
      if (options.s3 && loc) await options.s3.send(new PutObjectCommand({ Bucket: loc[1]!, Key: `${loc[2]}seed_00000_placeholder`, Body: 'PAR1 placeholder' }));
    },
    async stop() {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      db.closeSync();
      instance.closeSync();
    },
  };
  return server;
}
