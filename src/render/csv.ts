import { stringify } from 'csv-stringify/sync';
import type { QueryResult } from '../core/model.js';

/**
 * Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection"). CloudTrail
 * values such as userAgent or user names are attacker-controlled, so such cells get a leading
 * apostrophe: shown as text, never evaluated.
 */
const FORMULA_START = /^[=+\-@\t\r\0]/;

export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** RFC 4180 CSV (CRLF, quotes where needed), UTF-8, header row first; SQL NULL becomes an empty cell. */
export function toCsv(result: QueryResult): string {
  const rows = result.rows.map((row) => row.map((cell) => (cell === null ? '' : neutraliseCell(cell))));
  return stringify([result.columns.map(neutraliseCell), ...rows], { record_delimiter: '\r\n', eof: true });
}
