/**
 * The window's SQL: which raw log rows belong to the run (`rawWindowRows`), where the checks and the
 * summary read them from (`windowRows`: the run's table in `ctas` mode, the raw logs in `direct` mode),
 * the `cloudtrail_window` the checks see, and the summary counts.
 */
import { CLOUDTRAIL_COLUMNS, type CloudTrailColumn } from '../../core/cloudtrail-table.js';
import { deliveryDaysFor, toCloudTrailTime, type TimeWindow } from '../../core/time.js';
import { quoteId } from './sql.js';

/** A statement and the values of its `?`, in text order. */
export interface SqlText {
  readonly sql: string;
  readonly params: readonly string[];
}

/** The run's window: the columns to load, the date partitions to read, the eventTime range. */
export interface WindowPlan {
  readonly columns: readonly CloudTrailColumn[];
  readonly firstDay: string;
  readonly lastDay: string;
  readonly start: string;
  readonly end: string;
}

/** Where the window's rows are. */
export interface WindowSource {
  /** The CloudTrail table, quoted (`"db"."table"`). */
  readonly logs: string;
  /** Partition filters; unset or empty reads every account / region. */
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
  /** `"$path"`s of objects Athena could not read: left out of every read of the raw logs. */
  readonly excluded: readonly string[];
  /** The run's window table, quoted (`ctas` mode); unset: every read goes to the raw logs (`direct` mode). */
  readonly table?: string;
  /**
   * Only objects whose `"$path"` lies in this range, both ends included: a probe of part of the window, used to find
   * an object Athena cannot read when its error names none.
   */
  readonly pathRange?: { readonly from: string; readonly to: string };
}

/** The plan of a window; the columns in table order (all of them when unset). */
export function windowPlan(window: TimeWindow, columns: readonly CloudTrailColumn[] = CLOUDTRAIL_COLUMNS): WindowPlan {
  const days = deliveryDaysFor(window);
  return {
    columns: CLOUDTRAIL_COLUMNS.filter((c) => columns.includes(c)),
    firstDay: days[0]!,
    lastDay: days.at(-1)!,
    start: toCloudTrailTime(window.start),
    end: toCloudTrailTime(window.end),
  };
}

/**
 * The raw logs of the window, de-duplicated: the date partition filter (so Athena reads only those days'
 * folders), the eventTime filter (records without a time are kept, to be counted), the account/region
 * filters, and the objects found unreadable. `copy_number` > 1 marks a second delivery of an eventID.
 */
export function rawWindowRows(plan: WindowPlan, source: WindowSource): SqlText {
  const cols = plan.columns.map(quoteId).join(', ');
  const where = ['"timestamp" BETWEEN ? AND ?', '(eventtime IS NULL OR (eventtime >= ? AND eventtime < ?))'];
  const params = [plan.firstDay, plan.lastDay, plan.start, plan.end];
  const inList = (column: string, values: readonly string[] | undefined, negate = false) => {
    if (!values || values.length === 0) return;
    where.push(`${column} ${negate ? 'NOT IN' : 'IN'} (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  inList('account', source.accounts);
  inList('region', source.regions);
  inList('"$path"', source.excluded, true);
  if (source.pathRange) {
    where.push('"$path" BETWEEN ? AND ?');
    params.push(source.pathRange.from, source.pathRange.to);
  }
  const sql = `SELECT ${cols}, account, region, source_path, copy_number
FROM (
  SELECT ${cols}, account, region, "$path" AS source_path,
    CASE WHEN eventid IS NULL THEN 1
      ELSE row_number() OVER (PARTITION BY eventid, eventtime IS NULL ORDER BY "$path", eventtime) END AS copy_number
  FROM ${source.logs}
  WHERE ${where.join('\n    AND ')}
) AS raw_window`;
  return { sql, params };
}

/** The FROM item every read of the window uses: the run's table, or the raw logs read through `rawWindowRows`. */
function windowRows(plan: WindowPlan, source: WindowSource): SqlText {
  if (source.table !== undefined) return { sql: source.table, params: [] };
  const raw = rawWindowRows(plan, source);
  return { sql: `(\n${raw.sql}\n) AS w`, params: raw.params };
}

/** What checks see as `cloudtrail_window`, and the parameters its text needs first. */
export function checkWindowSelect(plan: WindowPlan, source: WindowSource): SqlText {
  const rows = windowRows(plan, source);
  const cols = plan.columns.map(quoteId).join(', ');
  return { sql: `SELECT ${cols}, account, region FROM ${rows.sql} WHERE copy_number = 1 AND eventtime IS NOT NULL`, params: rows.params };
}

/**
 * The summary of the window, one row per account and region: account, region, events, duplicates,
 * records without a time, data events, files read.
 */
export function windowStatsQuery(plan: WindowPlan, source: WindowSource): SqlText {
  const rows = windowRows(plan, source);
  const sql = `SELECT account, region,
  count_if(eventtime IS NOT NULL AND copy_number = 1) AS events,
  count_if(eventtime IS NOT NULL AND copy_number > 1) AS duplicates,
  count_if(eventtime IS NULL) AS without_time,
  count_if(eventtime IS NOT NULL AND copy_number = 1 AND eventcategory = 'Data') AS data_events,
  count(DISTINCT source_path) AS files
FROM ${rows.sql}
GROUP BY account, region
ORDER BY account, region`;
  return { sql, params: rows.params };
}

/** A probe over part of the raw window: counts its rows, which makes Athena read (and parse) every object in it. */
export function windowProbeQuery(plan: WindowPlan, source: WindowSource): SqlText {
  const raw = rawWindowRows(plan, { ...source, table: undefined });
  return { sql: `SELECT count(*) AS records FROM (\n${raw.sql}\n) AS probe`, params: raw.params };
}
