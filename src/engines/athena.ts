import { createHash, randomBytes } from 'node:crypto';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClientConfig,
  type ColumnInfo,
  type QueryExecution,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { listAllPages, s3ClientConfigFrom } from '../aws/s3-client.js';
import type { AthenaEngineConfig, SourceConfig } from '../config/schema.js';
import { CLOUDTRAIL_COLUMNS, type CloudTrailColumn } from '../core/cloudtrail-table.js';
import { formatBytes } from '../core/cost.js';
import { EngineError, QueryFailedError, QueryTimeoutError, ScanBudgetError } from '../core/errors.js';
import type { ParamValue, QueryResult, SkippedFile, WindowStats } from '../core/model.js';
import { compactTime, deliveryDaysFor, toCloudTrailTime } from '../core/time.js';
import type { LogFile } from '../source/types.js';
import type { QueryContext, QueryEngine, WindowInput } from './types.js';

// ===================================================================================================
// Pure helpers (exported for unit tests)

/** A SQL string literal: single quotes, embedded quotes doubled. */
function stringLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * One value as Athena's `ExecutionParameters` want it: the SQL literal text, never a bare value.
 * Strings become `'...'` (quotes doubled), lists `ARRAY['a', 'b']`; an empty list needs its element type,
 * which a bare `ARRAY[]` lacks, so it is `CAST(ARRAY[] AS ARRAY(VARCHAR))`.
 */
export function toAthenaLiteral(value: ParamValue): string {
  if (typeof value === 'string') return stringLiteral(value);
  if (value.length === 0) return 'CAST(ARRAY[] AS ARRAY(VARCHAR))';
  return `ARRAY[${value.map(stringLiteral).join(', ')}]`;
}

/**
 * `ClientRequestToken` for one query of a run: the same run, check and purpose give the same token, so a
 * StartQueryExecution retried after a lost answer returns the first execution instead of starting a second.
 * 64 hex characters (Athena wants 32–128).
 */
export function requestToken(runId: string, checkId: string, purpose: string): string {
  return createHash('sha256').update(`trailwarden\n${runId}\n${checkId}\n${purpose}`).digest('hex');
}

const TABLE_PREFIX = 'trailwarden_window_';
/** `trailwarden_window_20261124t080000z_1a2b3c4d`: the run's UTC start, so leftovers can be aged. */
const TABLE_STAMP = /^trailwarden_window_(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})z(_[a-z0-9_]*)?$/;

/**
 * The run-scoped window table's name: lower-case letters, digits and `_` only (Glue's rule). It always starts
 * with a UTC stamp, so that close() and the clean-up of crashed runs recognise (and can age) it: a run id that
 * does not start with one gets `startedAt`'s stamp and a digest of the id.
 */
export function windowTableName(runId: string, startedAt: Date): string {
  const name = `${TABLE_PREFIX}${runId.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 100)}`;
  if (windowTableTime(name) !== undefined) return name;
  const stamp = compactTime(startedAt).toLowerCase();
  return `${TABLE_PREFIX}${stamp}_${createHash('sha256').update(runId).digest('hex').slice(0, 16)}`;
}

/** When the run that created a window table started, from its name; undefined for names not ours. */
export function windowTableTime(name: string): Date | undefined {
  const m = TABLE_STAMP.exec(name);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** Leading whitespace and SQL comments (`-- …` lines and `/* … *\/` blocks) of a statement. */
function leadingTrivia(sql: string): string {
  const m = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/.exec(sql);
  return m?.[0] ?? '';
}

/**
 * Puts `cloudtrail_window` in front of a check's SQL as a CTE, so the check text itself is never
 * rewritten. A check that starts with its own WITH (after comments) gets the window as its first CTE.
 * Parameters stay in text order: the window's `?` come before the check's.
 */
export function withWindowCte(windowSelect: string, checkSql: string): string {
  const lead = leadingTrivia(checkSql);
  const rest = checkSql.slice(lead.length);
  const opening = /^with(\s+recursive)?\s/i.exec(rest);
  if (opening) return `${lead}${opening[0]}cloudtrail_window AS (\n${windowSelect}\n),\n${rest.slice(opening[0].length)}`;
  return `WITH cloudtrail_window AS (\n${windowSelect}\n)\n${checkSql}`;
}

/** `s3://bucket/prefix/` → its parts. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new EngineError(`not an S3 location: ${url}`);
  const prefix = m[2] ?? '';
  return { bucket: m[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

/** The S3 paths an Athena read error names, e.g. `HIVE_CURSOR_ERROR: … s3://bucket/key`. */
export function pathsInReadError(reason: string): string[] {
  if (!/HIVE_CURSOR_ERROR|HIVE_BAD_DATA/.test(reason)) return [];
  return [...reason.matchAll(/s3a?:\/\/[^\s'"`,;()[\]]+/g)].map((m) => m[0].replace(/^s3a:/, 's3:').replace(/[.:]+$/, ''));
}

// ===================================================================================================
// Options and clients

/** How the engine behaves; `athenaEngineOptions` derives it from the config file. */
export interface AthenaEngineOptions {
  /** Glue database and table of the CloudTrail logs (see `trailwarden setup athena`). */
  readonly database: string;
  readonly table: string;
  readonly workgroup: string;
  /** Query results location; optional when the workgroup enforces one. */
  readonly outputLocation?: string;
  /** `ctas`: read the raw logs once into a run-scoped Parquet table; `direct`: every check reads the logs. */
  readonly mode: 'ctas' | 'direct';
  /** `s3://bucket/prefix/` for the run-scoped tables; required for `ctas`. */
  readonly ctasLocation?: string;
  /** Queries in flight at once. */
  readonly concurrency: number;
  readonly queryTimeoutMs: number;
  readonly pollInitialMs: number;
  readonly pollMaxMs: number;
  /** Athena result reuse for check queries, in minutes. */
  readonly resultReuseMinutes?: number;
  /** Abort before any query when the window's objects exceed this many bytes. */
  readonly scanBudgetBytes?: number;
  /** Partition filters, from the source config. */
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
  /** Throttling retries: attempts in all, and the backoff base and cap (full jitter). */
  readonly retryAttempts?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** GetQueryResults page size (≤ 1000). */
  readonly pageSize?: number;
  /** Window tables older than this are a crashed run's leftovers (default one day). */
  readonly leftoverAgeMs?: number;
  /** Injectable for tests: the clock, the wait between polls, and the jitter source. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Either ready SDK clients (tests point them at local peers) or their settings. */
export interface AthenaEngineClients {
  readonly athena: AthenaClient | AthenaClientConfig;
  readonly s3: S3Client | S3ClientConfig;
}

const GB = 1e9;

/** Engine options from the validated config; the source gives the account/region partition filters. */
export function athenaEngineOptions(config: AthenaEngineConfig, source?: SourceConfig): AthenaEngineOptions {
  return {
    database: config.database,
    table: config.table,
    workgroup: config.workgroup,
    outputLocation: config.output_location,
    mode: config.mode,
    ctasLocation: config.ctas_location,
    concurrency: config.concurrency,
    queryTimeoutMs: config.query_timeout_seconds * 1000,
    pollInitialMs: config.poll_initial_ms,
    pollMaxMs: config.poll_max_ms,
    resultReuseMinutes: config.result_reuse_minutes,
    scanBudgetBytes: config.scan_budget_gb === undefined ? undefined : config.scan_budget_gb * GB,
    accounts: source?.accounts,
    regions: source?.regions,
  };
}

/**
 * SDK client settings from the config. Credentials: the default provider chain only. The SDK's own
 * retries are off for Athena because the engine retries throttling itself (bounded, with jitter, and with
 * the idempotency token); S3 follows the source's endpoint and path style. A custom endpoint (an
 * S3-compatible store, a local peer) gets checksums only when required, which such stores need.
 */
export function athenaClientSettings(config: AthenaEngineConfig, source?: SourceConfig): { athena: AthenaClientConfig; s3: S3ClientConfig } {
  const s3Settings = source?.kind === 's3' ? { ...source, region: source.region ?? config.region } : { region: config.region };
  return {
    athena: { region: config.region, endpoint: config.endpoint, maxAttempts: 1 },
    s3: s3ClientConfigFrom(s3Settings),
  };
}

// ===================================================================================================
// The engine

/** Limits how many queries are in flight at once. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free += 1;
    }
  }
}

interface Execution {
  readonly id: string;
  readonly statementType: string;
  readonly scannedBytes: number;
}

interface WindowPlan {
  readonly columns: readonly CloudTrailColumn[];
  readonly firstDay: string;
  readonly lastDay: string;
  readonly start: string;
  readonly end: string;
}

const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'ThrottledException', 'RequestLimitExceeded', 'SlowDown']);

/**
 * Connection failures: the request may or may not have reached Athena, and the answer never arrived. With the
 * SDK's own retries off they are ours to retry; the idempotency token makes a repeated start safe.
 */
const NETWORK_ERRORS = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name && (THROTTLED.has(e.name) || NETWORK_ERRORS.has(e.name))) return true;
  if (e?.code && NETWORK_CODES.has(e.code)) return true;
  if (e?.name === 'InternalServerException') return true;
  const status = e?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? text;
}

const quoteId = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Amazon Athena over the CloudTrail table. A run reads the raw logs once: `loadWindow` materialises the
 * window as a run-scoped Parquet table (CTAS), which every check then reads as `cloudtrail_window`;
 * `close()` drops it and deletes its objects. In `direct` mode (no Glue write permission) every check
 * reads the logs through the same filtered, de-duplicated CTE instead.
 */
export class AthenaEngine implements QueryEngine {
  readonly kind = 'athena';
  readonly readsLocalFiles = false;
  readonly concurrency: number;
  readonly #options: AthenaEngineOptions;
  readonly #athena: AthenaClient;
  readonly #s3: S3Client;
  readonly #ownsClients: { athena: boolean; s3: boolean };
  readonly #log: Logger;
  readonly #slots: Slots;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  #runId = '';
  #plan: WindowPlan | undefined;
  /** `"$path"`s of objects Athena could not read: excluded from every read of the raw logs. */
  readonly #excluded: string[] = [];
  /** The window table this run created (or tried to): dropped by close(). */
  #table: string | undefined;

  private constructor(options: AthenaEngineOptions, athena: AthenaClient, s3: S3Client, owns: { athena: boolean; s3: boolean }, log: Logger) {
    this.#options = options;
    this.#athena = athena;
    this.#s3 = s3;
    this.#ownsClients = owns;
    this.#log = log.child({ engine: 'athena' });
    this.concurrency = options.concurrency;
    this.#slots = new Slots(options.concurrency);
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
  }

  /** Builds the engine and (unless told not to, e.g. by `setup athena`) removes the window tables and objects of crashed runs. */
  static async create(options: AthenaEngineOptions, clients: AthenaEngineClients, log: Logger, start: { removeLeftovers?: boolean } = {}): Promise<AthenaEngine> {
    if (options.mode === 'ctas' && !options.ctasLocation) throw new EngineError('engine.ctas_location is required with mode ctas');
    const athena = clients.athena instanceof AthenaClient ? clients.athena : new AthenaClient(clients.athena);
    const s3 = clients.s3 instanceof S3Client ? clients.s3 : new S3Client(clients.s3);
    const engine = new AthenaEngine(options, athena, s3, { athena: athena !== clients.athena, s3: s3 !== clients.s3 }, log);
    if (options.mode === 'ctas' && start.removeLeftovers !== false) await engine.#removeLeftovers();
    return engine;
  }

  // -------------------------------------------------------------------------------------------------
  // Talking to Athena

  /** One API call, retried with full jitter when Athena throttles, fails on its side or the connection dies; bounded. */
  async #call<T>(what: string, send: () => Promise<T>): Promise<T> {
    const attempts = this.#options.retryAttempts ?? 6;
    const base = this.#options.retryBaseMs ?? 200;
    const cap = this.#options.retryMaxMs ?? 10_000;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        if (!isRetryable(error) || attempt >= attempts) throw error;
        const delay = Math.round(this.#random() * Math.min(cap, base * 2 ** (attempt - 1)));
        this.#log.debug({ call: what, attempt, delayMs: delay, err: (error as Error).name }, 'athena call throttled, retrying');
        await this.#sleep(delay);
      }
    }
  }

  /** Starts one query and waits for it; FAILED/CANCELLED and timeouts throw. */
  async #execute(sql: string, params: readonly ParamValue[], checkId: string, purpose: string, reuse = false): Promise<Execution> {
    const input: StartQueryExecutionCommandInput = {
      QueryString: sql,
      ClientRequestToken: requestToken(this.#runId, checkId, purpose),
      WorkGroup: this.#options.workgroup,
      QueryExecutionContext: { Database: this.#options.database },
      ...(params.length > 0 ? { ExecutionParameters: params.map(toAthenaLiteral) } : {}),
      ...(this.#options.outputLocation ? { ResultConfiguration: { OutputLocation: this.#options.outputLocation } } : {}),
      ...(reuse && this.#options.resultReuseMinutes
        ? { ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: this.#options.resultReuseMinutes } } }
        : {}),
    };
    const started = this.#now();
    const { QueryExecutionId: id } = await this.#call('StartQueryExecution', () => this.#athena.send(new StartQueryExecutionCommand(input)));
    if (!id) throw new EngineError('Athena returned no QueryExecutionId');
    this.#log.debug({ queryExecutionId: id, check: checkId, purpose }, 'query started');

    let delay = this.#options.pollInitialMs;
    for (;;) {
      if (this.#now() - started >= this.#options.queryTimeoutMs) {
        await this.#call('StopQueryExecution', () => this.#athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }))).catch((error: unknown) =>
          this.#log.warn({ queryExecutionId: id, err: error }, 'could not stop a timed-out query'),
        );
        throw new QueryTimeoutError(`query ${id} still running after ${Math.round(this.#options.queryTimeoutMs / 1000)} s (engine.query_timeout_seconds): stopped`, id);
      }
      await this.#sleep(Math.min(delay, Math.max(0, this.#options.queryTimeoutMs - (this.#now() - started))));
      delay = Math.min(delay * 2, this.#options.pollMaxMs);
      const { QueryExecution: execution } = await this.#call('GetQueryExecution', () => this.#athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })));
      const state = execution?.Status?.State;
      if (state === 'SUCCEEDED') return this.#executionOf(id, execution);
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
        throw new QueryFailedError(`${state}: ${reason}`, { queryExecutionId: id, state, errorType: execution?.Status?.AthenaError?.ErrorType });
      }
    }
  }

  #executionOf(id: string, execution: QueryExecution | undefined): Execution {
    return { id, statementType: execution?.StatementType ?? 'DML', scannedBytes: execution?.Statistics?.DataScannedInBytes ?? 0 };
  }

  /** Every page of a result, values as text (NULL as null); a SELECT's first row is its header and is skipped. */
  async #results(execution: Execution): Promise<{ columns: string[]; rows: (string | null)[][] }> {
    let columns: ColumnInfo[] = [];
    const rows: (string | null)[][] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = await this.#call('GetQueryResults', () =>
        this.#athena.send(new GetQueryResultsCommand({ QueryExecutionId: execution.id, NextToken: token, MaxResults: this.#options.pageSize ?? 1000 })),
      );
      if (first) columns = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const pageRows = page.ResultSet?.Rows ?? [];
      pageRows.forEach((row, index) => {
        if (first && index === 0 && execution.statementType === 'DML') return;
        rows.push(columns.map((column, i) => textValue(row.Data?.[i]?.VarCharValue, column)));
      });
      first = false;
      token = page.NextToken;
    } while (token);
    return { columns: columns.map((c) => c.Label ?? c.Name ?? ''), rows };
  }

  // -------------------------------------------------------------------------------------------------
  // The window

  #source(): string {
    return `${quoteId(this.#options.database)}.${quoteId(this.#options.table)}`;
  }

  /**
   * The raw logs of the window, de-duplicated: the date partition filter (so Athena reads only those days'
   * folders), the eventTime filter (records without a time are kept, to be counted), the account/region
   * filters, and the objects found unreadable. `copy_number` > 1 marks a second delivery of an eventID.
   */
  #windowRows(plan: WindowPlan): { sql: string; params: string[] } {
    const cols = plan.columns.map(quoteId).join(', ');
    const where = ['"timestamp" BETWEEN ? AND ?', '(eventtime IS NULL OR (eventtime >= ? AND eventtime < ?))'];
    const params = [plan.firstDay, plan.lastDay, plan.start, plan.end];
    const inList = (column: string, values: readonly string[] | undefined, negate = false) => {
      if (!values || values.length === 0) return;
      where.push(`${column} ${negate ? 'NOT IN' : 'IN'} (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    };
    inList('account', this.#options.accounts);
    inList('region', this.#options.regions);
    inList('"$path"', this.#excluded, true);
    const sql = `SELECT ${cols}, account, region, source_path, copy_number
FROM (
  SELECT ${cols}, account, region, "$path" AS source_path,
    CASE WHEN eventid IS NULL THEN 1
      ELSE row_number() OVER (PARTITION BY eventid, eventtime IS NULL ORDER BY "$path", eventtime) END AS copy_number
  FROM ${this.#source()}
  WHERE ${where.join('\n    AND ')}
) AS raw_window`;
    return { sql, params };
  }

  /** What checks see as `cloudtrail_window`, and the parameters its text needs first. */
  #windowSelect(): { sql: string; params: string[] } {
    const plan = this.#plan;
    if (!plan) throw new EngineError('loadWindow must run before the checks');
    const cols = plan.columns.map(quoteId).join(', ');
    const rows = this.#options.mode === 'ctas' ? { sql: this.#tableRef(), params: [] } : this.#windowRows(plan);
    const from = this.#options.mode === 'ctas' ? rows.sql : `(\n${rows.sql}\n) AS w`;
    return { sql: `SELECT ${cols}, account, region FROM ${from} WHERE copy_number = 1 AND eventtime IS NOT NULL`, params: rows.params };
  }

  #tableRef(): string {
    return `${quoteId(this.#options.database)}.${quoteId(this.#table!)}`;
  }

  async loadWindow(input: WindowInput): Promise<WindowStats> {
    this.#runId = input.runId ?? `${compactTime(new Date(this.#now()))}-${randomBytes(4).toString('hex')}`;
    const windowBytes = input.files.reduce((sum, file) => sum + file.bytes, 0);
    const budget = this.#options.scanBudgetBytes;
    if (budget !== undefined && windowBytes > budget) {
      throw new ScanBudgetError(
        `the window's ${input.files.length} CloudTrail objects hold ${formatBytes(windowBytes)} (${windowBytes} bytes), more than the scan budget of ` +
          `${formatBytes(budget)} (${budget} bytes); Athena scans gzip JSON whole, so nothing was queried. ` +
          `Raise engine.scan_budget_gb, or shorten the checks' lookback_days${this.#options.mode === 'direct' ? ' (mode direct also re-reads the window for every check)' : ''}.`,
        windowBytes,
        budget,
      );
    }
    const days = deliveryDaysFor(input.window);
    this.#plan = {
      columns: CLOUDTRAIL_COLUMNS.filter((c) => (input.columns ?? CLOUDTRAIL_COLUMNS).includes(c)),
      firstDay: days[0]!,
      lastDay: days.at(-1)!,
      start: toCloudTrailTime(input.window.start),
      end: toCloudTrailTime(input.window.end),
    };
    const skipped: SkippedFile[] = [];
    let scannedBytes = 0;
    if (this.#options.mode === 'ctas') {
      this.#table = windowTableName(this.#runId, new Date(this.#now()));
      const load = await this.#skippingUnreadable(input.files, skipped, (attempt) => this.#createWindowTable(attempt));
      scannedBytes += load.scannedBytes;
    }
    const stats = await this.#skippingUnreadable(input.files, skipped, (attempt) => this.#windowStats(attempt));
    scannedBytes += stats.execution.scannedBytes;
    const result: WindowStats = { ...stats.stats, filesSkipped: skipped, scannedBytes };
    this.#log.info({ table: this.#table, mode: this.#options.mode, scannedBytes, events: result.events, skipped: skipped.length }, 'window loaded');
    return result;
  }

  /**
   * Runs a query that reads the raw logs; when Athena fails on an object it cannot read (and names it),
   * that object is excluded and reported as skipped, and the query runs again. Anything else aborts the load.
   */
  async #skippingUnreadable<T>(files: readonly LogFile[], skipped: SkippedFile[], run: (attempt: number) => Promise<T>): Promise<T> {
    const byPath = new Map(files.map((file) => [file.path, file]));
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await run(attempt);
      } catch (error) {
        const reason = error instanceof QueryFailedError ? error.message : '';
        const culprits = [...new Set(pathsInReadError(reason))].filter((p) => !this.#excluded.includes(p));
        if (culprits.length === 0 || attempt > 50) {
          if (error instanceof EngineError) throw error;
          throw new EngineError(`loading the window failed: ${firstLine(error instanceof Error ? error.message : String(error))}`, { cause: error });
        }
        for (const path of culprits) {
          this.#excluded.push(path);
          const file = byPath.get(path);
          const key = file?.key ?? path.replace(/^s3:\/\/[^/]+\//, '');
          const why = firstLine(reason.replace(/^FAILED:\s*/, '')).replaceAll(path, key);
          skipped.push({ path: key, reason: `Athena could not read it: ${why}` });
          this.#log.warn({ file: key, reason: why }, 'unreadable log object excluded');
        }
      }
    }
  }

  async #createWindowTable(attempt: number): Promise<Execution> {
    const { bucket, prefix } = parseS3Url(this.#options.ctasLocation!);
    const table = this.#table!;
    // A failed attempt can leave the table or part of its files; CTAS needs an empty location.
    if (attempt > 1) await this.#dropWindowTable(table);
    const rows = this.#windowRows(this.#plan!);
    const sql = `CREATE TABLE ${this.#tableRef()}
WITH (format = 'PARQUET', write_compression = 'SNAPPY', external_location = ${stringLiteral(`s3://${bucket}/${prefix}${table}/`)})
AS
${rows.sql}`;
    return this.#slots.run(() => this.#execute(sql, rows.params, 'load-window', `ctas-${attempt}`));
  }

  async #windowStats(attempt: number): Promise<{ stats: Omit<WindowStats, 'filesSkipped'>; execution: Execution }> {
    const rows = this.#options.mode === 'ctas' ? { sql: this.#tableRef(), params: [] } : this.#windowRows(this.#plan!);
    const from = this.#options.mode === 'ctas' ? rows.sql : `(\n${rows.sql}\n) AS w`;
    const sql = `SELECT account, region,
  count_if(eventtime IS NOT NULL AND copy_number = 1) AS events,
  count_if(eventtime IS NOT NULL AND copy_number > 1) AS duplicates,
  count_if(eventtime IS NULL) AS without_time,
  count_if(eventtime IS NOT NULL AND copy_number = 1 AND eventcategory = 'Data') AS data_events,
  count(DISTINCT source_path) AS files
FROM ${from}
GROUP BY account, region
ORDER BY account, region`;
    return this.#slots.run(async () => {
      const execution = await this.#execute(sql, rows.params, 'load-window', `stats-${attempt}`);
      const { rows: groups } = await this.#results(execution);
      const sum = (i: number) => groups.reduce((total, row) => total + Number(row[i] ?? 0), 0);
      const withEvents = groups.filter((row) => Number(row[2] ?? 0) > 0);
      return {
        execution,
        stats: {
          events: sum(2),
          duplicates: sum(3),
          recordsWithoutTime: sum(4),
          dataEvents: sum(5),
          filesRead: sum(6),
          accounts: [...new Set(withEvents.map((row) => row[0] ?? ''))].sort(),
          regions: [...new Set(withEvents.map((row) => row[1] ?? ''))].sort(),
        },
      };
    });
  }

  async query(sql: string, params: readonly ParamValue[], context?: QueryContext): Promise<QueryResult> {
    const window = this.#windowSelect();
    const text = withWindowCte(window.sql, sql);
    const checkId = context?.checkId ?? `query-${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
    if (context?.runId && !this.#runId) this.#runId = context.runId;
    return this.#slots.run(async () => {
      const execution = await this.#execute(text, [...window.params, ...params], checkId, 'check', true);
      const result = await this.#results(execution);
      return { ...result, scannedBytes: execution.scannedBytes };
    });
  }

  /**
   * Runs one statement without parameters (DDL: `setup athena --apply`) through the same client path as
   * the checks: idempotency token, throttling retries, polling, timeout. `label` names it in the token.
   */
  async runStatement(sql: string, label: string): Promise<{ queryExecutionId: string }> {
    if (!this.#runId) this.#runId = `setup-${randomBytes(8).toString('hex')}`;
    const execution = await this.#execute(sql, [], 'setup', label);
    return { queryExecutionId: execution.id };
  }

  // -------------------------------------------------------------------------------------------------
  // Clean-up

  /** DDL through the same client path (no parameters: DDL takes none; names are ours and checked). */
  async #ddl(sql: string, purpose: string): Promise<Execution> {
    return this.#execute(sql, [], 'maintenance', purpose);
  }

  async #dropWindowTable(table: string): Promise<void> {
    if (!TABLE_STAMP.test(table)) throw new EngineError(`refusing to drop ${table}: not a trailwarden window table`);
    await this.#ddl(`DROP TABLE IF EXISTS \`${this.#options.database}\`.\`${table}\``, `drop-${table}-${randomBytes(4).toString('hex')}`);
    const { bucket, prefix } = parseS3Url(this.#options.ctasLocation!);
    await this.#deletePrefix(bucket, `${prefix}${table}/`);
  }

  async #deletePrefix(bucket: string, prefix: string): Promise<number> {
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.#s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => Boolean(k));
      if (keys.length > 0) {
        const result = await this.#s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
        if (result.Errors && result.Errors.length > 0) throw new EngineError(`could not delete s3://${bucket}/${result.Errors[0]?.Key}: ${result.Errors[0]?.Message}`);
        deleted += keys.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  /**
   * Window tables and their folders left by runs that crashed more than a day ago (younger ones may belong
   * to a run still in progress). Failing to clean is logged, not fatal: the next run tries again.
   */
  async #removeLeftovers(): Promise<void> {
    const maxAge = this.#options.leftoverAgeMs ?? 86_400_000;
    const old = (name: string) => {
      const time = windowTableTime(name);
      return time !== undefined && this.#now() - time.getTime() > maxAge;
    };
    this.#runId = this.#runId || 'maintenance';
    try {
      const listing = await this.#ddl(`SHOW TABLES IN \`${this.#options.database}\` '${TABLE_PREFIX}*'`, `show-tables-${randomBytes(4).toString('hex')}`);
      const tables = (await this.#results(listing)).rows.map((row) => row[0] ?? '').filter(old);
      for (const table of tables) await this.#dropWindowTable(table);

      const { bucket, prefix } = parseS3Url(this.#options.ctasLocation!);
      const folders = (await listAllPages(this.#s3, bucket, `${prefix}${TABLE_PREFIX}`, '/')).folders.map((name) => `${TABLE_PREFIX}${name}`);
      const orphans = folders.filter(old).filter((name) => !tables.includes(name));
      for (const folder of orphans) await this.#deletePrefix(bucket, `${prefix}${folder}/`);
      if (tables.length + orphans.length > 0) this.#log.info({ tables, orphanFolders: orphans }, 'removed window tables of crashed runs');
    } catch (error) {
      this.#log.warn({ err: error }, 'could not remove the window tables of crashed runs; the next run will try again');
    } finally {
      if (this.#runId === 'maintenance') this.#runId = '';
    }
  }

  async close(): Promise<void> {
    try {
      if (this.#table) {
        const table = this.#table;
        this.#table = undefined;
        await this.#dropWindowTable(table);
        this.#log.debug({ table }, 'window table dropped');
      }
    } catch (error) {
      // A leftover is removed by a later run's start-up clean-up; don't hide the run's own outcome.
      this.#log.warn({ err: error }, 'could not drop the window table; a later run removes it');
    } finally {
      if (this.#ownsClients.athena) this.#athena.destroy();
      if (this.#ownsClients.s3) this.#s3.destroy();
    }
  }
}

/** A result value as text. Athena sends every value as a string; a missing VarCharValue is SQL NULL. */
function textValue(value: string | undefined, column: ColumnInfo): string | null {
  if (value === undefined) return null;
  // Athena spells booleans in lower case already; normalise in case a driver or reuse path does not.
  if (column.Type === 'boolean') return value.toLowerCase();
  return value;
}
