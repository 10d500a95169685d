/**
 * What a run hands an engine to put the IAM inventory next to the window, and what it gets back. The engines'
 * implementations: `engines/duckdb-inventory.ts` (in place) and `engines/athena/inventory.ts` (aggregate on Athena,
 * join in-process).
 */
import type { ParamValue, QueryResult } from '../core/model.js';
import type { QueryContext } from '../engines/types.js';
import type { ActionCatalogue } from './action-catalogue.js';
import type { InventoryTable } from './tables.js';

export interface InventoryLoad {
  /** The inventory's own tables (`iam_roles`, `iam_users`, `iam_role_grants`). */
  readonly tables: readonly InventoryTable[];
  /** Ascending lookback starts of the inventory checks (see activity.ts), and the run's as-of. */
  readonly periodStarts: readonly string[];
  readonly end: string;
  /** Maps the activity's events to actions (`iam_event_actions`). */
  readonly catalogue: ActionCatalogue;
}

/** Events by IAM principals that map to no IAM action: counted and listed, never dropped silently. */
export interface UnmappedEvent {
  readonly eventSource: string;
  readonly eventName: string;
  readonly calls: number;
}

export interface ActivityFacts {
  /** Rows of `iam_activity`. */
  readonly activityRows: number;
  readonly unmappedEvents: readonly UnmappedEvent[];
  /** Bytes Athena scanned to aggregate the activity; absent on DuckDB. */
  readonly scannedBytes?: number;
}

/** Answers the inventory checks: the same interface as the engine's own query, over the inventory tables. */
export interface InventoryQueries {
  readonly facts: ActivityFacts;
  query(sql: string, params: readonly ParamValue[], context?: QueryContext): Promise<QueryResult>;
}
