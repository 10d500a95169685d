/**
 * `iam_activity`: the window's calls by IAM principals, aggregated — the one thing the inventory checks need of the
 * logs. Both engines build it with this one statement over `cloudtrail_window` (DuckDB in place; Athena as one query
 * whose small result is brought in-process), so the raw logs are still read once per run. Pure: SQL text only.
 *
 * Data events of any principal are kept too: they are the evidence that an account's data events were logged at all.
 * One row per (period, account, principal, session, eventSource, eventName, category, assumed role, outcome), the
 * outcome `failed` for a refused call or a failed console sign-in (no sign of use), `ok` otherwise. A period is
 * `[start, next start)` for the distinct lookback starts of the inventory checks, so that each check sums only
 * the periods inside its own lookback (`period_start >= window_start`) although the run's window may be longer.
 */
import type { CloudTrailColumn, RowCondition } from '../core/cloudtrail-table.js';
import type { CellType } from './tables.js';

export const ACTIVITY_COLUMNS: readonly { readonly name: string; readonly type: CellType }[] = [
  { name: 'period_start', type: 'VARCHAR' },
  { name: 'account', type: 'VARCHAR' },
  { name: 'principal_type', type: 'VARCHAR' },
  { name: 'principal_arn', type: 'VARCHAR' },
  { name: 'session_name', type: 'VARCHAR' },
  { name: 'event_source', type: 'VARCHAR' },
  { name: 'event_name', type: 'VARCHAR' },
  { name: 'event_category', type: 'VARCHAR' },
  { name: 'assumed_role_arn', type: 'VARCHAR' },
  { name: 'outcome', type: 'VARCHAR' },
  { name: 'calls', type: 'BIGINT' },
  { name: 'first_seen', type: 'VARCHAR' },
  { name: 'last_seen', type: 'VARCHAR' },
];

const CT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Our own times only, never an event's value: checked, then written as literals (no placeholders in SELECT lists on Athena). */
function literal(time: string): string {
  if (!CT_TIME.test(time)) throw new Error(`not a CloudTrail time: ${JSON.stringify(time)}`);
  return `'${time}'`;
}

const ROLE_SESSION = "useridentity.type = 'AssumedRole' AND useridentity.sessioncontext.sessionissuer.type = 'Role'";
const IAM_USER = "useridentity.type = 'IAMUser'";
const assumeRole: RowCondition = (c) => `${c('eventsource')} = 'sts.amazonaws.com' AND ${c('eventname')} LIKE 'AssumeRole%'`;
const consoleLogin: RowCondition = (c) => `${c('eventname')} = 'ConsoleLogin'`;
const bare = (name: CloudTrailColumn) => name;
const ASSUME_ROLE = assumeRole(bare);

/**
 * The records whose request parameters and response elements the aggregate reads (its SQL guards each use with the
 * same condition): an engine need not load those columns, 90 days long, for any other record.
 */
export const ACTIVITY_ROWS: Partial<Record<CloudTrailColumn, RowCondition>> = { requestparameters: assumeRole, responseelements: consoleLogin };

/** The key columns of the aggregate, after the period, as one SELECT list over a relation of CloudTrail records. */
const KEYS = `account,
  CASE WHEN ${ROLE_SESSION} THEN 'Role' WHEN ${IAM_USER} THEN 'IAMUser' END AS principal_type,
  CASE WHEN ${ROLE_SESSION} THEN useridentity.sessioncontext.sessionissuer.arn WHEN ${IAM_USER} THEN useridentity.arn END AS principal_arn,
  CASE WHEN ${ROLE_SESSION} THEN regexp_extract(useridentity.arn, '[^/]+$') END AS session_name,
  eventsource AS event_source,
  eventname AS event_name,
  coalesce(eventcategory, 'Management') AS event_category,
  CASE WHEN ${ASSUME_ROLE} THEN json_extract_scalar(requestparameters, '$.roleArn') END AS assumed_role_arn,
  CASE WHEN errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%'
         OR (${consoleLogin(bare)} AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Failure') THEN 'failed' ELSE 'ok' END AS outcome`;
const KEY_NAMES = ACTIVITY_COLUMNS.slice(1, -3).map((column) => column.name);
/** The records the aggregate counts. */
const COUNTED = `((${ROLE_SESSION}) OR (${IAM_USER}) OR (${ASSUME_ROLE}) OR eventcategory = 'Data')`;

/** The period of the records of each distinct lookback start (ascending), by `time`, a CloudTrail time. */
function periodOf(starts: readonly string[], time: string): string {
  return `CASE ${[...starts]
    .reverse()
    .map((start) => `WHEN ${time} >= ${literal(start)} THEN ${literal(start)}`)
    .join(' ')} END`;
}

function periodStartsOf(periodStarts: readonly string[]): string[] {
  const starts = [...new Set(periodStarts)].sort();
  if (starts.length === 0) throw new Error('activitySql: no period');
  return starts;
}

/**
 * The aggregate over `[periods[0], end)`. `periodStarts`: ascending lookback starts (the earliest first).
 * Trino and DuckDB read it alike (the DuckDB engine's shims give it `json_extract_scalar`). `from`: the records
 * (`cloudtrail_window` unless told), `where`: a further condition on them.
 */
export function activitySql(periodStarts: readonly string[], end: string, from = 'cloudtrail_window', where?: string): string {
  const starts = periodStartsOf(periodStarts);
  return `SELECT
  ${periodOf(starts, 'eventtime')} AS period_start,
  ${KEYS},
  count(*) AS calls,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM ${from}
WHERE eventtime >= ${literal(starts[0]!)} AND eventtime < ${literal(end)}
  AND ${COUNTED}${where === undefined ? '' : `\n  AND (${where})`}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`;
}

/**
 * The aggregate of `from`'s records per day of their eventTime (`event_day`, `YYYY-MM-DD`, in place of the period),
 * over all their times: what a store keeps beside each Parquet file (a "rollup"), so that a run sums the rollups of
 * the days wholly inside one period instead of reading 90 days of records (see `activityFromRollupsSql`). DuckDB only.
 * `alsoBy`: columns of `from` to keep apart as well (the conversion's partition number).
 */
export function activityByDaySql(from: string, alsoBy: readonly string[] = []): string {
  return `SELECT
  substr(eventtime, 1, 10) AS event_day,${alsoBy.map((column) => `\n  ${column},`).join('')}
  ${KEYS},
  count(*) AS calls,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM ${from}
WHERE eventtime IS NOT NULL AND ${COUNTED}
GROUP BY ALL`;
}

/**
 * `activitySql`'s aggregate, from rollups (`activityByDaySql` of every Parquet file of the window: `rollups`, a
 * relation) for the days wholly inside one period and inside `[periods[0], end)`, and from `cloudtrail_window`'s
 * records for the days a period start or `end` cuts. `removed`: the records the window leaves out as second
 * deliveries (a relation of stored records): the rollups counted them, so their calls are taken off again (their
 * times are those of the copy kept, so first and last seen stand). The same rows as `activitySql`.
 */
export function activityFromRollupsSql(periodStarts: readonly string[], end: string, rollups: string, removed: string | undefined): string {
  const starts = periodStartsOf(periodStarts);
  const dayOf = (time: string) => literal(time).slice(1, 11);
  // The days a boundary falls inside (not on midnight) are read from the records; a day a period starts on at
  // midnight is whole, and so is every day between two boundaries.
  const cutDays = [...new Set([...starts, end].filter((time) => !time.endsWith('T00:00:00Z')).map(dayOf))].sort();
  const cutList = cutDays.map((day) => `'${day}'`).join(', ');
  const whole = [`event_day >= '${dayOf(starts[0]!)}'`, `event_day < '${dayOf(end)}'`, ...(cutDays.length > 0 ? [`event_day NOT IN (${cutList})`] : [])].join(
    ' AND ',
  );
  // A whole day's period: the latest start on or before it (a start's own day is whole only if it starts at midnight).
  const period = `CASE ${[...starts]
    .reverse()
    .map((start) => `WHEN event_day >= '${dayOf(start)}' THEN ${literal(start)}`)
    .join(' ')} END`;
  const keys = KEY_NAMES.join(', ');
  const parts = [
    `SELECT ${period} AS period_start, ${keys}, calls, first_seen, last_seen FROM ${rollups} WHERE ${whole}`,
    ...(removed === undefined
      ? []
      : [
          `SELECT ${period} AS period_start, ${keys}, -calls AS calls, NULL AS first_seen, NULL AS last_seen FROM (${activityByDaySql(removed)}) WHERE ${whole}`,
        ]),
    ...(cutDays.length > 0 ? [activitySql(starts, end, 'cloudtrail_window', `substr(eventtime, 1, 10) IN (${cutList})`)] : []),
  ];
  return `SELECT period_start, ${keys}, CAST(sum(calls) AS BIGINT) AS calls, min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM (
${parts.join('\nUNION ALL\n')}
)
GROUP BY ALL`;
}
