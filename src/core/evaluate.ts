import type { Check, Severity } from './catalog.js';
import type { QueryResult, WindowStats } from './model.js';

export type Status = 'pass' | 'fail' | 'error' | 'info';

/** The judgement of one check. */
export interface Finding {
  readonly checkId: string;
  readonly title: string;
  readonly severity: Severity;
  readonly status: Status;
  /** The measured value (row count or column sum); null when the check errored. */
  readonly observed: number | null;
  /** Human form of the rule, e.g. "fails when rows > 10"; null for info checks. */
  readonly threshold: string | null;
  readonly reason: string;
  /** The full result; absent when the check errored. */
  readonly result?: QueryResult;
}

function metricLabel(metric: string): string {
  return metric === 'row_count' ? 'rows' : `sum of ${metric.slice('sum:'.length)}`;
}

function observe(metric: string, result: QueryResult): number | string {
  if (metric === 'row_count') return result.rows.length;
  const column = metric.slice('sum:'.length);
  const index = result.columns.indexOf(column);
  if (index === -1) return `the threshold sums column "${column}", which the query does not return (columns: ${result.columns.join(', ')})`;
  let total = 0;
  for (const row of result.rows) {
    const cell = row[index];
    if (cell === null || cell === undefined) continue;
    const value = Number(cell);
    if (!Number.isFinite(value)) return `column "${column}" holds "${cell}", expected a number`;
    total += value;
  }
  return total;
}

/** Judges a check's result against its threshold. Pure. */
export function evaluate(check: Check, result: QueryResult): Finding {
  const base = { checkId: check.id, title: check.title, severity: check.severity };
  // The declared columns are a contract (CSV header, the root alert's reads): a result of another shape is not judged.
  if (result.columns.join(',') !== check.columns.join(',')) {
    return checkError(check, `the query returned the columns (${result.columns.join(', ')}), but check.yaml declares (${check.columns.join(', ')})`);
  }
  const rows = result.rows.length;
  if (check.evaluation.kind === 'info') {
    return { ...base, status: 'info', observed: rows, threshold: null, reason: `${rows} row(s); informational, no threshold`, result };
  }
  const { metric, fail_above: limit } = check.evaluation;
  const label = metricLabel(metric);
  const threshold = `fails when ${label} > ${limit}`;
  const observed = observe(metric, result);
  if (typeof observed === 'string') return { ...checkError(check, observed), threshold };
  const failed = observed > limit;
  const reason = failed ? `${label} = ${observed}, above the limit of ${limit}` : `${label} = ${observed}, within the limit of ${limit}`;
  return { ...base, status: failed ? 'fail' : 'pass', observed, threshold, reason, result };
}

/**
 * Why no threshold can be judged on this window, when none can. A window without a single event proves
 * nothing — the trail may have stopped delivering, or the logs may be elsewhere — so "pass" would
 * be a false all-clear: such checks become `error` (informational checks still report their 0 rows).
 */
export function unjudgeableReason(stats: Pick<WindowStats, 'events' | 'filesRead' | 'filesSkipped'>): string | undefined {
  if (stats.events > 0) return undefined;
  if (stats.filesRead === 0 && stats.filesSkipped.length > 0) {
    return `none of the ${stats.filesSkipped.length} log file(s) of the window could be read: nothing to judge`;
  }
  return 'no CloudTrail events in the window: nothing to judge (is the trail delivering, and is the log location right?)';
}

/** A check that could not be evaluated. The run goes on with the other checks. */
export function checkError(check: Pick<Check, 'id' | 'title' | 'severity' | 'evaluation'>, message: string): Finding {
  const threshold = check.evaluation.kind === 'info' ? null : `fails when ${metricLabel(check.evaluation.metric)} > ${check.evaluation.fail_above}`;
  return { checkId: check.id, title: check.title, severity: check.severity, status: 'error', observed: null, threshold, reason: message };
}
