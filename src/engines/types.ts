import type { CloudTrailColumn } from '../core/cloudtrail-table.js';
import type { ParamValue, QueryResult, WindowStats } from '../core/model.js';
import type { TimeWindow } from '../core/time.js';
import type { InventoryLoad, InventoryQueries } from '../inventory/engine-input.js';
import type { LogFile } from '../source/types.js';

/** What an engine loads: the run's window and the delivery files that may hold its events. */
export interface WindowInput {
  /** The run's id: names run-scoped resources (Athena's window table, query tokens). */
  readonly runId?: string;
  readonly window: TimeWindow;
  readonly files: readonly LogFile[];
  /** The columns to load (what the checks use); default: all of them. */
  readonly columns?: readonly CloudTrailColumn[];
}

/** Who is asking: lets an engine name its queries (Athena's idempotency token, logs). */
export interface QueryContext {
  readonly runId: string;
  readonly checkId: string;
}

/**
 * Runs the checks' SQL. A run loads its window once into `cloudtrail_window` (Athena column names),
 * then every check queries that table.
 */
export interface QueryEngine {
  readonly kind: string;
  /** True when loadWindow reads `files[].path` on local disk (DuckDB); false when it reads the bucket itself (Athena). */
  readonly readsLocalFiles: boolean;
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
  /** Frees everything the engine holds (also after a failure). */
  close(): Promise<void>;
}
