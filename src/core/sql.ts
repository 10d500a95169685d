/**
 * Counts the positional `?` parameters of a query, ignoring string literals, quoted identifiers and
 * comments. Used to validate a check's declared parameters against its SQL when the catalog loads.
 */
export function countPlaceholders(sql: string): number {
  let count = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === "'" || ch === '"') {
      // Skip to the closing quote; a doubled quote is an escaped quote.
      i += 1;
      while (i < sql.length) {
        if (sql[i] === ch) {
          if (sql[i + 1] === ch) i += 2;
          else break;
        } else i += 1;
      }
      i += 1;
    } else if (ch === '-' && next === '-') {
      while (i < sql.length && sql[i] !== '\n') i += 1;
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else {
      if (ch === '?') count += 1;
      i += 1;
    }
  }
  return count;
}
