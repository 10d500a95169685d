import type { CloudTrailColumn, LoadFields, RowCondition } from '../core/cloudtrail-table.js';
import type { ParamValue, QueryResult, WindowStats } from '../core/model.js';
import type { TimeWindow } from '../core/time.js';
import type { InventoryLoad, InventoryQueries } from '../inventory/engine-input.js';
import type { LogFile, LogSource } from '../source/types.js';

/** What an engine loads: the run's window and the delivery files that may hold its events. */
export interface WindowInput {
  /** The run's id: names run-scoped resources (Athena's window table, query tokens). */
  readonly runId?: string;
  readonly window: TimeWindow;
  readonly files: readonly LogFile[];
  /**
   * The columns to load (what the checks use); default: all of them. Struct columns may come pruned to the fields
   * the queries name (`fieldsUsedBy`); an engine that loads whole columns takes the names.
   */
  readonly columns?: readonly CloudTrailColumn[] | LoadFields;
  /**
   * Columns no query needs before a time (`columnsSince`): an engine may load them as NULL in earlier records, and
   * then shows each check only its own window (`QueryContext.windowStart`), so no check sees such a NULL.
   */
  readonly since?: Partial<Record<CloudTrailColumn, string>>;
  /** Records before a column's `since` that must hold it all the same (`columnsWhere`); the others may be NULL. */
  readonly where?: Partial<Record<CloudTrailColumn, RowCondition>>;
  /**
   * Where `files` come from. An engine with a store (`fetchesOnDemand`) names the store's partitions after it, and has
   * it fetch only the files it must convert (the files were listed without fetching).
   */
  readonly source?: WindowSource;
  /**
   * Log files whose content hash the run needs (log file validation) and which it may take while it reads them
   * anyway: the DuckDB engine converting into its store hashes the `wanted` files of each chunk beside the conversion
   * (on S3, before their download is released) and hands each hash to `hashed`. Validation then neither reads nor
   * downloads those files again.
   */
  readonly hashing?: {
    readonly wanted: (file: LogFile) => boolean;
    readonly hashed: (file: LogFile, sha256: string) => void;
  };
}

/** What an engine with a store needs of the log source. */
export type WindowSource = Pick<LogSource, 'describe' | 'fetch' | 'release'>;

/** How a conversion into the store advances (for a progress bar or periodic log lines). */
export interface ConvertProgress {
  readonly phase: 'start' | 'progress' | 'end';
  readonly partitions: number;
  /** Gzip bytes of delivery files to convert, and converted so far. */
  readonly bytes: number;
  readonly doneBytes: number;
}

/** Who is asking: lets an engine name its queries (Athena's idempotency token, logs). */
export interface QueryContext {
  readonly runId: string;
  readonly checkId: string;
  /** The start of the check's own window (`YYYY-MM-DDTHH:MM:SSZ`): an engine may show the check no earlier event. */
  readonly windowStart?: string;
}

/**
 * Runs the checks' SQL. A run loads its window once into `cloudtrail_window` (Athena column names),
 * then every check queries that table.
 */
export interface QueryEngine {
  readonly kind: string;
  /** True when loadWindow reads `files[].path` on local disk (DuckDB); false when it reads the bucket itself (Athena). */
  readonly readsLocalFiles: boolean;
  /**
   * True when the engine keeps a store and reads raw files only to convert what is not stored yet: the source then
   * lists without fetching, and the engine fetches through `WindowInput.source`.
   */
  readonly fetchesOnDemand?: boolean;
  /** How many `query` calls may run at once (Athena); absent means one at a time. */
  readonly concurrency?: number;
  /** Reads the raw logs once and materialises `cloudtrail_window`. Unreadable files are skipped and counted. */
  loadWindow(input: WindowInput): Promise<WindowStats>;
  /**
   * Materialises the IAM inventory and the window's activity aggregate (after loadWindow, before the first query),
   * without reading the raw logs again; what it returns answers the checks that need the inventory.
   */
  loadInventory(load: InventoryLoad): Promise<InventoryQueries>;
  /** Runs one check's SQL with its `?` placeholders bound to `params`, in order. */
  query(sql: string, params: readonly ParamValue[], context?: QueryContext): Promise<QueryResult>;
  /** Engines with a store: converts the partitions of `files` (all of them with `force`), as `store rebuild` does. */
  syncStore?(files: readonly LogFile[], source: WindowSource, options?: { force?: boolean }): Promise<{ partitions: number; files: number }>;
  /** Frees everything the engine holds (also after a failure). */
  close(): Promise<void>;
}
