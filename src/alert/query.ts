import type { Check } from '../core/catalog.js';
import { ConfigError } from '../core/errors.js';
import { ROOT_CHECK_ID, rootAlertProblems } from '../core/root-alert-contract.js';

/**
 * The alert's query: the root_activity_7d check's own SQL, unchanged (so the report and the alert can never
 * disagree on what root use is), plus one column, `root_session`:
 * `assumed_root` when the event's access key was issued by an sts:AssumeRoot call (centralized root access:
 * the organization's management account or IAM delegated administrator took a short root session in a member
 * account), `root_user` otherwise (the account's own root credentials).
 *
 * CloudTrail also marks such sessions with `userIdentity.sessionContext.assumedRoot = "true"`, but that field is
 * not in the documented Athena table (nor in the DuckDB window's struct), so the query links the event to its
 * AssumeRoot call instead: that call's `responseElements.credentials.accessKeyId` is the event's
 * `userIdentity.accessKeyId`. The window is loaded 15 minutes early so the call is found (a session lasts at
 * most 900 s). Parameters: the check's own, `[window_start, window_end]`.
 */
export function rootAlertSql(rootCheck: Pick<Check, 'sql' | 'parameters'>): string {
  const inner = rootCheck.sql.trim().replace(/;\s*$/, '');
  return `WITH root_events AS (
${inner}
),
assume_root_keys AS (
  SELECT DISTINCT json_extract_scalar(responseelements, '$.credentials.accessKeyId') AS access_key_id
  FROM cloudtrail_window
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRoot' AND errorcode IS NULL
)
SELECT r.*,
  CASE WHEN k.access_key_id IS NULL THEN 'root_user' ELSE 'assumed_root' END AS root_session
FROM root_events r
JOIN cloudtrail_window w ON w.eventid = r.event_id
LEFT JOIN assume_root_keys k ON k.access_key_id = w.useridentity.accesskeyid
ORDER BY r.event_time, r.event_id`;
}

/**
 * The root check from the catalog (before overrides: disabling it in the report must not disable the alert).
 * The configuration's load already refused a catalogue that breaks the contract; this is the last line.
 */
export function rootCheckFrom(catalog: readonly Check[], jobKey: string): Check {
  const problems = rootAlertProblems(catalog, jobKey);
  const check = catalog.find((c) => c.id === ROOT_CHECK_ID);
  if (problems.length > 0 || !check) throw new ConfigError(jobKey, problems);
  return check;
}
