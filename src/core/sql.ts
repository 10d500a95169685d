/** Where a quoted or commented span that starts at `i` ends (the index after it), or undefined when none starts there. */
function skipQuotedOrComment(sql: string, i: number): number | undefined {
  const ch = sql[i];
  const next = sql[i + 1];
  if (ch === "'" || ch === '"') {
    // An E'…' string takes backslash escapes (E'it\'s'); every quoted text takes a doubled quote.
    const escapes = ch === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
    let j = i + 1;
    while (j < sql.length) {
      if (escapes && sql[j] === '\\') j += 2;
      else if (sql[j] === ch && sql[j + 1] === ch) j += 2;
      else if (sql[j] === ch) return j + 1;
      else j += 1;
    }
    return sql.length;
  }
  if (ch === '-' && next === '-') {
    const end = sql.indexOf('\n', i);
    return end === -1 ? sql.length : end + 1;
  }
  if (ch === '/' && next === '*') {
    // Block comments nest, as in PostgreSQL and DuckDB: /* a /* b */ still a comment */.
    let depth = 0;
    let j = i;
    while (j < sql.length) {
      if (sql[j] === '/' && sql[j + 1] === '*') {
        depth += 1;
        j += 2;
      } else if (sql[j] === '*' && sql[j + 1] === '/') {
        depth -= 1;
        j += 2;
        if (depth === 0) return j;
      } else j += 1;
    }
    return sql.length;
  }
  if (ch === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
    // Dollar-quoted text: $$…$$ or $tag$…$tag$ (a tag does not start with a digit: $1 is a parameter).
    const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i))?.[0];
    if (tag === undefined) return undefined;
    const end = sql.indexOf(tag, i + tag.length);
    return end === -1 ? sql.length : end + tag.length;
  }
  return undefined;
}

/**
 * Counts the positional `?` parameters of a query, ignoring string literals (also E'…' and dollar-quoted
 * text), quoted identifiers and comments (also nested ones), as DuckDB's scanner does. Used to validate a
 * check's declared parameters against its SQL when the catalog loads.
 */
export function countPlaceholders(sql: string): number {
  let count = 0;
  let i = 0;
  while (i < sql.length) {
    const skipped = skipQuotedOrComment(sql, i);
    if (skipped !== undefined) {
      i = skipped;
      continue;
    }
    if (sql[i] === '?') count += 1;
    i += 1;
  }
  return count;
}
