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
 * - SQL as strict as Athena's (trino-sql.ts): `?` only in WHERE, no backquotes in queries, no DuckDB-only syntax or
 *   functions, no timestamp compared with varchar; Trino functions by its own translation, never the DuckDB engine's.
 * - Partition pruning: which objects a query reads is decided from its `"timestamp" BETWEEN`, `account IN`,
 *   `region IN`, `"$path" NOT IN` and `"$path" BETWEEN` predicates (parameters bound); no such predicate means every
 *   object. With partition projection in the table's properties, only the enum accounts and regions and the days in
 *   the projection's range exist: other objects are silently not read, as on Athena.
 *   A query that reads a corrupt object FAILS with HIVE_CURSOR_ERROR naming its s3 path, as Athena does (or, per
 *   `readErrorStyle`, HIVE_CANNOT_OPEN_SPLIT naming it, or the JSON SerDe's message naming none).
 * - A catalog: CREATE DATABASE, CREATE EXTERNAL TABLE [IF NOT EXISTS] (an existing table stays as it was), ALTER
 *   TABLE … SET TBLPROPERTIES, GetTableMetadata (the table's properties, `location` for CTAS tables); a query in a
 *   database that does not exist fails.
 * - Workgroups (GetWorkGroup): one that enforces its configuration overrides the query's result location and fails a
 *   CTAS that names an external_location; a CTAS without one is written to `<result location>tables/<query id>/`.
 * - Idempotency: a ClientRequestToken used again with another query string, parameters, workgroup or database is
 *   refused; each ExecutionParameter must be 1–1,024 characters. Result reuse keyed on the query string, database
 *   and workgroup (what AWS documents), with ReusedPreviousResult and nothing scanned.
 *   DataScannedInBytes is the size of the objects read (gzip JSON is scanned whole), or 100 bytes per row
 *   for tables created by CTAS (stand-in for a Parquet column scan).
 * - CTAS (`CREATE TABLE … WITH (…, external_location = '…') AS SELECT`), DROP TABLE, SHOW TABLES; CREATE
 *   EXTERNAL TABLE and ALTER TABLE … ADD PARTITION are recorded (for `setup athena --apply`), not executed.
 *   A CTAS writes a placeholder object at its external_location (so deleting the prefix is observable) and
 *   fails when the location is not empty, like Athena.
 * - ExecutionParameters must each be one literal (`'…'`, `ARRAY['…', …]`, `CAST(ARRAY[] AS ARRAY(VARCHAR))`);
 *   anything else is rejected: that keeps the client honest about binding, never concatenating.
 * - Behaviours on demand: N polls QUEUED/RUNNING, never finishing, FAILED (retryable or not) or CANCELLED with a reason,
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
import { checkTrinoSql, toDuckDbSql, TRINO_MACROS, trinoError } from './trino-sql.js';

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
  /** The CloudTrail table's properties (e.g. partition projection); default none: every object of the tree is in it. */
  readonly tableProperties?: Readonly<Record<string, string>>;
  /**
   * The CloudTrail table as the classic partitioned layout: only day folders registered with ALTER TABLE … ADD
   * PARTITION are read (silently, as on Athena), and SHOW PARTITIONS lists them.
   */
  readonly partitionedTable?: boolean;
  /** Workgroups by name (default: `primary`, not enforced, without a result location). */
  readonly workgroups?: Readonly<Record<string, { readonly enforced?: boolean; readonly outputLocation?: string }>>;
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
  /** With `fail`: AthenaError.Retryable (a resubmitted query might succeed, e.g. S3 SlowDown). */
  readonly retryable?: boolean;
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
  readonly database?: string;
  /** The result came from an earlier execution (result reuse): nothing scanned. */
  reused: boolean;
  readonly statementType: 'DML' | 'DDL';
  /** Objects of the CloudTrail table the query read (after pruning). */
  readonly pathsRead: readonly string[];
  readonly startedAt: number;
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
  /** How a query that reads a corrupt object fails: HIVE_CURSOR_ERROR naming it (default), HIVE_CANNOT_OPEN_SPLIT naming it, or the JSON SerDe's message naming none. */
  readErrorStyle: 'cursor' | 'split' | 'serde-unnamed';
  /** Properties of a table of the catalog (`database.table`), as GetTableMetadata answers them. */
  tableProperties(qualifiedName: string): Record<string, string> | undefined;
  /** Replaces a table's properties, as an earlier setup (or someone else) left them. */
  setTableProperties(qualifiedName: string, properties: Readonly<Record<string, string>>): void;
  /** The next `count` calls of `target` (e.g. 'StartQueryExecution') are answered with a throttling error. */
  throttle(target: string, count: number, errorType?: 'ThrottlingException' | 'TooManyRequestsException'): void;
  /** Ends every throttling still pending. */
  unthrottle(): void;
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
  for (const definition of TRINO_MACROS) await db.run(definition);
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
  /** Databases, and tables (`database.table`) with their properties. */
  const databases = new Set([database, 'default']);
  const catalog = new Map<string, Record<string, string>>([[`${database}.${sourceTable}`, { ...(options.tableProperties ?? {}) }]]);
  const workgroups = options.workgroups ?? { primary: {} };
  /** What each token started, to refuse a token used again for something else. */
  const tokenInputs = new Map<string, string>();
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
    const range = /"\$path"\s+BETWEEN\s+('(?:[^']|'')*')\s+AND\s+('(?:[^']|'')*')/i.exec(analysed);
    const [pathFrom, pathTo] = range ? [unquote(range[1]!), unquote(range[2]!)] : ['', '\uffff'];
    // Partition projection: only the listed values and days exist; anything else is silently not read.
    const props = catalog.get(`${database}.${sourceTable}`) ?? {};
    const projected = props['projection.enabled'] === 'true';
    const enumOf = (column: string) =>
      projected && props[`projection.${column}.type`] === 'enum' ? new Set((props[`projection.${column}.values`] ?? '').split(',')) : undefined;
    const [projectedAccounts, projectedRegions] = [enumOf('account'), enumOf('region')];
    const firstDay = projected ? (/^(\d{4}\/\d{2}\/\d{2})/.exec(props['projection.timestamp.range'] ?? '')?.[1] ?? '') : '';
    return files.filter(
      (f) =>
        f.day >= from &&
        f.day <= to &&
        f.day >= firstDay &&
        (!inAccounts || inAccounts.has(f.account)) &&
        (!inRegions || inRegions.has(f.region)) &&
        (!projectedAccounts || projectedAccounts.has(f.account)) &&
        (!projectedRegions || projectedRegions.has(f.region)) &&
        (!options.partitionedTable || partitions.has(`account=${f.account}/region=${f.region}/timestamp=${f.day}`)) &&
        f.s3Path >= pathFrom &&
        f.s3Path <= pathTo &&
        !out.has(f.s3Path),
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

  /** `db`.`table` (or `table` in the query's database) → `db.table`, lower case. */
  const qualified = (text: string, current: string | undefined): string => {
    const m = new RegExp(`^\\s*${tableName.source}`).exec(text);
    if (!m) throw new QueryFailure(`SYNTAX_ERROR: expected a table name at "${text.slice(0, 40)}"`);
    const db = m[1] ?? m[2] ?? m[3] ?? current ?? database;
    return `${db}.${m[4] ?? m[5] ?? m[6] ?? ''}`.toLowerCase();
  };

  /** The `'key'='value'` pairs of a TBLPROPERTIES (…) list. */
  const tblProperties = (sql: string): Record<string, string> => {
    const list = /TBLPROPERTIES\s*\(((?:[^()']|'(?:[^']|'')*')*)\)/i.exec(sql)?.[1] ?? '';
    return Object.fromEntries([...list.matchAll(/('(?:[^']|'')*')\s*=\s*('(?:[^']|'')*')/g)].map((p) => [unquote(p[1]!), unquote(p[2]!)]));
  };

  const bind = (values: Literal[]): { values: DuckDBValue[]; types: DuckDBType[] } => ({
    values: values.map((v) => (typeof v === 'string' ? v : listValue(v))),
    types: values.map((v) => (typeof v === 'string' ? VARCHAR : LIST(VARCHAR))),
  });

  /** A query's text for DuckDB, after refusing what Athena refuses. */
  const strict = (sql: string, values: Literal[]): string => {
    try {
      checkTrinoSql(sql, values.length);
    } catch (error) {
      throw new QueryFailure((error as Error).message);
    }
    return toDuckDbSql(
      sql,
      values.map((v) => (typeof v === 'string' ? 'string' : 'array')),
    );
  };

  const run = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof QueryFailure) throw error;
      throw new QueryFailure(trinoError(firstLine(error)));
    }
  };

  const select = async (sql: string, values: Literal[], readObjects: () => Promise<void>): Promise<ResultSet> => {
    const bound = bind(values);
    const text = strict(sql, values);
    await readObjects();
    const reader = await run(() => db.runAndReadAll(text, bound.values, bound.types));
    const types = reader.columnTypes().map((t) => ATHENA_TYPES[String(t)] ?? (String(t).startsWith('DECIMAL') ? 'decimal' : 'varchar'));
    return { columns: reader.columnNames().map((name, i) => ({ name, type: types[i]! })), rows: reader.getRowsJS().map((row) => row.map(textOf)) };
  };

  /** Runs one statement; returns its result (DML SELECT), or nothing. Throws QueryFailure for a FAILED query. */
  const execute = async (execution: ServerExecution, values: Literal[]): Promise<ResultSet | undefined> => {
    const sql = stripLeadingComments(execution.sql);
    const analysed = inlineParameters(execution.sql, execution.parameters);
    if (execution.database !== undefined && !databases.has(execution.database) && !/^CREATE\s+DATABASE\s/i.test(sql))
      throw new QueryFailure(`SCHEMA_NOT_FOUND: line 1:1: Schema '${execution.database}' does not exist`);
    // Only queries read the table's objects (DDL reads none), and only once Athena has accepted their SQL.
    const readObjects = async (): Promise<void> => {
      const read = pruned(analysed);
      const bad = read.find((f) => corrupt.has(f.s3Path));
      if (bad) failOn(bad);
      execution.scannedBytes = read.reduce((sum, f) => sum + f.bytes, 0) + 100 * (await ctasRows(analysed));
    };
    const failOn = (bad: SourceFile): never => {
      const why = corrupt.get(bad.s3Path)!;
      if (server.readErrorStyle === 'serde-unnamed')
        throw new QueryFailure(
          "HIVE_CURSOR_ERROR: Row is not a valid JSON Object - JSONException: A JSONObject text must end with '}' at 2 [character 3 line 1]",
        );
      if (server.readErrorStyle === 'split')
        throw new QueryFailure(`HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split ${bad.s3Path} (offset=0, length=${sourceObjects.get(bad.s3Path)}): ${why}`);
      throw new QueryFailure(`HIVE_CURSOR_ERROR: ${why}${why.includes(bad.s3Path) ? '' : ` (Path: ${bad.s3Path})`}`);
    };

    let m: RegExpExecArray | null;
    if ((m = /^CREATE\s+TABLE\s+/i.exec(sql)) && /\)\s*AS\s/i.test(sql) && /^CREATE\s+TABLE\s+\S+\s+WITH\s*\(/i.test(sql)) {
      const name = parseName(sql.slice(m[0].length));
      const props = /\s+WITH\s*\(((?:[^()']|'(?:[^']|'')*')*)\)\s*AS\s+/i.exec(sql);
      if (!props) throw new QueryFailure('SYNTAX_ERROR: CTAS without WITH (...) properties');
      const location = /external_location\s*=\s*('(?:[^']|'')*')/i.exec(props[1]!);
      const group = workgroups[execution.workGroup ?? 'primary'];
      // Athena user guide (workgroup troubleshooting): in a workgroup that enforces its result location, a CTAS that
      // specifies an external_location fails. Without one, the table goes to `<result location>tables/<query id>/`.
      if (location && group?.enforced)
        throw new QueryFailure(
          `INVALID_TABLE_PROPERTY: external_location is not allowed: workgroup ${execution.workGroup} enforces its query results location (test server)`,
        );
      if (!location && !execution.outputLocation) throw new QueryFailure('INVALID_TABLE_PROPERTY: no external_location and no query result location');
      const target = location ? unquote(location[1]!) : `${execution.outputLocation}tables/${execution.id}/`;
      const loc = /^s3:\/\/([^/]+)\/(.*)$/.exec(target);
      if (!loc) throw new QueryFailure(`INVALID_TABLE_PROPERTY: external_location ${target} is not an S3 location`);
      if (options.s3) {
        const existing = await options.s3.send(new ListObjectsV2Command({ Bucket: loc[1]!, Prefix: loc[2]!, MaxKeys: 1 }));
        if ((existing.Contents ?? []).length > 0)
          throw new QueryFailure(`HIVE_PATH_ALREADY_EXISTS: Target directory for table '${database}.${name}' already exists: ${target}`);
      }
      const body = sql.slice(props.index + props[0].length);
      const bound = bind(values);
      const text = strict(body, values);
      await readObjects();
      await run(() => db.run(`CREATE TABLE "${database}"."${name}" AS ${text}`, bound.values, bound.types));
      locations.set(name, target);
      catalog.set(`${database}.${name}`, { location: target, 'parquet.compression': 'SNAPPY' });
      if (options.s3)
        await options.s3.send(new PutObjectCommand({ Bucket: loc[1]!, Key: `${loc[2]}${execution.id}_00000_placeholder`, Body: 'PAR1 placeholder' }));
      return undefined;
    }
    if ((m = /^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?/i.exec(sql))) {
      const name = parseName(sql.slice(m[0].length));
      if (!m[1] && !(await tableList()).includes(name)) throw new QueryFailure(`Table not found ${name}`);
      await db.run(`DROP TABLE IF EXISTS "${database}"."${name}"`);
      locations.delete(name); // Athena drops metadata only: the objects stay, as here
      catalog.delete(`${database}.${name}`);
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
    if (/^SHOW\s+PARTITIONS\s/i.test(sql)) {
      // Hive escapes '/' in partition values: timestamp=2026%2F11%2F20.
      const rows = [...partitions.keys()].map((spec) => [
        spec.replace(/(timestamp=)(.*)$/, (_m, key: string, value: string) => `${key}${value.replaceAll('/', '%2F')}`),
      ]);
      return { columns: [{ name: 'partition', type: 'string' }], rows };
    }
    if ((m = /^CREATE\s+DATABASE\s+(IF\s+NOT\s+EXISTS\s+)?/i.exec(sql))) {
      const name = parseName(sql.slice(m[0].length));
      if (databases.has(name) && !m[1]) throw new QueryFailure(`FAILED: AlreadyExistsException: Database ${name} already exists`);
      databases.add(name);
      ddl.push(execution.sql);
      return undefined;
    }
    if ((m = /^CREATE\s+EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?/i.exec(sql))) {
      for (const required of [/ROW\s+FORMAT\s+SERDE/i, /STORED\s+AS\s+INPUTFORMAT/i, /\bLOCATION\s+'s3:\/\//i, /PARTITIONED\s+BY/i]) {
        if (!required.test(sql)) throw new QueryFailure(`FAILED: ParseException: the DDL lacks ${required.source}`);
      }
      const key = qualified(sql.slice(m[0].length), execution.database);
      if (!databases.has(key.split('.')[0]!)) throw new QueryFailure(`FAILED: SemanticException [Error 10072]: Database does not exist: ${key.split('.')[0]}`);
      ddl.push(execution.sql);
      if (catalog.has(key)) {
        // IF NOT EXISTS leaves an existing table exactly as it was: its properties too.
        if (!m[1]) throw new QueryFailure(`FAILED: AlreadyExistsException: Table ${key} already exists`);
        return undefined;
      }
      catalog.set(key, tblProperties(sql));
      return undefined;
    }
    if ((m = /^ALTER\s+TABLE\s+(\S+)\s+SET\s+TBLPROPERTIES\s*/i.exec(sql))) {
      const key = qualified(m[1]!, execution.database);
      const table = catalog.get(key);
      if (!table) throw new QueryFailure(`FAILED: SemanticException [Error 10001]: Table not found ${key}`);
      Object.assign(table, tblProperties(sql));
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
    if (/^(SELECT|WITH)\b/i.test(sql)) return select(execution.sql, values, readObjects);
    throw new QueryFailure(`this test server does not support: ${sql.slice(0, 60)}`);
  };

  const startQuery = async (input: Record<string, unknown>): Promise<{ QueryExecutionId: string }> => {
    const sql = typeof input.QueryString === 'string' ? input.QueryString : '';
    if (sql.length === 0) throw new WireError('InvalidRequestException', 'QueryString is required');
    if (Buffer.byteLength(sql) > 262_144) throw new WireError('InvalidRequestException', 'QueryString exceeds the maximum length of 262144 bytes');
    const token = input.ClientRequestToken as string | undefined;
    if (token !== undefined && (token.length < 32 || token.length > 128))
      throw new WireError('InvalidRequestException', 'ClientRequestToken must be 32-128 characters');
    const workGroup = (input.WorkGroup as string | undefined) ?? 'primary';
    const contextDatabase = (input.QueryExecutionContext as { Database?: string } | undefined)?.Database;
    const parameters = (input.ExecutionParameters as string[] | undefined) ?? [];
    // The token stands for this exact request: used again for another one, Athena returns an error (API reference).
    const fingerprint = JSON.stringify([sql, parameters, workGroup, contextDatabase ?? null]);
    if (token && tokens.has(token)) {
      if (tokenInputs.get(token) !== fingerprint)
        throw new WireError('InvalidRequestException', 'Idempotent parameters do not match: the ClientRequestToken was used for another request');
      return { QueryExecutionId: tokens.get(token)! };
    }
    const group = workgroups[workGroup];
    if (!group) throw new WireError('InvalidRequestException', `WorkGroup ${workGroup} is not found.`);
    if (input.ExecutionParameters !== undefined && parameters.length === 0)
      throw new WireError('InvalidRequestException', 'ExecutionParameters: at least one item when given');
    const tooLong = parameters.find((p) => p.length < 1 || p.length > 1024);
    if (tooLong !== undefined)
      throw new WireError('InvalidRequestException', `ExecutionParameters: each member must be 1-1024 characters long, one is ${tooLong.length}`);
    const clientLocation = (input.ResultConfiguration as { OutputLocation?: string } | undefined)?.OutputLocation;
    const outputLocation = group.enforced ? group.outputLocation : (clientLocation ?? group.outputLocation);
    if (!outputLocation)
      throw new WireError(
        'InvalidRequestException',
        'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.',
      );
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
      workGroup,
      outputLocation: outputLocation.endsWith('/') ? outputLocation : `${outputLocation}/`,
      resultReuse: input.ResultReuseConfiguration,
      database: contextDatabase,
      reused: false,
      statementType: /^(SELECT|WITH|CREATE\s+TABLE\s+\S+\s+WITH|INSERT)\b/i.test(body) && !/^CREATE\s+EXTERNAL/i.test(body) ? 'DML' : 'DDL',
      pathsRead: pruned(inlineParameters(sql, parameters)).map((f) => f.s3Path),
      startedAt: Date.now(),
      polls: 0,
      state: 'QUEUED',
      reported: false,
      stopped: false,
      scannedBytes: 0,
      behaviour,
    };
    executions.set(execution.id, execution);
    if (token) {
      tokens.set(token, execution.id);
      tokenInputs.set(token, fingerprint);
    }
    // Result reuse, on the conditions AWS documents: the same query string, database and workgroup, not too old.
    // Parameters are not among them: a query reused with other parameters answers the earlier window.
    const reuse = (input.ResultReuseConfiguration as { ResultReuseByAgeConfiguration?: { Enabled?: boolean; MaxAgeInMinutes?: number } } | undefined)
      ?.ResultReuseByAgeConfiguration;
    const earlier = reuse?.Enabled
      ? [...executions.values()].find(
          (e) =>
            e !== execution &&
            e.state === 'SUCCEEDED' &&
            !e.reused &&
            e.sql === sql &&
            e.database === contextDatabase &&
            e.workGroup === workGroup &&
            Date.now() - e.startedAt <= (reuse.MaxAgeInMinutes ?? 60) * 60_000,
        )
      : undefined;
    maxInFlight = Math.max(maxInFlight, [...executions.values()].filter((e) => !e.reported).length);
    if (earlier && behaviour === undefined) {
      execution.result = earlier.result;
      execution.reused = true;
      execution.state = 'SUCCEEDED';
    } else if (behaviour?.fail === undefined && behaviour?.cancel === undefined) {
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
          AthenaError:
            final && state === 'FAILED'
              ? execution.behaviour?.retryable
                ? { ErrorCategory: 1, ErrorType: 401, Retryable: true, ErrorMessage: execution.reason }
                : { ErrorCategory: 2, ErrorType: 1100, Retryable: false, ErrorMessage: execution.reason }
              : undefined,
          SubmissionDateTime: Date.now() / 1000,
          CompletionDateTime: final ? Date.now() / 1000 : undefined,
        },
        // A cancelled query reports (and is billed for) what it scanned so far; a reused result scanned nothing.
        Statistics: {
          DataScannedInBytes:
            (final && state === 'SUCCEEDED') || execution.stopped || state === 'CANCELLED' ? (execution.reused ? 0 : execution.scannedBytes) : 0,
          EngineExecutionTimeInMillis: 1,
          ResultReuseInformation: final && state === 'SUCCEEDED' ? { ReusedPreviousResult: execution.reused } : undefined,
        },
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

  const getWorkGroup = (input: Record<string, unknown>) => {
    const name = typeof input.WorkGroup === 'string' ? input.WorkGroup : '';
    const group = workgroups[name];
    if (!group) throw new WireError('InvalidRequestException', `WorkGroup ${name} is not found.`);
    return {
      WorkGroup: {
        Name: name,
        State: 'ENABLED',
        Configuration: {
          EnforceWorkGroupConfiguration: group.enforced === true,
          ...(group.outputLocation ? { ResultConfiguration: { OutputLocation: group.outputLocation } } : {}),
          EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
        },
      },
    };
  };

  const getTableMetadata = (input: Record<string, unknown>) => {
    if (input.CatalogName !== 'AwsDataCatalog') throw new WireError('MetadataException', `Catalog ${String(input.CatalogName)} was not found`);
    const key = `${String(input.DatabaseName)}.${String(input.TableName)}`.toLowerCase();
    const properties = catalog.get(key);
    if (!properties) throw new WireError('MetadataException', `Table ${String(input.TableName)} not found in database ${String(input.DatabaseName)}`);
    return { TableMetadata: { Name: String(input.TableName), TableType: 'EXTERNAL_TABLE', Columns: [], PartitionKeys: [], Parameters: { ...properties } } };
  };

  const handlers: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetWorkGroup: getWorkGroup,
    GetTableMetadata: getTableMetadata,
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
    readErrorStyle: 'cursor',
    tableProperties: (name) => (catalog.has(name.toLowerCase()) ? { ...catalog.get(name.toLowerCase())! } : undefined),
    setTableProperties: (name, properties) => void catalog.set(name.toLowerCase(), { ...properties }),
    behave(behaviour) {
      behaviours.push(behaviour);
    },
    throttle(target, count, errorType = 'ThrottlingException') {
      throttles.push({ target, count, errorType });
    },
    unthrottle() {
      throttles.length = 0;
    },
    loseStartAnswers(count) {
      lostStarts += count;
    },
    tables: () => serial(tableList),
    async seedTable(name, location) {
      await serial(() => db.run(`CREATE TABLE "${database}"."${name}" (eventid VARCHAR)`));
      locations.set(name, location);
      catalog.set(`${database}.${name}`, { location });
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
