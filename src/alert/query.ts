import type { Check } from '../core/catalog.js';
import { ConfigError } from '../core/errors.js';
import { ROOT_CHECK_ID, rootAlertProblems } from '../core/root-alert-contract.js';

/**
 * The alert's query: the root_activity_7d check's own SQL, unchanged (so the report and the alert can never
 * disagree on what root use is), plus two columns:
 * - `access_key_id`: the event's `userIdentity.accessKeyId`, part of what identifies an event logged without an
 *   eventID (see alertKey in model.ts);
 * - `root_session`: `assumed_root` when that key was issued by an sts:AssumeRoot call (centralized root access:
 *   the organization's management account or IAM delegated administrator took a short root session in a member
 *   account), `root_user` otherwise (the account's own root credentials).
 *
 * The check's result has no access key, so each of its rows is matched back to its window row: on the event's
 * id *and* its fields, compared NULL-safe (`IS NOT DISTINCT FROM`, in Trino and DuckDB alike), because CloudTrail
 * logs some events without an eventID and a join on the id alone would drop them. Both joins are LEFT joins:
 * whatever the check returns is alerted, even a row that matches nothing (it is then labelled root user).
 *
 * CloudTrail also marks AssumeRoot sessions with `userIdentity.sessionContext.assumedRoot = "true"`, but that
 * field is not in the documented Athena table (nor in the DuckDB window's struct), so the query links the event
 * to its AssumeRoot call instead: that call's `responseElements.credentials.accessKeyId` is the event's
 * `userIdentity.accessKeyId`. The window is loaded 15 minutes early so the call is found (a session lasts at
 * most 900 s). Parameters: the check's own, `[window_start, window_end]`.
 */
export function rootAlertSql(rootCheck: Pick<Check, 'sql' | 'parameters'>): string {
  const inner = rootCheck.sql.trim().replace(/;\s*$/, '');
  return `WITH root_events AS (
${inner}
),
root_credentials AS (
  SELECT DISTINCT eventid, eventtime, account, awsregion, eventsource, eventname, sourceipaddress, useragent, errorcode,
    useridentity.accesskeyid AS access_key_id
  FROM cloudtrail_window
  WHERE eventtime IN (SELECT event_time FROM root_events)
),
assume_root_keys AS (
  SELECT DISTINCT json_extract_scalar(responseelements, '$.credentials.accessKeyId') AS access_key_id
  FROM cloudtrail_window
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRoot' AND errorcode IS NULL
)
SELECT r.*,
  c.access_key_id AS access_key_id,
  CASE WHEN k.access_key_id IS NULL THEN 'root_user' ELSE 'assumed_root' END AS root_session
FROM root_events r
LEFT JOIN root_credentials c
  ON c.eventtime = r.event_time AND c.account = r.account
  AND c.eventid IS NOT DISTINCT FROM r.event_id
  AND c.awsregion IS NOT DISTINCT FROM r.region
  AND c.eventsource IS NOT DISTINCT FROM r.event_source
  AND c.eventname IS NOT DISTINCT FROM r.event_name
  AND c.sourceipaddress IS NOT DISTINCT FROM r.source_ip
  AND c.useragent IS NOT DISTINCT FROM r.user_agent
  AND c.errorcode IS NOT DISTINCT FROM r.error_code
LEFT JOIN assume_root_keys k ON k.access_key_id = c.access_key_id
ORDER BY r.event_time, r.event_id, c.access_key_id`;
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
