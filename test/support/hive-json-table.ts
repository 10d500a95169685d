/**
 * The Athena test server's CloudTrail table, built the way Athena builds it: from the DDL column list that
 * `setup athena` gives Athena, and Hive's JsonSerDe rules for reading the delivery files. Nothing here comes
 * from the DuckDB engine (its read type, key spellings or casts), so a mistake there shows up as a difference
 * between the engines in the tests instead of passing both.
 *
 * JsonSerDe rules emulated:
 * - JSON keys match column and struct field names case-insensitively (Athena's names are lower case);
 *   keys the DDL does not declare are ignored; map keys are data and are kept as written.
 * - A STRING column or field holding an object or array gets that value's JSON text (with its original keys);
 *   a number or boolean gets its text.
 * - A value whose shape contradicts the DDL (a struct that is a string, an array that is an object…) makes
 *   the object unreadable, as do gzip and JSON syntax errors.
 */
import { gunzipSync } from 'node:zlib';

/** A Hive type of the DDL. */
export type HiveType =
  | { readonly kind: 'string' }
  | { readonly kind: 'struct'; readonly fields: readonly HiveColumn[] }
  | { readonly kind: 'array'; readonly of: HiveType }
  | { readonly kind: 'map'; readonly key: HiveType; readonly value: HiveType };

export interface HiveColumn {
  readonly name: string;
  readonly type: HiveType;
}

/** Parses a `CREATE EXTERNAL TABLE` column list: `name TYPE, …` with STRING, STRUCT<…>, ARRAY<…>, MAP<…,…>. */
export function parseHiveColumns(columnList: string): HiveColumn[] {
  const tokens = columnList.match(/[A-Za-z_][A-Za-z0-9_]*|[<>,:]/g) ?? [];
  let at = 0;
  const next = (): string => {
    const token = tokens[at++];
    if (token === undefined) throw new Error('Hive DDL: unexpected end of the column list');
    return token;
  };
  const expect = (wanted: string) => {
    const token = next();
    if (token !== wanted) throw new Error(`Hive DDL: expected '${wanted}', found '${token}'`);
  };
  const type = (): HiveType => {
    const word = next().toUpperCase();
    if (word === 'STRING') return { kind: 'string' };
    expect('<');
    if (word === 'ARRAY') {
      const of = type();
      expect('>');
      return { kind: 'array', of };
    }
    if (word === 'MAP') {
      const key = type();
      expect(',');
      const value = type();
      expect('>');
      return { kind: 'map', key, value };
    }
    if (word !== 'STRUCT') throw new Error(`Hive DDL: this test server does not know the type ${word}`);
    const fields: HiveColumn[] = [];
    for (;;) {
      const name = next().toLowerCase();
      expect(':');
      fields.push({ name, type: type() });
      const separator = next();
      if (separator === '>') return { kind: 'struct', fields };
      if (separator !== ',') throw new Error(`Hive DDL: expected ',' or '>', found '${separator}'`);
    }
  };
  const columns: HiveColumn[] = [];
  while (at < tokens.length) {
    if (columns.length > 0) expect(',');
    const name = next().toLowerCase();
    columns.push({ name, type: type() });
  }
  return columns;
}

/** The DuckDB type holding a Hive type's values, under the same (lower-case) names. */
export function duckDbTypeOf(type: HiveType): string {
  switch (type.kind) {
    case 'string':
      return 'VARCHAR';
    case 'array':
      return `${duckDbTypeOf(type.of)}[]`;
    case 'map':
      return `MAP(${duckDbTypeOf(type.key)}, ${duckDbTypeOf(type.value)})`;
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `"${f.name}" ${duckDbTypeOf(f.type)}`).join(', ')})`;
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An object's entries by lower-cased key (the JsonSerDe match). */
function byLowerKey(value: Record<string, Json>): Map<string, Json> {
  return new Map(Object.entries(value).map(([key, v]) => [key.toLowerCase(), v]));
}

/** One JSON value read as a Hive type (see the rules above); throws where JsonSerDe would fail. */
function readValue(value: Json | undefined, type: HiveType, where: string): unknown {
  if (value === undefined || value === null) return null;
  switch (type.kind) {
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'array':
      if (!Array.isArray(value)) throw new Error(`Error parsing field value for ${where}: not a JSON array`);
      return value.map((v, i) => readValue(v, type.of, `${where}[${i}]`));
    case 'map':
      if (!isObject(value)) throw new Error(`Error parsing field value for ${where}: not a JSON object (map)`);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, readValue(v, type.value, `${where}.${k}`)]));
    case 'struct':
      if (!isObject(value)) throw new Error(`Error parsing field value for ${where}: not a JSON object (struct)`);
      return readRow(value, type.fields, where);
  }
}

/** A struct or a row; NULL fields are left out (a missing key reads as NULL), which keeps the rows small. */
function readRow(value: Record<string, Json>, columns: readonly HiveColumn[], where: string): Record<string, unknown> {
  const keys = byLowerKey(value);
  const row: Record<string, unknown> = {};
  for (const c of columns) {
    const v = readValue(keys.get(c.name), c.type, where ? `${where}.${c.name}` : c.name);
    if (v !== null) row[c.name] = v;
  }
  return row;
}

/**
 * The rows of one delivery file (`{"Records": [...]}`, gzip when its name says so), one per record, keyed by
 * the DDL's column names (NULLs left out). Throws when the object cannot be read. An empty object or document
 * has no rows.
 */
export function readDeliveryFile(bytes: Buffer, gzipped: boolean, columns: readonly HiveColumn[]): Record<string, unknown>[] {
  const text = (gzipped ? gunzipSync(bytes) : bytes).toString('utf8');
  if (text.trim() === '') return [];
  const document = JSON.parse(text) as Json;
  if (!isObject(document)) throw new Error('the document is not a JSON object');
  const records = document.Records;
  if (records === undefined || records === null) return [];
  if (!Array.isArray(records)) throw new Error('Records is not a JSON array');
  return records.map((record, i) => {
    if (!isObject(record)) throw new Error(`record ${i} is not a JSON object`);
    return readRow(record, columns, '');
  });
}
