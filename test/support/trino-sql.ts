/**
 * The Athena test server's SQL front end: what Athena (Trino) refuses, refused here too, and what it accepts,
 * translated to DuckDB by rules of this file alone. It borrows nothing from the DuckDB engine's Trino shims
 * (src/engines/duckdb.ts): a mistake shared by both would pass both engines' tests.
 *
 * Refused, each with an error shaped like Athena's:
 * - `?` parameters outside a WHERE clause (Athena user guide, "Use parameterized queries": "? parameters can be placed
 *   only in the WHERE clause"), in queries and in a CTAS's SELECT alike, and a parameter count that differs from the `?`;
 * - backquoted identifiers (Trino: "backquoted identifiers are not supported; use double quotes");
 * - DuckDB-only syntax: `::` casts, `ILIKE`, `GLOB`, `QUALIFY`, `GROUP BY ALL` / `ORDER BY ALL`, `SELECT * EXCLUDE`,
 *   list literals `[…]` without ARRAY, struct literals `{…}`, `$n` parameters, `->>`, `**`, `//`;
 * - any function Trino does not have: only the functions listed in TRINO_FUNCTIONS are known (a Trino function
 *   missing from the list is refused too: add it with its DuckDB equivalent when a check needs it);
 * - comparing a timestamp with a varchar: every string literal and parameter is typed VARCHAR in the translation,
 *   so DuckDB's implicit string-to-timestamp cast never happens (Trino has none).
 */

export interface Token {
  readonly kind: 'string' | 'quoted' | 'backquoted' | 'word' | 'number' | 'param' | 'symbol' | 'space' | 'comment';
  readonly text: string;
  readonly at: number;
}

/** Splits SQL into tokens; strings and quoted identifiers keep their doubled quotes. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const quoted = (quote: string): number => {
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === quote && sql[j + 1] === quote) j += 2;
      else if (sql[j] === quote) return j + 1;
      else j += 1;
    }
    return sql.length;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    let end: number;
    let kind: Token['kind'];
    if (c === "'") [kind, end] = ['string', quoted("'")];
    else if (c === '"') [kind, end] = ['quoted', quoted('"')];
    else if (c === '`') [kind, end] = ['backquoted', quoted('`')];
    else if (c === '-' && sql[i + 1] === '-') [kind, end] = ['comment', sql.indexOf('\n', i) < 0 ? sql.length : sql.indexOf('\n', i)];
    else if (c === '/' && sql[i + 1] === '*') [kind, end] = ['comment', sql.indexOf('*/', i + 2) < 0 ? sql.length : sql.indexOf('*/', i + 2) + 2];
    else if (/\s/.test(c)) [kind, end] = ['space', i + /^\s+/.exec(sql.slice(i))![0].length];
    else if (/[A-Za-z_]/.test(c)) [kind, end] = ['word', i + /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))![0].length];
    else if (/[0-9]/.test(c)) [kind, end] = ['number', i + /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(sql.slice(i))![0].length];
    else if (c === '?') [kind, end] = ['param', i + 1];
    else {
      const op = /^(::|->>|->|\*\*|\/\/|<>|<=|>=|!=|\|\||.)/s.exec(sql.slice(i))![0];
      [kind, end] = ['symbol', i + op.length];
    }
    tokens.push({ kind, text: sql.slice(i, end), at: i });
    i = end;
  }
  return tokens;
}

/**
 * Trino functions the server knows, each with the DuckDB function that does the same (see TRINO_MACROS for the
 * `tw_` ones, written here from Trino's documentation). A function not listed is FUNCTION_NOT_FOUND.
 */
const TRINO_FUNCTIONS: Readonly<Record<string, string>> = {
  // aggregate and window
  count: 'count',
  count_if: 'count_if',
  sum: 'sum',
  min: 'min',
  max: 'max',
  avg: 'avg',
  arbitrary: 'arbitrary',
  bool_and: 'bool_and',
  bool_or: 'bool_or',
  max_by: 'max_by',
  min_by: 'min_by',
  array_agg: 'array_agg',
  approx_distinct: 'approx_count_distinct',
  row_number: 'row_number',
  rank: 'rank',
  dense_rank: 'dense_rank',
  lag: 'lag',
  lead: 'lead',
  first_value: 'first_value',
  last_value: 'last_value',
  // conditional
  coalesce: 'coalesce',
  nullif: 'nullif',
  if: 'if',
  greatest: 'greatest',
  least: 'least',
  // string
  lower: 'lower',
  upper: 'upper',
  length: 'length',
  substr: 'substr',
  substring: 'substring',
  trim: 'trim',
  ltrim: 'ltrim',
  rtrim: 'rtrim',
  replace: 'replace',
  strpos: 'strpos',
  split_part: 'split_part',
  starts_with: 'starts_with',
  concat: 'concat',
  reverse: 'reverse',
  regexp_like: 'tw_regexp_like',
  regexp_extract: 'regexp_extract',
  regexp_replace: 'tw_regexp_replace',
  array_sort: 'list_sort',
  // arrays
  cardinality: 'tw_cardinality',
  contains: 'contains',
  element_at: 'element_at',
  array_join: 'tw_array_join',
  // JSON
  json_extract_scalar: 'tw_json_extract_scalar',
  json_array_length: 'json_array_length',
  // date and time
  from_iso8601_timestamp: 'tw_from_iso8601_timestamp',
  date_add: 'tw_date_add',
  date_diff: 'date_diff',
  date_trunc: 'date_trunc',
  // math
  abs: 'abs',
  round: 'round',
  floor: 'floor',
  ceil: 'ceil',
  ceiling: 'ceiling',
};

/** The DuckDB macros behind the `tw_` names, from Trino's documentation of each function. */
export const TRINO_MACROS: readonly string[] = [
  // The scalar at a JSONPath, as varchar; NULL for an object, an array, a missing path or text that is not JSON.
  `CREATE MACRO tw_json_extract_scalar(json_text, json_path) AS
     CASE WHEN NOT json_valid(json_text) THEN NULL
          WHEN json_type(json_text, json_path) IN ('OBJECT', 'ARRAY') THEN NULL
          ELSE json_extract_string(json_text, json_path) END`,
  // The number of elements of an array (DuckDB's own `cardinality` is for maps).
  `CREATE MACRO tw_cardinality(items) AS array_length(items)`,
  // Trino's regexp_like finds the pattern anywhere in the string.
  `CREATE MACRO tw_regexp_like(text, pattern) AS regexp_matches(text, pattern)`,
  `CREATE MACRO tw_array_join(items, delimiter) AS array_to_string(items, delimiter)`,
  // Trino's regexp_replace replaces every match (DuckDB's only the first, without the 'g' option).
  `CREATE MACRO tw_regexp_replace(text, pattern, replacement) AS regexp_replace(text, pattern, replacement, 'g')`,
  // ISO 8601 text to a timestamp with time zone; text that is not one fails the query, as in Trino.
  `CREATE MACRO tw_from_iso8601_timestamp(text) AS CAST(text AS TIMESTAMPTZ)`,
  // date_add(unit, value, timestamp).
  `CREATE MACRO tw_date_add(unit, amount, ts) AS
     CASE lower(unit) WHEN 'second' THEN ts + to_seconds(amount) WHEN 'minute' THEN ts + to_minutes(amount)
          WHEN 'hour' THEN ts + to_hours(amount) WHEN 'day' THEN ts + to_days(amount)
          WHEN 'week' THEN ts + to_weeks(amount) WHEN 'month' THEN ts + to_months(amount)
          WHEN 'year' THEN ts + to_years(amount) END`,
];

/** Words followed by `(` that are syntax, not function calls. */
const NOT_FUNCTIONS = new Set(
  (
    'and or not in exists as on using over filter values where from select join with cast try_cast row array map varchar decimal char ' +
    'varbinary timestamp time date partition by then else when case unnest within grouping rollup cube sets table lateral all any some ' +
    'distinct interval order having union intersect except limit offset fetch escape like between is null end cross inner left right full ' +
    'outer natural extract position group window'
  ).split(' '),
);

/** Clause keywords, to tell where a `?` stands. */
const CLAUSES = new Set([
  'select',
  'from',
  'where',
  'group',
  'having',
  'order',
  'limit',
  'offset',
  'on',
  'using',
  'join',
  'values',
  'with',
  'partition',
  'window',
]);

/** Type keywords whose string literal is a typed literal (`TIMESTAMP '…'`): left as it is. */
const TYPED_LITERALS = new Set(['interval', 'timestamp', 'date', 'time', 'decimal', 'json', 'varchar', 'char', 'x']);

/** A statement Athena would refuse: the message is the query's StateChangeReason. */
export class TrinoSqlError extends Error {}

function position(sql: string, at: number): string {
  const before = sql.slice(0, at).split('\n');
  return `line ${before.length}:${before.at(-1)!.length + 1}`;
}

const significant = (tokens: readonly Token[]) => tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');

/**
 * Checks a SELECT (or WITH … SELECT) the way Athena would, and throws TrinoSqlError for what it refuses.
 * `parameterCount` is the number of ExecutionParameters sent with it.
 */
export function checkTrinoSql(sql: string, parameterCount: number): void {
  const all = tokenize(sql);
  const tokens = significant(all);
  const fail = (token: Token, message: string): never => {
    throw new TrinoSqlError(`${message.startsWith('FUNCTION_NOT_FOUND') ? '' : 'SYNTAX_ERROR: '}${message.replace('@', position(sql, token.at))}`);
  };
  const lower = (t: Token | undefined) => (t?.kind === 'word' ? t.text.toLowerCase() : t?.text);
  // Frames of parentheses, each with the clause it is in; a `?` belongs to the nearest clause outward.
  const frames: (string | undefined)[] = [undefined];
  let params = 0;
  tokens.forEach((token, index) => {
    const word = lower(token);
    const prev = lower(tokens[index - 1]);
    const next = lower(tokens[index + 1]);
    if (token.kind === 'backquoted') fail(token, '@: backquoted identifiers are not supported; use double quotes to quote identifiers');
    if (token.kind === 'symbol' && ['::', '->>', '**', '//', '{', '}', '$'].includes(token.text)) fail(token, `@: mismatched input '${token.text}'`);
    if (token.text === '[') {
      // Trino: `ARRAY[…]` and subscripts (`x[1]`, `f(x)[1]`); a bare `[…]` is DuckDB's list literal.
      const before = tokens[index - 1];
      const subscript =
        before?.kind === 'quoted' ||
        (before?.kind === 'symbol' && [')', ']'].includes(before.text)) ||
        (before?.kind === 'word' && (prev === 'array' || (!NOT_FUNCTIONS.has(prev!) && !CLAUSES.has(prev!))));
      if (!subscript) fail(token, `@: mismatched input '['`);
    }
    if (token.kind === 'word') {
      if (['ilike', 'glob', 'qualify'].includes(word!)) fail(token, `@: mismatched input '${token.text}'`);
      if (word === 'exclude' && prev === '*') fail(token, `@: mismatched input '${token.text}'`);
      if (word === 'all' && prev === 'by' && ['group', 'order'].includes(lower(tokens[index - 2]) ?? '')) {
        if (next === undefined || [')', ';', 'order', 'having', 'limit', 'window', 'union'].includes(next)) fail(token, `@: mismatched input '${token.text}'`);
      }
      if (next === '(' && !NOT_FUNCTIONS.has(word!) && prev !== 'as' && prev !== '.') {
        // `name (a, b) AS (…)` is a WITH item's column list, not a call.
        let depth = 0;
        let close = index + 1;
        for (; close < tokens.length; close += 1) {
          if (tokens[close]!.text === '(') depth += 1;
          if (tokens[close]!.text === ')' && --depth === 0) break;
        }
        const cteColumns = lower(tokens[close + 1]) === 'as' && tokens[close + 2]?.text === '(';
        if (!cteColumns && !(word! in TRINO_FUNCTIONS)) fail(token, `FUNCTION_NOT_FOUND: @: Function '${word}' not registered`);
      }
      if (CLAUSES.has(word!)) frames[frames.length - 1] = word === 'join' ? 'from' : word;
    }
    if (token.text === '(') frames.push(undefined);
    if (token.text === ')') frames.pop();
    if (token.kind === 'param') {
      params += 1;
      const clause = [...frames].reverse().find((f) => f !== undefined);
      if (clause !== 'where') fail(token, `@: parameters are only supported in the WHERE clause (found one in ${clause?.toUpperCase() ?? 'no clause'})`);
    }
  });
  if (params !== parameterCount) throw new TrinoSqlError(`Incorrect number of parameters: expected ${params} but found ${parameterCount}`);
}

/**
 * The DuckDB text of a statement `checkTrinoSql` accepted: Trino functions by their DuckDB names, every string literal
 * and parameter typed VARCHAR (or VARCHAR[] for array parameters), so no implicit cast turns text into a timestamp.
 */
export function toDuckDbSql(sql: string, parameterKinds: readonly ('string' | 'array')[]): string {
  const tokens = tokenize(sql);
  let param = 0;
  let previous: Token | undefined;
  return tokens
    .map((token, index) => {
      let text = token.text;
      const next = tokens.slice(index + 1).find((t) => t.kind !== 'space' && t.kind !== 'comment');
      if (token.kind === 'string' && !(previous?.kind === 'word' && TYPED_LITERALS.has(previous.text.toLowerCase()))) text = `CAST(${text} AS VARCHAR)`;
      if (token.kind === 'param') text = parameterKinds[param++] === 'array' ? 'CAST(? AS VARCHAR[])' : 'CAST(? AS VARCHAR)';
      if (token.kind === 'word' && next?.text === '(' && TRINO_FUNCTIONS[token.text.toLowerCase()] && previous?.text !== '.')
        text = TRINO_FUNCTIONS[token.text.toLowerCase()]!;
      if (token.kind !== 'space' && token.kind !== 'comment') previous = token;
      return text;
    })
    .join('');
}

/** DuckDB's type errors in Trino's words: comparing a timestamp with a varchar is TYPE_MISMATCH there too. */
export function trinoError(duckDbMessage: string): string {
  const m = /Cannot compare values of type (.+?) and type (.+?)(?: - |$)/.exec(duckDbMessage);
  if (m) return `TYPE_MISMATCH: Cannot apply operator: ${m[1]!.toLowerCase()} vs ${m[2]!.toLowerCase()}`;
  return duckDbMessage.split('\n')[0]!.trim();
}
