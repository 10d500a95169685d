import { createHash, randomBytes } from 'node:crypto';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { formatBytes } from '../../core/cost.js';
import { ConfigError, EngineError, QueryFailedError, ScanBudgetError } from '../../core/errors.js';
import type { ParamValue, QueryResult, ScanCharge, SkippedFile, WindowStats } from '../../core/model.js';
import { compactTime } from '../../core/time.js';
import type { LogFile } from '../../source/types.js';
import type { QueryContext, QueryEngine, WindowInput } from '../types.js';
import type { InventoryLoad, InventoryQueries } from '../../inventory/engine-input.js';
import type { DuckDbEngine } from '../duckdb.js';
import { AthenaQueryClient, type Execution, type WorkGroupSettings } from './client.js';
import { loadAthenaInventory } from './inventory.js';
import type { AthenaEngineClients, AthenaEngineOptions } from './settings.js';
import { quoteId, windowTableName, withWindowCte } from './sql.js';
import { WindowTables } from './window-table.js';
import { checkWindowSelect, rawWindowRows, windowPlan, windowProbeQuery, windowStatsQuery, type WindowPlan, type WindowSource } from './window.js';

/**
 * Athena's errors for an object it cannot read: the Hive reader's (`HIVE_CURSOR_ERROR`, `HIVE_BAD_DATA`,
 * `HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split s3://… (offset=…, length=…)`) and the JSON SerDe's
 * (`Row is not a valid JSON Object`, `JsonParseException: …`), which often name no object.
 */
const READ_ERROR = /HIVE_CURSOR_ERROR|HIVE_BAD_DATA|HIVE_CANNOT_OPEN_SPLIT|Row is not a valid JSON Object|JsonParseException|JSONException/;

/** The S3 paths an Athena read error names, e.g. `HIVE_CURSOR_ERROR: … s3://bucket/key`. */
export function pathsInReadError(reason: string): string[] {
  if (!READ_ERROR.test(reason)) return [];
  return [...reason.matchAll(/s3a?:\/\/[^\s'"`,;()[\]]+/g)].map((m) => m[0].replace(/^s3a:/, 's3:').replace(/[.:]+$/, ''));
}

/** Whether a failure is Athena failing to read an object (named or not), rather than anything else. */
export function isReadError(reason: string): boolean {
  return READ_ERROR.test(reason);
}

/** At most this many probe queries per run go into finding objects that Athena fails on without naming them. */
export const MAX_PROBES = 40;

/**
 * What partition projection leaves out of the window: accounts and regions with logs in the window but not among
 * the table's enum values, and days before its `projection.timestamp.range`. Athena generates partitions only
 * from those properties, so such logs would return no rows and no error. Undefined: nothing is left out.
 */
export function projectionGap(properties: Readonly<Record<string, string>>, files: readonly LogFile[]): string | undefined {
  if (properties['projection.enabled']?.toLowerCase() !== 'true') return undefined;
  const problems: string[] = [];
  for (const column of ['account', 'region'] as const) {
    if (properties[`projection.${column}.type`]?.toLowerCase() !== 'enum') continue;
    const values = new Set((properties[`projection.${column}.values`] ?? '').split(',').map((v) => v.trim()));
    const missing = [...new Set(files.map((f) => f[column]))].filter((v) => !values.has(v)).sort();
    if (missing.length > 0) problems.push(`${column === 'account' ? 'account(s)' : 'region(s)'} ${missing.join(', ')} (not in projection.${column}.values)`);
  }
  const start = /^(\d{4}\/\d{2}\/\d{2})/.exec(properties['projection.timestamp.range'] ?? '')?.[1];
  const early = start ? files.filter((f) => f.day < start).map((f) => f.day) : [];
  if (early.length > 0) problems.push(`days before ${start} (projection.timestamp.range), from ${[...early].sort()[0]}`);
  if (problems.length === 0) return undefined;
  return (
    `the CloudTrail table's partition projection leaves out ${problems.join(' and ')}, whose logs are in the window: ` +
    'Athena would return no rows for them, without an error. Run `trailwarden setup athena --apply` to bring the table up to date'
  );
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? text;
}

/**
 * What a classic partitioned table leaves out of the window: day folders of the bucket listing that have no
 * partition (`SHOW PARTITIONS` lines, `account=…/region=…/timestamp=yyyy%2FMM%2Fdd` as Hive escapes them). Athena
 * reads only registered partitions, so such logs would return no rows and no error. Undefined: nothing is left out.
 */
export function partitionGap(partitions: readonly string[], files: readonly LogFile[]): string | undefined {
  const known = new Set(
    partitions.map((line) => {
      const values = Object.fromEntries(
        line.split('/').map((part) => {
          const at = part.indexOf('=');
          return [part.slice(0, at).toLowerCase(), decodeURIComponent(part.slice(at + 1))];
        }),
      );
      return `${values.account}/${values.region}/${values.timestamp}`;
    }),
  );
  const missing = [...new Set(files.map((f) => `${f.account}/${f.region}/${f.day}`))].filter((folder) => !known.has(folder)).sort();
  if (missing.length === 0) return undefined;
  const since = missing.map((folder) => folder.split('/').slice(2).join('/')).sort()[0];
  return (
    `the CloudTrail table has no partition for ${missing.length} day folder(s) of the window (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}): ` +
    `Athena would return no rows for them, without an error. Run \`trailwarden setup athena --apply --since ${since}\` to add them`
  );
}

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
  readonly #log: Logger;
  readonly #client: AthenaQueryClient;
  /** Only in `ctas` mode. */
  readonly #tables: WindowTables | undefined;
  readonly #now: () => number;
  #runId = '';
  #plan: WindowPlan | undefined;
  /** `"$path"`s of objects Athena could not read: excluded from every read of the raw logs. */
  readonly #excluded: string[] = [];
  /** The window table this run created (or tried to): dropped by close(). */
  #table: string | undefined;
  /** Set when the table's projection leaves out logs of the window: every check fails with it, none can pass. */
  #gap: string | undefined;
  #probes = 0;
  /** The in-process database of the IAM inventory checks (see inventory.ts): closed by close(). */
  #inventory: DuckDbEngine | undefined;

  private constructor(options: AthenaEngineOptions, athena: AthenaClient, s3: S3Client, log: Logger, workGroup: WorkGroupSettings) {
    this.#options = options;
    this.#log = log.child({ engine: 'athena' });
    this.concurrency = options.concurrency;
    this.#now = options.now ?? Date.now;
    this.#client = new AthenaQueryClient(athena, options, this.#log);
    this.#tables =
      options.mode === 'ctas'
        ? new WindowTables(
            this.#client,
            s3,
            {
              database: options.database,
              ctasLocation: options.ctasLocation!,
              enforcedOutputLocation: workGroup.enforced ? workGroup.outputLocation : undefined,
              leftoverAgeMs: options.leftoverAgeMs,
              now: this.#now,
            },
            this.#log,
          )
        : undefined;
  }

  /**
   * Builds the engine: reads the workgroup (GetWorkGroup) — an enforced one decides where CTAS tables go and where
   * results are written — and (unless told not to, e.g. by `setup athena`) removes the window tables and objects of
   * crashed runs.
   */
  static async create(
    options: AthenaEngineOptions,
    clients: AthenaEngineClients,
    log: Logger,
    start: { removeLeftovers?: boolean } = {},
  ): Promise<AthenaEngine> {
    if (options.mode === 'ctas' && !options.ctasLocation) throw new EngineError('engine.ctas_location is required with mode ctas');
    const probe = new AthenaQueryClient(clients.athena, options, log);
    let workGroup: WorkGroupSettings;
    try {
      workGroup = await probe.workGroup();
    } catch (error) {
      throw new EngineError(
        `could not read the Athena workgroup ${options.workgroup} (GetWorkGroup; the job needs athena:GetWorkGroup): ${firstLine(error instanceof Error ? error.message : String(error))}`,
        { cause: error },
      );
    }
    if (!workGroup.outputLocation && !options.outputLocation) {
      throw new ConfigError('engine', [`output_location: required: the workgroup ${options.workgroup} has no query result location of its own`]);
    }
    if (options.mode === 'ctas' && workGroup.enforced && !workGroup.outputLocation) {
      throw new ConfigError('engine', [
        `mode: the workgroup ${options.workgroup} overrides client-side settings but has no result location, so Athena has nowhere to write the window table; give the workgroup one, or set mode: direct`,
      ]);
    }
    if (options.mode === 'direct' && options.resultReuseMinutes) {
      log.warn(
        { workgroup: options.workgroup },
        'engine.result_reuse_minutes is ignored with mode direct: the query text is the same every run, and AWS does not document that result reuse tells runs apart by their parameters',
      );
    }
    const engine = new AthenaEngine(options, clients.athena, clients.s3, log, workGroup);
    // No run yet: the clean-up's queries are named for maintenance.
    if (engine.#tables && start.removeLeftovers !== false) await engine.#tables.removeLeftovers('maintenance');
    return engine;
  }

  /** Where this run's window is read from: the logs with the run's filters, and in `ctas` mode the run's table. */
  #source(): WindowSource {
    return {
      logs: `${quoteId(this.#options.database)}.${quoteId(this.#options.table)}`,
      accounts: this.#options.accounts,
      regions: this.#options.regions,
      excluded: this.#excluded,
      table: this.#tables ? this.#tables.ref(this.#table!) : undefined,
    };
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
    await this.#checkProjection(input.files);
    // Athena reads whole columns (a CTAS of the named ones) over the whole window: `since` and pruned structs are DuckDB's.
    const plan = windowPlan(
      input.window,
      input.columns?.map((column) => (typeof column === 'string' ? column : column.name)),
    );
    this.#plan = plan;
    const skipped: SkippedFile[] = [];
    const charges: ScanCharge[] = [];
    const tables = this.#tables;
    if (tables) {
      const table = windowTableName(this.#runId, new Date(this.#now()));
      this.#table = table;
      const load = await this.#skippingUnreadable(input.files, plan, skipped, charges, (attempt) =>
        tables.create(table, rawWindowRows(plan, this.#source()), this.#runId, attempt),
      );
      charges.push({ label: 'load window (CTAS)', scannedBytes: load.scannedBytes, billed: !load.reused });
    }
    const stats = await this.#skippingUnreadable(input.files, plan, skipped, charges, (attempt) => this.#windowStats(plan, attempt));
    charges.push({ label: 'window statistics', scannedBytes: stats.execution.scannedBytes, billed: !stats.execution.reused });
    const scannedBytes = charges.reduce((sum, c) => sum + c.scannedBytes, 0);
    const result: WindowStats = { ...stats.stats, filesSkipped: skipped, scannedBytes, scanCharges: charges };
    this.#log.info({ table: this.#table, mode: this.#options.mode, scannedBytes, events: result.events, skipped: skipped.length }, 'window loaded');
    return result;
  }

  /**
   * With partition projection, Athena reads only the accounts, regions and days the table's properties list: logs of
   * an account added later come back as no rows and no error. So the table's properties (GetTableMetadata) are
   * compared with the window's objects before anything is read — and with the classic partitioned layout, its
   * partitions (SHOW PARTITIONS) — and a gap makes every check `error` naming it. Not being able to read them stops
   * the run: the gap could not be ruled out.
   */
  async #checkProjection(files: readonly LogFile[]): Promise<void> {
    let properties: Record<string, string>;
    try {
      properties = await this.#client.tableProperties(this.#options.table);
    } catch (error) {
      throw new EngineError(
        `could not read the properties of ${this.#options.database}.${this.#options.table} (GetTableMetadata; the job needs athena:GetTableMetadata and glue:GetTable), ` +
          `so a partition projection that leaves out accounts or regions could not be ruled out: ${firstLine(error instanceof Error ? error.message : String(error))}`,
        { cause: error },
      );
    }
    this.#gap = projectionGap(properties, files);
    if (!this.#gap && properties['projection.enabled']?.toLowerCase() !== 'true' && this.#options.layout === 'partitioned') {
      this.#gap = partitionGap(await this.#partitions(), files);
    }
    if (this.#gap) this.#log.error({ table: this.#options.table }, this.#gap);
  }

  /** The table's partitions (SHOW PARTITIONS: DDL, not billed); failing to read them stops the run, as above. */
  async #partitions(): Promise<string[]> {
    const sql = `SHOW PARTITIONS \`${this.#options.database}\`.\`${this.#options.table}\``;
    try {
      const label = { runId: this.#runId, checkId: 'load-window', purpose: `show-partitions-${randomBytes(4).toString('hex')}` };
      const listing = await this.#client.inSlot(() => this.#client.execute(sql, [], label));
      return (await this.#client.results(listing)).rows.map((row) => row[0] ?? '');
    } catch (error) {
      throw new EngineError(
        `could not list the partitions of ${this.#options.database}.${this.#options.table} (SHOW PARTITIONS), so day folders without a partition could not be ruled out: ` +
          firstLine(error instanceof Error ? error.message : String(error)),
        { cause: error },
      );
    }
  }

  /**
   * Runs a query that reads the raw logs; when Athena fails on an object it cannot read, that object is excluded and
   * reported as skipped, and the query runs again. Athena's error names the object most of the time; when it does not
   * (the JSON SerDe's messages), the object is found by bisecting the window's object list over `"$path"` — at most
   * MAX_PROBES probe queries in a run, each charged. Anything else aborts the load.
   */
  async #skippingUnreadable<T>(
    files: readonly LogFile[],
    plan: WindowPlan,
    skipped: SkippedFile[],
    charges: ScanCharge[],
    run: (attempt: number) => Promise<T>,
  ): Promise<T> {
    const byPath = new Map(files.map((file) => [file.path, file]));
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await run(attempt);
      } catch (error) {
        const reason = error instanceof QueryFailedError ? error.message : '';
        let culprits = [...new Set(pathsInReadError(reason))].filter((p) => !this.#excluded.includes(p));
        if (culprits.length === 0 && isReadError(reason) && attempt <= 50) {
          const found = await this.#findUnreadable(files, plan, charges);
          culprits = found ? [found] : [];
        }
        if (culprits.length === 0 || attempt > 50) {
          if (error instanceof EngineError) throw error;
          const unnamed = isReadError(reason) ? ` (Athena named no object, and ${this.#probes} probe queries could not single one out)` : '';
          throw new EngineError(`loading the window failed: ${firstLine(error instanceof Error ? error.message : String(error))}${unnamed}`, { cause: error });
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

  /**
   * Bisects the window's objects (sorted by path, the excluded ones left out) with probe queries over `"$path"` ranges
   * until one object is left that fails on its own. Undefined when the probes run out or the failure does not recur.
   */
  async #findUnreadable(files: readonly LogFile[], plan: WindowPlan, charges: ScanCharge[]): Promise<string | undefined> {
    const candidates = files.filter((f) => !this.#excluded.includes(f.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    /** Whether the objects [from, to) fail to read; a named object ends the search early. */
    const fails = async (from: number, to: number): Promise<boolean | string> => {
      if (this.#probes >= MAX_PROBES) throw new Error('out of probes');
      this.#probes += 1;
      const part = candidates.slice(from, to);
      const days = part.map((f) => f.day).sort();
      const probePlan = { ...plan, firstDay: days[0]!, lastDay: days.at(-1)! };
      const query = windowProbeQuery(probePlan, { ...this.#source(), pathRange: { from: part[0]!.path, to: part.at(-1)!.path } });
      const label = { runId: this.#runId, checkId: 'load-window', purpose: `probe-${this.#probes}` };
      try {
        const execution = await this.#client.inSlot(() => this.#client.execute(query.sql, query.params, label));
        charges.push({ label: `find unreadable object (probe ${this.#probes}, ${part.length} objects)`, scannedBytes: execution.scannedBytes, billed: true });
        return false;
      } catch (error) {
        const reason = error instanceof QueryFailedError ? error.message : '';
        charges.push({ label: `find unreadable object (probe ${this.#probes}, ${part.length} objects)`, scannedBytes: 0, billed: false });
        if (!isReadError(reason)) throw error;
        return pathsInReadError(reason).find((p) => !this.#excluded.includes(p)) ?? true;
      }
    };
    if (candidates.length === 0) return undefined;
    try {
      let [lo, hi] = [0, candidates.length];
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        const left = await fails(lo, mid);
        if (typeof left === 'string') return left;
        if (left) hi = mid;
        else lo = mid;
      }
      // The last one must fail on its own: a failure that does not recur singles out nothing.
      const last = await fails(lo, lo + 1);
      if (typeof last === 'string') return last;
      return last ? candidates[lo]!.path : undefined;
    } catch (error) {
      this.#log.warn({ err: error, probes: this.#probes }, 'could not single out the object Athena fails on');
      return undefined;
    }
  }

  async #windowStats(plan: WindowPlan, attempt: number): Promise<{ stats: Omit<WindowStats, 'filesSkipped'>; execution: Execution }> {
    const query = windowStatsQuery(plan, this.#source());
    return this.#client.inSlot(async () => {
      const execution = await this.#client.execute(query.sql, query.params, { runId: this.#runId, checkId: 'load-window', purpose: `stats-${attempt}` });
      const { rows: groups } = await this.#client.results(execution);
      const sum = (i: number) => groups.reduce((total, row) => total + Number(row[i] ?? 0), 0);
      const withEvents = groups.filter((row) => Number(row[2] ?? 0) > 0);
      return {
        execution,
        stats: {
          events: sum(2),
          duplicates: sum(3),
          recordsWithoutTime: sum(4),
          recordsDropped: [],
          conflicts: [],
          dataEvents: sum(5),
          filesRead: sum(6),
          accounts: [...new Set(withEvents.map((row) => row[0] ?? ''))].sort(),
          regions: [...new Set(withEvents.map((row) => row[1] ?? ''))].sort(),
        },
      };
    });
  }

  /** Athena aggregates the window's activity; the inventory join runs in-process (see inventory.ts). */
  async loadInventory(load: InventoryLoad): Promise<InventoryQueries> {
    const { queries, local } = await loadAthenaInventory((sql, checkId) => this.query(sql, [], { runId: this.#runId, checkId }), load, this.#log);
    this.#inventory = local;
    return queries;
  }

  async query(sql: string, params: readonly ParamValue[], context?: QueryContext): Promise<QueryResult> {
    const plan = this.#plan;
    if (!plan) throw new EngineError('loadWindow must run before the checks');
    if (this.#gap) throw new QueryFailedError(`not run: ${this.#gap}`, { queryExecutionId: '', state: 'NOT_RUN' });
    const window = checkWindowSelect(plan, this.#source());
    const text = withWindowCte(window.sql, sql);
    const checkId = context?.checkId ?? `query-${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
    if (context?.runId && !this.#runId) this.#runId = context.runId;
    return this.#client.inSlot(async () => {
      // Result reuse only in ctas mode, where the text names the run's own table. In direct mode the text is the same
      // every run and only the parameters change; AWS's conditions for reuse name the query string, not the
      // parameters, so a reused result could be another window's.
      const reuse = this.#tables !== undefined;
      const execution = await this.#client.execute(text, [...window.params, ...params], { runId: this.#runId, checkId, purpose: 'check' }, reuse);
      const result = await this.#client.results(execution);
      return { ...result, scannedBytes: execution.scannedBytes, reused: execution.reused };
    });
  }

  /**
   * Runs one statement without parameters (DDL: `setup athena --apply`) through the same client path as
   * the checks: idempotency token, throttling retries, polling, timeout. `label` names it in the token;
   * `inDatabase: false` runs it without the configured database as its context (CREATE DATABASE).
   */
  async runStatement(sql: string, label: string, inDatabase = true): Promise<{ queryExecutionId: string }> {
    if (!this.#runId) this.#runId = `setup-${randomBytes(8).toString('hex')}`;
    const execution = await this.#client.execute(sql, [], { runId: this.#runId, checkId: 'setup', purpose: label }, false, inDatabase);
    return { queryExecutionId: execution.id };
  }

  async close(): Promise<void> {
    await this.#inventory?.close();
    this.#inventory = undefined;
    try {
      if (this.#tables && this.#table) {
        const table = this.#table;
        this.#table = undefined;
        await this.#tables.drop(table, this.#runId);
        this.#log.debug({ table }, 'window table dropped');
      }
    } catch (error) {
      // A leftover is removed by a later run's start-up clean-up; don't hide the run's own outcome.
      this.#log.warn({ err: error }, 'could not drop the window table; a later run removes it');
    }
  }
}
