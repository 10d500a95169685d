import type { Check, Severity } from './catalog.js';
import type { QueryResult, WindowStats } from './model.js';

/**
 * `incomplete`: a threshold check whose result is within its limit, judged on input that was not complete (a log
 * file of the window could not be read, records were dropped or had no time). It is not a pass: the missing
 * events might have crossed the limit. A result above the limit is `fail` whatever is missing.
 */
export type Status = 'pass' | 'fail' | 'error' | 'incomplete' | 'not_run' | 'info';

/**
 * Every status, in the order reports list them: what needs attention first. `not_run`: the check needs something the
 * run lacks (an IAM inventory); it is never a pass, and not a failure for `--fail-on` either: nothing was judged.
 */
export const STATUSES: readonly Status[] = ['fail', 'error', 'incomplete', 'not_run', 'pass', 'info'];

/** The facts of the window that say whether a check saw all of its input. */
export type InputFacts = Pick<WindowStats, 'filesSkipped' | 'recordsDropped' | 'recordsWithoutTime'>;

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * What of the window's input is missing, in words ("1 file and 3 records of the window could not be read"), or
 * undefined when nothing is. Skipped files and dropped records hide events outright; a record without an
 * eventTime may belong to the window, so it counts as missing too. An eventID conflict keeps every record, so it
 * hides nothing and does not count (the report lists conflicts). Every check sees the same gaps: a file is
 * skipped for the whole run window, not per check.
 */
export function incompleteInput(input: InputFacts): string | undefined {
  const dropped = input.recordsDropped.reduce((sum, d) => sum + d.count, 0);
  const unread = [...(input.filesSkipped.length > 0 ? [count(input.filesSkipped.length, 'file')] : []), ...(dropped > 0 ? [count(dropped, 'record')] : [])];
  const parts = [
    ...(unread.length > 0 ? [`${unread.join(' and ')} of the window could not be read`] : []),
    ...(input.recordsWithoutTime > 0 ? [`${count(input.recordsWithoutTime, 'record')} had no eventTime`] : []),
  ];
  return parts.length > 0 ? parts.join(' and ') : undefined;
}

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
  /** An errored check's query that scanned data before it was cancelled (a timeout): billed by Athena all the same. */
  readonly scannedBytes?: number;
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

/**
 * Judges a check's result against its threshold. Pure. Fails closed: a result within the limit passes only on
 * complete input; otherwise it is `incomplete` (or `fail`, when the check says `on_incomplete: fail`).
 */
export function evaluate(check: Check, result: QueryResult, input: InputFacts): Finding {
  const base = { checkId: check.id, title: check.title, severity: check.severity };
  // The declared columns are a contract (CSV header, the root alert's reads): a result of another shape is not judged.
  if (result.columns.join(',') !== check.columns.join(',')) {
    return checkError(check, `the query returned the columns (${result.columns.join(', ')}), but check.yaml declares (${check.columns.join(', ')})`);
  }
  const rows = result.rows.length;
  const missing = incompleteInput(input);
  if (check.evaluation.kind === 'info') {
    const reason = `${rows} row(s); informational, no threshold` + (missing ? `; input incomplete: ${missing}, so rows may be missing` : '');
    return { ...base, status: 'info', observed: rows, threshold: null, reason, result };
  }
  const { metric, fail_above: limit } = check.evaluation;
  const label = metricLabel(metric);
  const threshold = `fails when ${label} > ${limit}`;
  const observed = observe(metric, result);
  if (typeof observed === 'string') return { ...checkError(check, observed), threshold };
  // Rows found are rows found: above the limit fails, complete input or not.
  if (observed > limit) return { ...base, status: 'fail', observed, threshold, reason: `${label} = ${observed}, above the limit of ${limit}`, result };
  const within = `${label} = ${observed}, within the limit of ${limit}`;
  if (!missing) return { ...base, status: 'pass', observed, threshold, reason: within, result };
  const status = check.on_incomplete;
  const consequence = status === 'fail' ? 'this check fails on incomplete input (on_incomplete: fail)' : 'a pass needs complete input';
  return { ...base, status, observed, threshold, reason: `${within}, but ${missing}: ${consequence}`, result };
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

/** A check the run could not run, because it needs something the run lacks (the IAM inventory): never a pass. */
export function notRun(check: Pick<Check, 'id' | 'title' | 'severity' | 'evaluation'>, reason: string): Finding {
  return { ...checkError(check, reason), status: 'not_run' };
}
