/**
 * SQL text the Athena engine writes: literals, identifiers, idempotency tokens, the window CTE in front of
 * a check, and the names of the run-scoped window tables. Pure: no SDK, no clock.
 */
import { createHash } from 'node:crypto';
import type { ParamValue } from '../../core/model.js';
import { QueryParameterError } from '../../core/errors.js';
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

/** Athena's limit on one `ExecutionParameters` entry (StartQueryExecution API reference: 1–1,024 characters). */
export const MAX_PARAMETER_LENGTH = 1024;

/**
 * The offsets of the `?` placeholders of a statement: outside string literals, quoted identifiers and comments,
 * in text order.
 */
export function placeholderOffsets(sql: string): number[] {
  const offsets: number[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') {
      // A quote doubled inside is the quote itself, so scanning to the next lone one is enough.
      i += 1;
      while (i < sql.length && !(sql[i] === c && sql[i + 1] !== c)) i += sql[i] === c ? 2 : 1;
      i += 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i += 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else {
      if (c === '?') offsets.push(i);
      i += 1;
    }
  }
  return offsets;
}

/**
 * Binds values to a statement's `?` so that no execution parameter is longer than Athena's 1,024 characters: a list
 * whose `ARRAY[…]` literal would be longer is bound as `concat(?, ?, …)` of arrays that each fit (Trino's `concat`
 * joins arrays), so a `string_list` option of any length works. The statement's text changes only at those `?`.
 * A single string (or list item) that does not fit throws QueryParameterError.
 */
export function bindParameters(sql: string, values: readonly ParamValue[]): { sql: string; params: string[] } {
  const offsets = placeholderOffsets(sql);
  const params: string[] = [];
  const replacements: { at: number; text: string }[] = [];
  values.forEach((value, index) => {
    const literal = toAthenaLiteral(value);
    if (literal.length <= MAX_PARAMETER_LENGTH) {
      params.push(literal);
      return;
    }
    if (typeof value === 'string') throw tooLong(index, literal.length);
    const chunks: string[][] = [[]];
    for (const item of value) {
      if (toAthenaLiteral([item]).length > MAX_PARAMETER_LENGTH) throw tooLong(index, toAthenaLiteral([item]).length);
      const current = chunks.at(-1)!;
      if (current.length > 0 && toAthenaLiteral([...current, item]).length > MAX_PARAMETER_LENGTH) chunks.push([item]);
      else current.push(item);
    }
    params.push(...chunks.map(toAthenaLiteral));
    const at = offsets[index];
    if (at !== undefined) replacements.push({ at, text: `concat(${chunks.map(() => '?').join(', ')})` });
  });
  let text = sql;
  for (const { at, text: replacement } of replacements.reverse()) text = `${text.slice(0, at)}${replacement}${text.slice(at + 1)}`;
  return { sql: text, params };
}

function tooLong(index: number, length: number): QueryParameterError {
  return new QueryParameterError(
    `execution parameter ${index + 1} is ${length} characters as a SQL literal; Athena takes at most ${MAX_PARAMETER_LENGTH}, and a single value cannot be split`,
  );
}
