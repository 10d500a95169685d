/**
 * What the root alert relies on in the catalogue: it runs the `root_activity_7d` check's own query (so the report
 * and the alert can never disagree on what root use is) and reads these columns of its result. Checked when the
 * configuration loads, so that editing the check cannot silently break the alert.
 */
import type { Check } from './catalog.js';

/** The check whose SQL defines "root activity" (CIS 4.3) for the report and the alert alike. */
export const ROOT_CHECK_ID = 'root_activity_7d';

/** The columns of that check's result the alert reads (it adds `root_session` itself). */
export const ROOT_ALERT_COLUMNS = [
  'event_time',
  'account',
  'region',
  'event_source',
  'event_name',
  'source_ip',
  'user_agent',
  'mfa_authenticated',
  'access',
  'error_code',
  'event_id',
] as const;

/** The parameters the alert binds to the check's query, in order. */
export const ROOT_ALERT_PARAMETERS = ['window_start', 'window_end'] as const;

/** Why the catalogue cannot serve a root alert configured at `jobKey`; empty when it can. */
export function rootAlertProblems(catalog: readonly Pick<Check, 'id' | 'parameters' | 'columns'>[], jobKey: string): string[] {
  const check = catalog.find((c) => c.id === ROOT_CHECK_ID);
  if (!check) return [`${jobKey}: the root alert reuses the check ${ROOT_CHECK_ID}, which is missing from the checks folder (or invalid)`];
  const problems: string[] = [];
  if (check.parameters.join(',') !== ROOT_ALERT_PARAMETERS.join(',')) {
    problems.push(
      `${jobKey}: the root alert binds [${ROOT_ALERT_PARAMETERS.join(', ')}] to ${ROOT_CHECK_ID}'s query, whose parameters are [${check.parameters.join(', ')}]`,
    );
  }
  const missing = ROOT_ALERT_COLUMNS.filter((column) => !check.columns.includes(column));
  if (missing.length > 0) {
    problems.push(
      `${jobKey}: the root alert reads the columns ${missing.join(', ')} of ${ROOT_CHECK_ID}, which its check.yaml does not declare (columns: ${check.columns.join(', ')})`,
    );
  }
  return problems;
}
