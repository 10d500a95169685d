/**
 * SQL text the Athena engine writes: literals, identifiers, idempotency tokens, the window CTE in front of
 * a check, and the names of the run-scoped window tables. Pure: no SDK, no clock.
 */
import { createHash } from 'node:crypto';
import type { ParamValue } from '../../core/model.js';
import { compactTime } from '../../core/time.js';

/** A SQL (and Hive DDL) string literal: single quotes, embedded quotes doubled. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A double-quoted identifier, embedded quotes doubled. */
export const quoteId = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * One value as Athena's `ExecutionParameters` want it: the SQL literal text, never a bare value.
 * Strings become `'...'` (quotes doubled), lists `ARRAY['a', 'b']`; an empty list needs its element type,
 * which a bare `ARRAY[]` lacks, so it is `CAST(ARRAY[] AS ARRAY(VARCHAR))`.
 */
export function toAthenaLiteral(value: ParamValue): string {
  if (typeof value === 'string') return sqlString(value);
  if (value.length === 0) return 'CAST(ARRAY[] AS ARRAY(VARCHAR))';
  return `ARRAY[${value.map(sqlString).join(', ')}]`;
}

/**
 * `ClientRequestToken` for one query of a run: the same run, check and purpose give the same token, so a
 * StartQueryExecution retried after a lost answer returns the first execution instead of starting a second.
 * 64 hex characters (Athena wants 32–128).
 */
export function requestToken(runId: string, checkId: string, purpose: string): string {
  return createHash('sha256').update(`trailwarden\n${runId}\n${checkId}\n${purpose}`).digest('hex');
}

/** Leading whitespace and SQL comments (`-- …` lines and `/* … *\/` blocks) of a statement. */
function leadingTrivia(sql: string): string {
  const m = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/.exec(sql);
  return m?.[0] ?? '';
}

/**
 * Puts `cloudtrail_window` in front of a check's SQL as a CTE, so the check text itself is never
 * rewritten. A check that starts with its own WITH (after comments) gets the window as its first CTE.
 * Parameters stay in text order: the window's `?` come before the check's.
 */
export function withWindowCte(windowSelect: string, checkSql: string): string {
  const lead = leadingTrivia(checkSql);
  const rest = checkSql.slice(lead.length);
  const opening = /^with(\s+recursive)?\s/i.exec(rest);
  if (opening) return `${lead}${opening[0]}cloudtrail_window AS (\n${windowSelect}\n),\n${rest.slice(opening[0].length)}`;
  return `WITH cloudtrail_window AS (\n${windowSelect}\n)\n${checkSql}`;
}

/** Every window table's name starts with this (and only theirs: clean-up lists tables by it). */
export const WINDOW_TABLE_PREFIX = 'trailwarden_window_';
/** `trailwarden_window_20261124t080000z_1a2b3c4d`: the run's UTC start, so leftovers can be aged. */
const TABLE_STAMP = /^trailwarden_window_(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})z(_[a-z0-9_]*)?$/;

/**
 * The run-scoped window table's name: lower-case letters, digits and `_` only (Glue's rule). It always starts
 * with a UTC stamp, so that close() and the clean-up of crashed runs recognise (and can age) it: a run id that
 * does not start with one gets `startedAt`'s stamp and a digest of the id.
 */
export function windowTableName(runId: string, startedAt: Date): string {
  const name = `${WINDOW_TABLE_PREFIX}${runId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 100)}`;
  if (windowTableTime(name) !== undefined) return name;
  const stamp = compactTime(startedAt).toLowerCase();
  return `${WINDOW_TABLE_PREFIX}${stamp}_${createHash('sha256').update(runId).digest('hex').slice(0, 16)}`;
}

/** Whether a table name has a window table's shape: the only tables trailwarden ever drops. */
export function isWindowTableName(name: string): boolean {
  return TABLE_STAMP.test(name);
}

/** When the run that created a window table started, from its name; undefined for names not ours. */
export function windowTableTime(name: string): Date | undefined {
  const m = TABLE_STAMP.exec(name);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return Number.isNaN(time.getTime()) ? undefined : time;
}
