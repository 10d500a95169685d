/**
 * The IAM inventory next to the window in a DuckDB database: its tables appended row by row (values never become SQL
 * text), `iam_activity` built from `cloudtrail_window` or from rows Athena aggregated, and `iam_event_actions` mapped
 * from the activity's events. Runs before the engine confines itself: afterwards nothing can be created.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { QueryResult } from '../core/model.js';
import { ACTIVITY_COLUMNS, activitySql } from '../inventory/activity.js';
import type { ActivityFacts, InventoryLoad } from '../inventory/engine-input.js';
import { actionsForEvent } from '../inventory/event-actions.js';
import { ACTIVITY_TABLE, eventActionsTable, type Cell, type CellType, type InventoryTable } from '../inventory/tables.js';

const quoteId = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Creates `table` and appends its rows with the appender (typed values, no SQL text). */
export async function createTable(c: DuckDBConnection, table: InventoryTable): Promise<void> {
  await c.run(`CREATE OR REPLACE TABLE ${quoteId(table.name)} (${table.columns.map((col) => `${quoteId(col.name)} ${col.type}`).join(', ')})`);
  const appender = await c.createAppender(table.name);
  try {
    for (const row of table.rows) {
      table.columns.forEach((column, i) => append(appender, column.type, row[i] ?? null));
      appender.endRow();
    }
  } finally {
    appender.closeSync();
  }
}

type Appender = Awaited<ReturnType<DuckDBConnection['createAppender']>>;

function append(appender: Appender, type: CellType, value: Cell): void {
  if (value === null) return appender.appendNull();
  if (type === 'BIGINT') return appender.appendBigInt(BigInt(value));
  if (type === 'BOOLEAN') return appender.appendBoolean(value === true || value === 'true');
  return appender.appendVarchar(String(value));
}

/** Athena's result (all text) as the activity table. */
function activityFromResult(result: QueryResult): InventoryTable {
  const index = ACTIVITY_COLUMNS.map((column) => result.columns.indexOf(column.name));
  const missing = ACTIVITY_COLUMNS.filter((_, i) => index[i] === -1).map((column) => column.name);
  if (missing.length > 0) throw new Error(`the activity aggregate lacks the column(s) ${missing.join(', ')}`);
  return { name: ACTIVITY_TABLE, columns: ACTIVITY_COLUMNS, rows: result.rows.map((row) => index.map((i) => row[i] ?? null)) };
}

/**
 * Materialises the inventory and the activity. `activity`: `window` builds it from `cloudtrail_window` in this
 * database (DuckDB engine); `sql`, with a statement of the same rows (from a store's rollups); `rows` takes Athena's
 * aggregate.
 */
export async function materialiseInventory(
  c: DuckDBConnection,
  load: InventoryLoad,
  activity: { readonly from: 'window' } | { readonly from: 'sql'; readonly sql: string } | { readonly from: 'rows'; readonly result: QueryResult },
): Promise<ActivityFacts> {
  for (const table of load.tables) await createTable(c, table);
  if (activity.from === 'window' || activity.from === 'sql') {
    await c.run(`CREATE OR REPLACE TABLE ${ACTIVITY_TABLE} AS ${activity.from === 'sql' ? activity.sql : activitySql(load.periodStarts, load.end)}`);
  } else {
    await createTable(c, activityFromResult(activity.result));
  }
  const pairs = (await c.runAndReadAll(`SELECT DISTINCT event_source, event_name FROM ${ACTIVITY_TABLE} WHERE principal_type IS NOT NULL ORDER BY ALL`))
    .getRowsJS()
    .map(([source, name]) => [source as string, name as string] as const);
  await createTable(
    c,
    eventActionsTable(pairs, (source, name) => actionsForEvent(source, name, load.catalogue)),
  );
  const unmapped = await c.runAndReadAll(
    `SELECT a.event_source, a.event_name, sum(a.calls) AS calls
     FROM ${ACTIVITY_TABLE} a JOIN iam_event_actions m ON m.event_source = a.event_source AND m.event_name = a.event_name
     WHERE a.principal_type IS NOT NULL AND m.action IS NULL
     GROUP BY ALL ORDER BY calls DESC, a.event_source, a.event_name`,
  );
  const [rows] = (await c.runAndReadAll(`SELECT count(*) FROM ${ACTIVITY_TABLE}`)).getRowsJS()[0] ?? [0];
  return {
    activityRows: Number(rows),
    unmappedEvents: unmapped
      .getRowsJS()
      .map(([eventSource, eventName, calls]) => ({ eventSource: eventSource as string, eventName: eventName as string, calls: Number(calls) })),
  };
}
