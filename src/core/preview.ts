/**
 * How a check's result rows are previewed in the e-mail: how many rows, and how each column fits the 600–800 px a
 * mail client gives. The CSV evidence always keeps every row and every value whole. Pure.
 */
import type { Status } from './evaluate.js';

/**
 * Characters a preview row may take, every cell's padding included: about 700 px of 11 px monospace, the width of
 * the report's page at 800 px.
 */
export const PREVIEW_LINE_CHARS = 96;
/** A column whose values all fit this (an ISO time, an account id, a region, a count) is shown whole, never wrapped. */
export const SHORT_COLUMN_CHARS = 20;
/** A long column in the grid is at least this wide (its values then take two lines of it). */
export const LONG_COLUMN_MIN_CHARS = 16;
/** A long value is shortened to at most this: a user agent, an ARN or an event id stays recognisable. */
export const LONG_COLUMN_MAX_CHARS = 64;
/** What a cell's padding and borders take, in characters. */
const CELL_PADDING_CHARS = 2;
/** A long column in the grid gets two lines of its share of the row. */
const LONG_COLUMN_LINES = 2;
/** The full value shown on hover (a `title`) is cut here too: the CSV has it whole, and the e-mail must stay small. */
export const TITLE_MAX_CHARS = 256;

/**
 * Rows shown for a check that did not fail (informational, passed, not run): their rows are context, and a suite
 * has many of them. Failing checks (fail, error, incomplete) show `report.preview_rows` (default 10).
 */
export const QUIET_PREVIEW_ROWS = 2;
/** Rows of a check's per-group tally (check.yaml `summary`) shown at most; the CSV has every row to tally again. */
export const SUMMARY_PREVIEW_ROWS = 50;

/**
 * Entries of the report's own lists (unreadable files, dropped records, eventID conflicts, the inventory's unknown
 * policies and unmapped events) shown in the HTML; the text part and report.txt list every one. A day of corrupt
 * files is hundreds of paths.
 */
export const LIST_PREVIEW_ROWS = 20;

/**
 * The most the e-mail's HTML part may weigh. Gmail clips a message whose HTML passes about 102 KB ("[Message
 * clipped]") and hides everything after the cut, the later checks included; this leaves room under it.
 */
export const HTML_BUDGET_BYTES = 96 * 1024;

/** How much each section previews: rows of failing (`loud`) and other (`quiet`) checks, and rows of tallies. */
export interface PreviewLimits {
  readonly loud: number;
  readonly quiet: number;
  readonly summaryRows: number;
  /** New and gone rows named per check in "changes since the previous run" (the counts stay complete). */
  readonly changeExamples: number;
}

/**
 * The previews to try, most generous first, until the HTML fits HTML_BUDGET_BYTES: the first keeps what the report
 * model holds (report.preview_rows for failing checks, QUIET_PREVIEW_ROWS for the others); each next one takes rows
 * from the informational checks before the failing ones, and names fewer of the new and gone rows since the previous
 * run (their counts stay). The last shows no rows at all: every check still says how
 * many rows it has and where the CSV is.
 */
export const PREVIEW_STEPS: readonly PreviewLimits[] = [
  { loud: Infinity, quiet: Infinity, summaryRows: SUMMARY_PREVIEW_ROWS, changeExamples: Infinity },
  { loud: 5, quiet: 1, summaryRows: 20, changeExamples: 3 },
  { loud: 3, quiet: 0, summaryRows: 10, changeExamples: 2 },
  { loud: 2, quiet: 0, summaryRows: 5, changeExamples: 1 },
  { loud: 1, quiet: 0, summaryRows: 5, changeExamples: 1 },
  { loud: 0, quiet: 0, summaryRows: 0, changeExamples: 0 },
];

const LOUD: ReadonlySet<Status> = new Set<Status>(['fail', 'error', 'incomplete']);

/** How many result rows a check of `status` shows under `limits`. */
export function previewRowLimit(status: Status, limits: Pick<PreviewLimits, 'loud' | 'quiet'>): number {
  return LOUD.has(status) ? limits.loud : limits.quiet;
}

/** The limits a report is built with, from `report.preview_rows`. */
export function configuredLimits(previewRows: number): Pick<PreviewLimits, 'loud' | 'quiet'> {
  return { loud: previewRows, quiet: Math.min(previewRows, QUIET_PREVIEW_ROWS) };
}

/** How one column of a preview table is shown. */
export interface PreviewColumn {
  readonly name: string;
  /**
   * `short`: every shown value fits SHORT_COLUMN_CHARS and is shown whole on one line. `long`: a column of the grid
   * whose values over `limit` characters are shortened in the middle and may wrap. `detail`: a long column of a
   * table too wide for the grid, shown (shortened, labelled) on a line of its own under each row.
   */
  readonly kind: 'short' | 'long' | 'detail';
  /** The most characters a value shows; null for short columns. */
  readonly limit: number | null;
}

/** The characters a column needs on one line: its longest value, and its header's longest part (it wraps at `_`). */
function widthOf(name: string, values: readonly string[]): { header: number; values: number } {
  return {
    header: Math.max(0, ...name.split('_').map((part, i, parts) => part.length + (i < parts.length - 1 ? 1 : 0))),
    values: Math.max(0, ...values.map((value) => [...value].length)),
  };
}

/**
 * How each column of a preview fits PREVIEW_LINE_CHARS. Short columns are shown whole. When the long ones fit
 * beside them at LONG_COLUMN_MIN_CHARS or more, they share what is left of the row (two lines each, at most
 * LONG_COLUMN_MAX_CHARS); when they do not (a wide table such as root activity's eleven columns), the short columns
 * keep the grid and the long ones go under each row, so that no column is squeezed into wrapping letter by letter.
 */
export function planColumns(columns: readonly string[], rows: readonly (readonly string[])[]): PreviewColumn[] {
  const widths = columns.map((name, i) =>
    widthOf(
      name,
      rows.map((row) => row[i] ?? ''),
    ),
  );
  const short = widths.map((w) => w.values <= SHORT_COLUMN_CHARS);
  const shortChars = widths.reduce((sum, w, i) => sum + (short[i] ? Math.max(w.values, w.header) : 0), 0);
  const longCount = short.filter((s) => !s).length;
  // What the short columns leave of the row.
  const left = PREVIEW_LINE_CHARS - shortChars - CELL_PADDING_CHARS * columns.length;
  const share = longCount === 0 ? 0 : Math.floor(left / longCount);
  // A table of long columns only stays a grid: there is nothing to put the details under.
  const grid = share >= LONG_COLUMN_MIN_CHARS || longCount === columns.length;
  const limit = grid ? Math.min(LONG_COLUMN_MAX_CHARS, Math.max(LONG_COLUMN_MIN_CHARS, share) * LONG_COLUMN_LINES) : LONG_COLUMN_MAX_CHARS;
  // Under the rows, a long first column (the row's key: a principal, a role) keeps its place when it has room.
  const keyLimit = !grid && !short[0] && left >= LONG_COLUMN_MIN_CHARS ? Math.min(LONG_COLUMN_MAX_CHARS, left * LONG_COLUMN_LINES) : null;
  return columns.map((name, i): PreviewColumn => {
    if (short[i]) return { name, kind: 'short', limit: null };
    if (i === 0 && keyLimit !== null) return { name, kind: 'long', limit: Math.min(keyLimit, widths[i]!.values) };
    return { name, kind: grid ? 'long' : 'detail', limit: Math.min(limit, widths[i]!.values) };
  });
}

/**
 * `value` in at most `limit` characters: whole when it fits; else prose (words, no `/`) keeps its start, and
 * anything else (an ARN, a user agent, a path) its start and end around the ellipsis, since the end names the role,
 * the version or the file. Counts code points, so no character is cut in half.
 */
export function shorten(value: string, limit: number): string {
  const chars = [...value];
  if (chars.length <= limit) return value;
  if (limit <= 1) return '…';
  const keep = limit - 1;
  if (/\s/.test(value) && !value.includes('/')) return `${chars.slice(0, keep).join('').trimEnd()}…`;
  const head = Math.ceil(keep / 2);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (keep - head)).join('')}`;
}

/** A shortened value's full text for a `title`, itself cut at TITLE_MAX_CHARS; null when the value was shown whole. */
export function fullTitle(value: string, limit: number | null): string | null {
  if (limit === null || [...value].length <= limit) return null;
  return shorten(value, TITLE_MAX_CHARS);
}

/** 1234 → "1,234": counts in sentences read at a glance. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
