/**
 * The IAM inventory on Athena: Athena aggregates the window's activity (one query over the run's window table in
 * `ctas` mode — never the raw logs again), and the small aggregate is joined with the inventory in-process, in a
 * DuckDB instance of its own that then answers the inventory checks.
 *
 * Why in-process rather than inventory tables in Glue: a role's grants expand to thousands of rows (an
 * AdministratorAccess role alone to every action of the catalogue), far more than an Athena query's text can carry
 * as VALUES, and uploading them as a table needs Glue and S3 writes that `direct` mode deliberately does without.
 * The activity aggregate, by contrast, is small and is the only part that needs the logs.
 */
import type { Logger } from 'pino';
import type { QueryResult } from '../../core/model.js';
import { activitySql } from '../../inventory/activity.js';
import type { InventoryLoad, InventoryQueries } from '../../inventory/engine-input.js';
import { DuckDbEngine } from '../duckdb.js';

/** What the Athena engine lends: its own query path (window CTE, idempotency token, polling, timeout). */
export type AthenaQuery = (sql: string, checkId: string) => Promise<QueryResult>;

/** Aggregates on Athena, loads everything into a fresh in-process DuckDB; the caller closes `local` with the engine. */
export async function loadAthenaInventory(query: AthenaQuery, load: InventoryLoad, log: Logger): Promise<{ queries: InventoryQueries; local: DuckDbEngine }> {
  const result = await query(activitySql(load.periodStarts, load.end), 'iam-activity');
  // One thread: a few thousand rows; the machine's cores belong to the run's other work.
  const local = await DuckDbEngine.create({ threads: 1 }, log.child({ engine: 'inventory' }));
  try {
    const queries = await local.loadInventory(load, { from: 'rows', result });
    // Athena runs checks concurrently; the in-process database answers one query at a time (one connection, one
    // transaction per query), so its queries wait in line.
    let queue: Promise<unknown> = Promise.resolve();
    const query: InventoryQueries['query'] = (sql, params, context) => {
      const next = queue.then(() => queries.query(sql, params, context));
      queue = next.catch(() => undefined);
      return next;
    };
    return { local, queries: { query, facts: { ...queries.facts, scannedBytes: result.scannedBytes } } };
  } catch (error) {
    await local.close();
    throw error;
  }
}
