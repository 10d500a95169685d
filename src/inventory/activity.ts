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

/**
 * The aggregate over `[periods[0], end)`. `periodStarts`: ascending lookback starts (the earliest first).
 * Trino and DuckDB read it alike (the DuckDB engine's shims give it `json_extract_scalar`).
 */
export function activitySql(periodStarts: readonly string[], end: string): string {
  const starts = [...new Set(periodStarts)].sort();
  if (starts.length === 0) throw new Error('activitySql: no period');
  const period = `CASE ${[...starts]
    .reverse()
    .map((start) => `WHEN eventtime >= ${literal(start)} THEN ${literal(start)}`)
    .join(' ')} END`;
  return `SELECT
  ${period} AS period_start,
  account,
  CASE WHEN ${ROLE_SESSION} THEN 'Role' WHEN ${IAM_USER} THEN 'IAMUser' END AS principal_type,
  CASE WHEN ${ROLE_SESSION} THEN useridentity.sessioncontext.sessionissuer.arn WHEN ${IAM_USER} THEN useridentity.arn END AS principal_arn,
  CASE WHEN ${ROLE_SESSION} THEN regexp_extract(useridentity.arn, '[^/]+$') END AS session_name,
  eventsource AS event_source,
  eventname AS event_name,
  coalesce(eventcategory, 'Management') AS event_category,
  CASE WHEN ${ASSUME_ROLE} THEN json_extract_scalar(requestparameters, '$.roleArn') END AS assumed_role_arn,
  CASE WHEN errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%'
         OR (${consoleLogin(bare)} AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Failure') THEN 'failed' ELSE 'ok' END AS outcome,
  count(*) AS calls,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM cloudtrail_window
WHERE eventtime >= ${literal(starts[0]!)} AND eventtime < ${literal(end)}
  AND ((${ROLE_SESSION}) OR (${IAM_USER}) OR (${ASSUME_ROLE}) OR eventcategory = 'Data')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`;
}
