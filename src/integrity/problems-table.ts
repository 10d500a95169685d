/**
 * The log integrity problems as the table `log_integrity_problems`, answered by a DuckDB instance of its own (the
 * same way Athena answers the inventory checks in-process): the check's SQL stays data, whatever the run's engine.
 */
import type { Logger } from 'pino';
import { LOG_INTEGRITY_TABLE } from '../core/catalog.js';
import type { IntegrityProblem } from '../core/integrity.js';
import type { ParamValue, QueryResult } from '../core/model.js';
import { DuckDbEngine } from '../engines/duckdb.js';
import type { InventoryTable } from '../inventory/tables.js';

/** The table's columns, all text: what the check's query reads. */
export const LOG_INTEGRITY_COLUMNS = ['problem', 'account', 'region', 'object_key', 'observed_at', 'detail'] as const;

export function problemsTable(problems: readonly IntegrityProblem[]): InventoryTable {
  return {
    name: LOG_INTEGRITY_TABLE,
    columns: LOG_INTEGRITY_COLUMNS.map((name) => ({ name, type: 'VARCHAR' as const })),
    rows: problems.map((p) => [p.problem, p.account, p.region, p.objectKey, p.observedAt, p.detail]),
  };
}

/** Runs one check's SQL over the problems, in a fresh single-threaded DuckDB that is closed afterwards. */
export async function queryProblems(sql: string, params: readonly ParamValue[], problems: readonly IntegrityProblem[], log: Logger): Promise<QueryResult> {
  const engine = await DuckDbEngine.create({ threads: 1 }, log.child({ engine: 'log-integrity' }));
  try {
    await engine.loadTables([problemsTable(problems)]);
    return await engine.query(sql, params);
  } finally {
    await engine.close();
  }
}
