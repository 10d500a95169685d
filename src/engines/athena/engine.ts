import { createHash, randomBytes } from 'node:crypto';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { formatBytes } from '../../core/cost.js';
import { EngineError, QueryFailedError, ScanBudgetError } from '../../core/errors.js';
import type { ParamValue, QueryResult, SkippedFile, WindowStats } from '../../core/model.js';
import { compactTime } from '../../core/time.js';
import type { LogFile } from '../../source/types.js';
import type { QueryContext, QueryEngine, WindowInput } from '../types.js';
import type { InventoryLoad, InventoryQueries } from '../../inventory/engine-input.js';
import type { DuckDbEngine } from '../duckdb.js';
import { AthenaQueryClient, type Execution } from './client.js';
import { loadAthenaInventory } from './inventory.js';
import type { AthenaEngineClients, AthenaEngineOptions } from './settings.js';
import { quoteId, windowTableName, withWindowCte } from './sql.js';
import { WindowTables } from './window-table.js';
import { checkWindowSelect, rawWindowRows, windowPlan, windowStatsQuery, type WindowPlan, type WindowSource } from './window.js';

/** The S3 paths an Athena read error names, e.g. `HIVE_CURSOR_ERROR: … s3://bucket/key`. */
export function pathsInReadError(reason: string): string[] {
  if (!/HIVE_CURSOR_ERROR|HIVE_BAD_DATA/.test(reason)) return [];
  return [...reason.matchAll(/s3a?:\/\/[^\s'"`,;()[\]]+/g)].map((m) => m[0].replace(/^s3a:/, 's3:').replace(/[.:]+$/, ''));
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? text;
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
  /** The in-process database of the IAM inventory checks (see inventory.ts): closed by close(). */
  #inventory: DuckDbEngine | undefined;

  private constructor(options: AthenaEngineOptions, athena: AthenaClient, s3: S3Client, log: Logger) {
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
            { database: options.database, ctasLocation: options.ctasLocation!, leftoverAgeMs: options.leftoverAgeMs, now: this.#now },
            this.#log,
          )
        : undefined;
  }

  /** Builds the engine and (unless told not to, e.g. by `setup athena`) removes the window tables and objects of crashed runs. */
  static async create(
    options: AthenaEngineOptions,
    clients: AthenaEngineClients,
    log: Logger,
    start: { removeLeftovers?: boolean } = {},
  ): Promise<AthenaEngine> {
    if (options.mode === 'ctas' && !options.ctasLocation) throw new EngineError('engine.ctas_location is required with mode ctas');
    const engine = new AthenaEngine(options, clients.athena, clients.s3, log);
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
    const plan = windowPlan(input.window, input.columns);
    this.#plan = plan;
    const skipped: SkippedFile[] = [];
    let scannedBytes = 0;
    const tables = this.#tables;
    if (tables) {
      const table = windowTableName(this.#runId, new Date(this.#now()));
      this.#table = table;
      const load = await this.#skippingUnreadable(input.files, skipped, (attempt) =>
        tables.create(table, rawWindowRows(plan, this.#source()), this.#runId, attempt),
      );
      scannedBytes += load.scannedBytes;
    }
    const stats = await this.#skippingUnreadable(input.files, skipped, (attempt) => this.#windowStats(plan, attempt));
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
    const window = checkWindowSelect(plan, this.#source());
    const text = withWindowCte(window.sql, sql);
    const checkId = context?.checkId ?? `query-${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
    if (context?.runId && !this.#runId) this.#runId = context.runId;
    return this.#client.inSlot(async () => {
      const execution = await this.#client.execute(text, [...window.params, ...params], { runId: this.#runId, checkId, purpose: 'check' }, true);
      const result = await this.#client.results(execution);
      return { ...result, scannedBytes: execution.scannedBytes };
    });
  }

  /**
   * Runs one statement without parameters (DDL: `setup athena --apply`) through the same client path as
   * the checks: idempotency token, throttling retries, polling, timeout. `label` names it in the token.
   */
  async runStatement(sql: string, label: string): Promise<{ queryExecutionId: string }> {
    if (!this.#runId) this.#runId = `setup-${randomBytes(8).toString('hex')}`;
    const execution = await this.#client.execute(sql, [], { runId: this.#runId, checkId: 'setup', purpose: label });
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
