import { stringify } from 'csv-stringify/sync';
import type { QueryResult } from '../core/model.js';

/**
 * Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection"). CloudTrail
 * values such as userAgent or user names are attacker-controlled, so such cells get a leading
 * apostrophe: shown as text, never evaluated.
 */
const FORMULA_START = /^[=+\-@\t\r\0]/;
/**
 * A line break followed by a formula character. Each line of a multi-line cell is a cell start to a reader that
 * splits lines before it honours quotes (and a lone CR or LF is a line break to most), so each gets the prefix.
 */
const FORMULA_AFTER_LINE_BREAK = /(\r\n|\r|\n)(?=[=+\-@\t\r\0])/g;
/** Cells quoted on top of csv-stringify's own rule, which quotes only the record delimiter (CRLF), not a lone CR or LF. */
const LINE_BREAK = /[\r\n]/;

export function neutraliseCell(value: string): string {
  const start = FORMULA_START.test(value) ? `'${value}` : value;
  return LINE_BREAK.test(value) ? start.replace(FORMULA_AFTER_LINE_BREAK, "$1'") : start;
}

/** RFC 4180 CSV (CRLF, quotes where needed), UTF-8, header row first; SQL NULL becomes an empty cell. */
export function toCsv(result: QueryResult): string {
  const rows = result.rows.map((row) => row.map((cell) => (cell === null ? '' : neutraliseCell(cell))));
  return stringify([result.columns.map(neutraliseCell), ...rows], { record_delimiter: '\r\n', eof: true, quoted_match: LINE_BREAK });
}
