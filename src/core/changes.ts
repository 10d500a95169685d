/**
 * What changed since the previous run of the same job: status changes, new and gone rows per check (by the check's
 * `key_columns`), and each check's observed value over the last runs. Pure: the flow reads the archive and hands
 * the earlier runs' facts in; nothing here reads a file or a clock.
 */
import { z } from 'zod';
import type { Check } from './catalog.js';
import type { Finding, Status } from './evaluate.js';
import type { QueryResult } from './model.js';

/** The archived file holding each check's row keys, for the next run's comparison. */
export const ROW_KEYS_FILE = 'row-keys.json';
export const ROW_KEYS_SCHEMA = 'trailwarden.row-keys/v1';

/** A row's key: the values of the check's key columns (SQL NULL as null). */
export type RowKey = readonly (string | null)[];

/** `row-keys.json`: per check that had a result, its key columns and the distinct keys of its rows, sorted. */
export const RowKeysFile = z
  .object({
    schema: z.literal(ROW_KEYS_SCHEMA),
    run_id: z.string().min(1),
    checks: z.record(z.string(), z.object({ key_columns: z.array(z.string()).min(1), keys: z.array(z.array(z.string().nullable())) }).strict()),
  })
  .strict();
export type RowKeysFile = z.infer<typeof RowKeysFile>;

/** The columns that identify a check's rows from run to run: `key_columns`, or the whole row. */
export function keyColumnsOf(check: Pick<Check, 'columns' | 'key_columns'>): readonly string[] {
  return check.key_columns ?? check.columns;
}

function compareKeys(a: RowKey, b: RowKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    // NULL sorts first; otherwise by code unit, like the engines' ORDER BY on strings.
    if (x === null) return -1;
    if (y === null) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The distinct keys of a result's rows, sorted. Columns are found by name, so the result's column order does not matter. */
export function rowKeysOf(keyColumns: readonly string[], result: Pick<QueryResult, 'columns' | 'rows'>): RowKey[] {
  const indexes = keyColumns.map((column) => result.columns.indexOf(column));
  if (indexes.some((index) => index === -1)) throw new Error(`the result has no column ${keyColumns.filter((_, i) => indexes[i] === -1).join(', ')}`);
  const seen = new Map<string, RowKey>();
  for (const row of result.rows) {
    const key = indexes.map((index) => row[index] ?? null);
    seen.set(JSON.stringify(key), key);
  }
  return [...seen.values()].sort(compareKeys);
}

/** The row keys of every check of this run that has a result: the next run's baseline. */
export function buildRowKeys(runId: string, checks: readonly Check[], findings: readonly Finding[]): RowKeysFile {
  const byId = new Map(findings.map((finding) => [finding.checkId, finding]));
  const entries = checks.flatMap((check): [string, RowKeysFile['checks'][string]][] => {
    const result = byId.get(check.id)?.result;
    if (!result) return [];
    const keyColumns = keyColumnsOf(check);
    return [[check.id, { key_columns: [...keyColumns], keys: rowKeysOf(keyColumns, result).map((key) => [...key]) }]];
  });
  return { schema: ROW_KEYS_SCHEMA, run_id: runId, checks: Object.fromEntries(entries) };
}

/** What defines a check's results and judgement: a change of any of these makes another suite. */
function checkIdentity(check: Check): unknown {
  return {
    id: check.id,
    sql: check.sql,
    lookback_days: check.lookback_days,
    parameters: check.parameters,
    columns: check.columns,
    key_columns: keyColumnsOf(check),
    requires: check.requires ?? [],
    evaluation: check.evaluation,
    on_incomplete: check.on_incomplete,
    options: Object.fromEntries(Object.entries(check.optionValues).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/**
 * SHA-256 (hex) of what defines a check's result and judgement: its query, lookback, columns, key columns,
 * evaluation, `on_incomplete` and option values (after config overrides). Title, description, severity,
 * remediation and references are left out: they change the words, not the numbers. `sha256` comes from the caller.
 */
export function checkDigest(check: Check, sha256: (text: string) => string): string {
  return sha256(JSON.stringify(checkIdentity(check)));
}

/** SHA-256 (hex) of a suite: its check ids with their digests, in id order. Two runs of one suite judge alike. */
export function suiteDigest(checks: readonly { readonly id: string; readonly digest: string }[], sha256: (text: string) => string): string {
  return sha256(
    [...checks]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((check) => `${check.id} ${check.digest}\n`)
      .join(''),
  );
}

/** One earlier run, as the comparison needs it (from its verified manifest). */
export interface EarlierRun {
  readonly runId: string;
  readonly asOf: string;
  readonly location: string;
  /** Whether its input was complete: rows "gone" since an incomplete run may only have been unread then, and vice versa. */
  readonly inputComplete: boolean;
  readonly checks: readonly { readonly id: string; readonly status: Status; readonly observed: number | null; readonly digest?: string }[];
}

/**
 * What the archive held for this run's job, found by the flow:
 * - `baseline`: the previous run of the same job, configuration and suite, with its row keys (verified);
 * - `none`: no earlier run of this job and configuration;
 * - `other_suite`: the previous run of this job and configuration ran another suite (so no baseline);
 * - `unverified`: the previous run's files no longer match its manifest (so no baseline).
 * `trend` holds the earlier runs of the same job and suite, newest first (the baseline first when there is one).
 */
export type History =
  | { readonly kind: 'baseline'; readonly previous: EarlierRun; readonly rowKeys: RowKeysFile; readonly trend: readonly EarlierRun[] }
  | { readonly kind: 'none'; readonly trend: readonly EarlierRun[] }
  | { readonly kind: 'other_suite'; readonly previous: EarlierRun; readonly recordedSuite: boolean; readonly trend: readonly EarlierRun[] }
  | { readonly kind: 'unverified'; readonly previous: EarlierRun; readonly problem: string; readonly trend: readonly EarlierRun[] };

export type StatusChangeKind = 'newly_failing' | 'newly_erroring' | 'fixed' | 'newly_incomplete' | 'changed';

export interface StatusChange {
  readonly id: string;
  readonly title: string;
  readonly from: Status;
  readonly to: Status;
  readonly kind: StatusChangeKind;
  /** e.g. "newly failing". */
  readonly label: string;
  /** e.g. "newly failing: pass → fail". */
  readonly text: string;
}

export interface RowDelta {
  readonly id: string;
  readonly title: string;
  readonly keyColumns: readonly string[];
  readonly added: number;
  readonly removed: number;
  /** Up to `examples` keys of each, sorted, as display text (values joined with " · ", NULL as "NULL"). */
  readonly addedExamples: readonly string[];
  readonly removedExamples: readonly string[];
  /** Why there is no delta (a run without a result), or null. */
  readonly note: string | null;
}

export interface TrendPoint {
  readonly runId: string;
  readonly asOf: string;
  readonly observed: number | null;
  readonly status: Status | null;
  /** The bar's share of the series' largest value, 0–100 (0 for 0 or no value). */
  readonly percent: number;
  /** This run's own point. */
  readonly current: boolean;
}

export interface TrendSeries {
  readonly id: string;
  readonly title: string;
  /** Oldest first; the last point is this run. */
  readonly points: readonly TrendPoint[];
  /** "3 → 5 → 4" for the text part ("–" where a run had no value). */
  readonly text: string;
}

export type ChangesOutcome = 'compared' | 'no_previous_run' | 'other_suite' | 'baseline_unverified';

/** The "what changed" section of the report (and, compact, of the manifest). */
export interface ReportChanges {
  readonly outcome: ChangesOutcome;
  /** One sentence saying what this run was compared with, or why with nothing. */
  readonly summary: string;
  /** The run compared with (null unless `compared`); for `other_suite` and `baseline_unverified`, see `previousRunId`. */
  readonly comparedWith: { readonly runId: string; readonly asOf: string; readonly location: string } | null;
  /** The previous run of the job that was looked at, whether or not it could serve as the baseline. */
  readonly previousRunId: string | null;
  readonly statusChanges: readonly StatusChange[];
  /** The checks with new or gone rows, or with a note why their rows could not be compared; catalogue order. */
  readonly rowDeltas: readonly RowDelta[];
  /** The checks compared that have neither new nor gone rows. */
  readonly rowsUnchanged: readonly string[];
  /** Things that weaken the comparison (incomplete input on either side). */
  readonly notes: readonly string[];
  /** Runs the trend shows at most (this one included). */
  readonly trendRuns: number;
  /** Runs it does show. */
  readonly trendShown: number;
  readonly trend: readonly TrendSeries[];
}

/** What the comparison is built from. */
export interface ChangesInput {
  readonly runId: string;
  readonly asOf: string;
  /** This run's checks, in catalogue order, and their findings. */
  readonly checks: readonly Check[];
  readonly findings: readonly Finding[];
  /** Whether this run's input was complete. */
  readonly inputComplete: boolean;
  readonly history: History;
  /** At most this many keys shown per check for new and for gone rows. */
  readonly examples: number;
  /** Runs in the trend, this one included. */
  readonly trendRuns: number;
  /** This run's check digests by id (checkDigest), to name the checks that changed when the suite did. */
  readonly checkDigests?: Readonly<Record<string, string>>;
}

/** "newly failing", "fixed"… for a change of status. */
export function classifyStatusChange(from: Status, to: Status): StatusChangeKind {
  if (to === 'fail') return 'newly_failing';
  if (to === 'error') return 'newly_erroring';
  if (to === 'pass' && (from === 'fail' || from === 'error' || from === 'incomplete')) return 'fixed';
  if (to === 'incomplete') return 'newly_incomplete';
  return 'changed';
}

const KIND_TEXT: Readonly<Record<StatusChangeKind, string>> = {
  newly_failing: 'newly failing',
  newly_erroring: 'newly erroring',
  fixed: 'fixed',
  newly_incomplete: 'newly incomplete',
  changed: 'status changed',
};

/** A key as display text. */
export function keyText(key: RowKey): string {
  return key.map((value) => (value === null ? 'NULL' : value)).join(' · ');
}

/** New and gone keys between two sorted, distinct key lists (a merge: linear in both). */
export function diffKeys(previous: readonly RowKey[], current: readonly RowKey[]): { added: RowKey[]; removed: RowKey[] } {
  const added: RowKey[] = [];
  const removed: RowKey[] = [];
  let i = 0;
  let j = 0;
  while (i < previous.length || j < current.length) {
    if (i >= previous.length) added.push(current[j++]!);
    else if (j >= current.length) removed.push(previous[i++]!);
    else {
      const order = compareKeys(previous[i]!, current[j]!);
      if (order === 0) {
        i += 1;
        j += 1;
      } else if (order < 0) removed.push(previous[i++]!);
      else added.push(current[j++]!);
    }
  }
  return { added, removed };
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((column, index) => column === b[index]);
}

function rowDelta(check: Check, finding: Finding | undefined, previous: RowKeysFile, previousRun: EarlierRun, examples: number): RowDelta | undefined {
  const keyColumns = keyColumnsOf(check);
  const base = { id: check.id, title: check.title, keyColumns, added: 0, removed: 0, addedExamples: [], removedExamples: [] };
  const stored = previous.checks[check.id];
  // Neither run has rows (both errored or not run): nothing to say beyond their statuses.
  if (!finding?.result && !stored) return undefined;
  if (!finding?.result) return { ...base, note: `no result in this run (${finding?.status ?? 'missing'}): nothing to compare` };
  if (!stored) {
    const then = previousRun.checks.find((c) => c.id === check.id)?.status;
    return { ...base, note: `no result in run ${previousRun.runId}${then ? ` (${then})` : ''}: nothing to compare` };
  }
  // The suite digest covers key_columns, so this holds for a real baseline; a hand-edited file must not mislead.
  if (!sameColumns(stored.key_columns, keyColumns)) {
    return { ...base, note: `run ${previousRun.runId} kept other key columns (${stored.key_columns.join(', ')}): nothing to compare` };
  }
  const { added, removed } = diffKeys([...stored.keys].sort(compareKeys), rowKeysOf(keyColumns, finding.result));
  return {
    ...base,
    added: added.length,
    removed: removed.length,
    addedExamples: added.slice(0, examples).map(keyText),
    removedExamples: removed.slice(0, examples).map(keyText),
    note: null,
  };
}

function series(check: Check, finding: Finding | undefined, input: ChangesInput, trend: readonly EarlierRun[]): TrendSeries {
  const earlier = [...trend].reverse().map((run) => {
    const point = run.checks.find((c) => c.id === check.id);
    return { runId: run.runId, asOf: run.asOf, observed: point?.observed ?? null, status: point?.status ?? null, current: false };
  });
  const points = [...earlier, { runId: input.runId, asOf: input.asOf, observed: finding?.observed ?? null, status: finding?.status ?? null, current: true }];
  const max = Math.max(0, ...points.map((p) => p.observed ?? 0));
  return {
    id: check.id,
    title: check.title,
    points: points.map((p) => ({ ...p, percent: max > 0 && p.observed !== null ? Math.round((Math.max(0, p.observed) / max) * 100) : 0 })),
    text: points.map((p) => (p.observed === null ? '–' : String(p.observed))).join(' → '),
  };
}

/** Builds the "what changed" section. Pure. */
export function buildChanges(input: ChangesInput): ReportChanges {
  const { history } = input;
  const findings = new Map(input.findings.map((finding) => [finding.checkId, finding]));
  // The trend: earlier runs of the same job and suite, oldest first, then this one; at most trendRuns in all.
  const trend = history.trend.slice(0, Math.max(0, input.trendRuns - 1));
  const trendSeries = input.checks.map((check) => series(check, findings.get(check.id), input, trend));
  const common = { trendRuns: input.trendRuns, trendShown: trend.length + 1, trend: trendSeries };

  if (history.kind === 'none') {
    return {
      outcome: 'no_previous_run',
      summary: 'No previous run of this job with this configuration in the archive: nothing to compare with.',
      comparedWith: null,
      previousRunId: null,
      statusChanges: [],
      rowDeltas: [],
      rowsUnchanged: [],
      notes: [],
      ...common,
    };
  }
  const previous = history.previous;
  if (history.kind === 'other_suite') {
    const theirs = new Map(previous.checks.map((c) => [c.id, c.digest]));
    const ours = new Set(input.checks.map((c) => c.id));
    const added = input.checks.filter((c) => !theirs.has(c.id)).map((c) => c.id);
    const removed = previous.checks.filter((c) => !ours.has(c.id)).map((c) => c.id);
    const digests = input.checkDigests;
    const changed = digests ? input.checks.filter((c) => theirs.has(c.id) && theirs.get(c.id) !== digests[c.id]).map((c) => c.id) : [];
    const parts = [
      ...(added.length > 0 ? [`checks added: ${added.join(', ')}`] : []),
      ...(removed.length > 0 ? [`checks removed: ${removed.join(', ')}`] : []),
      ...(changed.length > 0 ? [`checks changed: ${changed.join(', ')}`] : []),
    ];
    const why = history.recordedSuite
      ? parts.length > 0
        ? parts.join('; ')
        : 'a check’s query, lookback, columns, key columns, evaluation or options changed'
      : 'its manifest records no suite (an earlier trailwarden)';
    return {
      outcome: 'other_suite',
      summary: `The previous run of this job, ${previous.runId} (as of ${previous.asOf}), ran a different suite of checks (${why}): no baseline, nothing compared.`,
      comparedWith: null,
      previousRunId: previous.runId,
      statusChanges: [],
      rowDeltas: [],
      rowsUnchanged: [],
      notes: [],
      ...common,
    };
  }
  if (history.kind === 'unverified') {
    return {
      outcome: 'baseline_unverified',
      summary: `The previous run of this job, ${previous.runId} (as of ${previous.asOf}), does not verify against its manifest (${history.problem}): not used as a baseline, nothing compared.`,
      comparedWith: null,
      previousRunId: previous.runId,
      statusChanges: [],
      rowDeltas: [],
      rowsUnchanged: [],
      notes: [],
      ...common,
    };
  }

  const before = new Map(previous.checks.map((c) => [c.id, c]));
  const statusChanges = input.checks.flatMap((check): StatusChange[] => {
    const from = before.get(check.id)?.status;
    const to = findings.get(check.id)?.status;
    if (from === undefined || to === undefined || from === to) return [];
    const kind = classifyStatusChange(from, to);
    return [{ id: check.id, title: check.title, from, to, kind, label: KIND_TEXT[kind], text: `${KIND_TEXT[kind]}: ${from} → ${to}` }];
  });
  const deltas = input.checks.flatMap((check) => rowDelta(check, findings.get(check.id), history.rowKeys, previous, input.examples) ?? []);
  const notes = [
    ...(previous.inputComplete ? [] : [`The input of run ${previous.runId} was incomplete: rows "new" since then may only have been unread then.`]),
    ...(input.inputComplete ? [] : ['The input of this run is incomplete: rows "gone" may only be unread now.']),
  ];
  return {
    outcome: 'compared',
    summary: `Compared with the previous run of this job, ${previous.runId} (as of ${previous.asOf}).`,
    comparedWith: { runId: previous.runId, asOf: previous.asOf, location: previous.location },
    previousRunId: previous.runId,
    statusChanges,
    rowDeltas: deltas.filter((d) => d.added > 0 || d.removed > 0 || d.note !== null),
    rowsUnchanged: deltas.filter((d) => d.added === 0 && d.removed === 0 && d.note === null).map((d) => d.id),
    notes,
    ...common,
  };
}
