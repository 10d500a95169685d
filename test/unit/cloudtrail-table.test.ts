import { describe, expect, it } from 'vitest';
import {
  CLOUDTRAIL_COLUMNS,
  CLOUDTRAIL_TABLE,
  CLOUDTRAIL_TABLE_COLUMNS,
  columnsSince,
  columnsWhere,
  NEVER,
  type RowCondition,
  type WindowReader,
  columnsUsedBy,
  fieldsUsedBy,
  type ColumnType,
} from '../../src/core/cloudtrail-table.js';
import { projection, recordType } from '../../src/engines/duckdb.js';
import { fullRecord } from '../support/fixtures.js';
import { parseHiveColumns, type HiveColumn, type HiveType } from '../support/hive-json-table.js';

describe('columnsUsedBy', () => {
  it('loads the columns a check names, plus those the run itself needs', () => {
    const used = columnsUsedBy(["SELECT useridentity.arn, json_extract_scalar(responseelements, '$.x') FROM cloudtrail_window WHERE eventtime >= ?"]);
    expect(used).toEqual(['useridentity', 'eventtime', 'responseelements', 'eventid', 'eventcategory']);
  });

  it('loads every column for a query that selects *, but not for count(*)', () => {
    // AWS's table has 29 columns (it had 25 here before AWS's shape was adopted).
    expect(CLOUDTRAIL_COLUMNS).toHaveLength(29);
    expect(columnsUsedBy(['SELECT * FROM cloudtrail_window'])).toEqual([...CLOUDTRAIL_COLUMNS]);
    expect(columnsUsedBy(['SELECT w.* FROM cloudtrail_window w'])).toEqual([...CLOUDTRAIL_COLUMNS]);
    expect(columnsUsedBy(['SELECT count(*) FROM cloudtrail_window /* not * all */'])).toEqual(['eventtime', 'eventid', 'eventcategory']);
  });

  it('reads exactly those keys, with CloudTrail camelCase spelling', () => {
    const type = recordType(['useridentity', 'eventtime', 'sourceipaddress']);
    expect(type).toMatch(/^STRUCT\(userIdentity STRUCT\(/);
    expect(type).toContain('eventTime VARCHAR');
    expect(type).toContain('sourceIPAddress VARCHAR');
    expect(type).not.toContain('requestParameters');
  });
});

/** A struct type's field names, nested structs in braces. */
function shape(type: ColumnType): string {
  return type.kind === 'struct' ? `{${type.fields.map((f) => `${f.name}${shape(f.type)}`).join(',')}}` : '';
}

describe('fieldsUsedBy', () => {
  it('prunes a struct column to the fields the queries name, at every depth', () => {
    const fields = fieldsUsedBy([
      "SELECT useridentity.arn, useridentity.sessioncontext.sessionissuer.arn FROM cloudtrail_window WHERE useridentity.type = 'AssumedRole'",
    ]);
    const identity = fields.find((f) => f.name === 'useridentity')!;
    // Names are matched as words, wherever they are: `type` keeps the session issuer's type too (more, never less).
    expect(shape(identity.type)).toBe('{type,arn,sessioncontext{sessionissuer{type,arn}}}');
    expect(recordType(fields)).toContain(
      'userIdentity STRUCT(type VARCHAR, arn VARCHAR, sessionContext STRUCT(sessionIssuer STRUCT(type VARCHAR, arn VARCHAR)))',
    );
  });

  it('keeps a struct whole when a query uses it whole, selects *, or aliases it', () => {
    const whole = (sql: string) => shape(fieldsUsedBy([sql]).find((f) => f.name === 'useridentity')!.type);
    const full = shape(CLOUDTRAIL_TABLE.find((c) => c.name === 'useridentity')!.type);
    expect(whole('SELECT to_json(useridentity) FROM cloudtrail_window')).toBe(full);
    expect(whole('SELECT u.arn FROM (SELECT useridentity AS u FROM cloudtrail_window)')).toBe(full);
    expect(whole('SELECT w.* FROM cloudtrail_window w WHERE useridentity.arn IS NULL')).toBe(full);
    // A nested struct used whole keeps all of its own fields, and only its branch is whole.
    const identity = CLOUDTRAIL_TABLE.find((c) => c.name === 'useridentity')!.type;
    const session = identity.kind === 'struct' ? identity.fields.find((f) => f.name === 'sessioncontext')!.type : identity;
    expect(whole('SELECT useridentity.sessioncontext IS NULL, useridentity.arn FROM cloudtrail_window')).toBe(`{arn,sessioncontext${shape(session)}}`);
  });
});

describe('columnsSince', () => {
  const runStart = '2026-08-25T08:00:00Z';
  it('gives each column the earliest start of the queries that read it, and leaves out what is read from the start', () => {
    const since = columnsSince(
      [
        { sql: 'SELECT useragent, eventname FROM cloudtrail_window WHERE eventtime >= ?', start: '2026-11-16T08:00:00Z' },
        { sql: 'SELECT sourceipaddress, useragent FROM cloudtrail_window WHERE eventtime >= ?', start: '2026-10-24T08:00:00Z' },
        { sql: 'SELECT eventname, useridentity.arn FROM cloudtrail_window WHERE eventtime >= ?', start: runStart },
      ],
      runStart,
    );
    expect(since).toEqual({ useragent: '2026-10-24T08:00:00Z', sourceipaddress: '2026-10-24T08:00:00Z' });
  });

  it('leaves out a reader that reads a column only in some records, and columnsWhere gives its condition (from its start)', () => {
    const sts: RowCondition = (c) => `${c('eventsource')} = 'sts.amazonaws.com'`;
    const readers: WindowReader[] = [
      { sql: 'SELECT requestparameters, useragent FROM cloudtrail_window', start: '2026-10-24T08:00:00Z' },
      {
        sql: 'SELECT requestparameters, responseelements, eventsource FROM cloudtrail_window',
        start: runStart,
        rows: { requestparameters: sts, responseelements: sts },
      },
      {
        sql: 'SELECT responseelements FROM cloudtrail_window',
        start: '2026-11-16T08:00:00Z',
        rows: { responseelements: (c) => `${c('eventname')} = 'ConsoleLogin'` },
      },
    ];
    const since = columnsSince(readers, runStart);
    const where = columnsWhere(readers, since, runStart);
    expect(since).toEqual({ requestparameters: '2026-10-24T08:00:00Z', useragent: '2026-10-24T08:00:00Z', responseelements: NEVER });
    expect(Object.keys(where).sort()).toEqual(['requestparameters', 'responseelements']);
    const bare = (name: string) => name;
    expect(where.requestparameters!(bare)).toBe("(eventsource = 'sts.amazonaws.com')");
    expect(where.responseelements!(bare)).toBe("(eventsource = 'sts.amazonaws.com') OR ((eventtime >= '2026-11-16T08:00:00Z' AND eventname = 'ConsoleLogin'))");
  });

  it('never delays the columns every run needs', () => {
    const since = columnsSince([{ sql: 'SELECT eventid, eventcategory FROM cloudtrail_window WHERE eventtime >= ?', start: '2026-11-16T08:00:00Z' }], runStart);
    expect(since).toEqual({});
  });
});

/** A DuckDB type string as a tree: `STRUCT(name T, …)`, `T[]`, `MAP(K, V)`, or a scalar name. */
type DuckType = { scalar: string } | { struct: [string, DuckType][] } | { list: DuckType } | { map: [DuckType, DuckType] };

function parseDuckType(text: string): DuckType {
  const tokens = text.match(/[A-Za-z_][A-Za-z0-9_]*|"[^"]*"|[()[\],]/g) ?? [];
  let at = 0;
  const take = (wanted?: string) => {
    const token = tokens[at++]!;
    if (wanted !== undefined && token !== wanted) throw new Error(`expected ${wanted}, found ${token} in ${text}`);
    return token;
  };
  const type = (): DuckType => {
    const word = take();
    let result: DuckType;
    if (word === 'STRUCT') {
      take('(');
      const fields: [string, DuckType][] = [];
      do fields.push([take().replaceAll('"', ''), type()]);
      while (take() === ',');
      result = { struct: fields };
    } else if (word === 'MAP') {
      take('(');
      const key = type();
      take(',');
      result = { map: [key, type()] };
      take(')');
    } else result = { scalar: word };
    while (tokens[at] === '[') {
      take('[');
      take(']');
      result = { list: result };
    }
    return result;
  };
  return type();
}

/** A DuckDB type tree as the Hive type it stands for (JSON and VARCHAR are STRING), field names passed through `spell`. */
function asHive(type: DuckType, spell: (name: string) => string = (name) => name): HiveType {
  if ('struct' in type) return { kind: 'struct', fields: type.struct.map(([name, t]): HiveColumn => ({ name: spell(name), type: asHive(t, spell) })) };
  if ('list' in type) return { kind: 'array', of: asHive(type.list, spell) };
  if ('map' in type) return { kind: 'map', key: asHive(type.map[0], spell), value: asHive(type.map[1], spell) };
  expect(['VARCHAR', 'JSON']).toContain(type.scalar);
  return { kind: 'string' };
}

const lowerCase = (name: string) => name.toLowerCase();

/** Every struct field of a spec type, with its path. */
function specFields(type: ColumnType, path: string): { path: string; name: string; key: string }[] {
  if (type.kind === 'array' || type.kind === 'map') return specFields(type.of, `${path}[]`);
  if (type.kind !== 'struct') return [];
  return type.fields.flatMap((f) => [{ path: `${path}.${f.name}`, name: f.name, key: f.key }, ...specFields(f.type, `${path}.${f.name}`)]);
}

describe('one CloudTrail table spec for both engines', () => {
  const ddl = parseHiveColumns(CLOUDTRAIL_TABLE_COLUMNS);
  const read = parseDuckType(recordType()) as { struct: [string, DuckType][] };

  it('declares every column in the Athena DDL and in the DuckDB read type, in the same order', () => {
    expect(ddl.map((c) => c.name)).toEqual([...CLOUDTRAIL_COLUMNS]);
    expect(read.struct.map(([key]) => key)).toEqual(CLOUDTRAIL_TABLE.map((c) => c.key));
  });

  it('gives DuckDB the same struct, array and map shapes as the DDL, field by field (keys lower-cased as JsonSerDe matches them)', () => {
    expect(read.struct.map(([key, type]) => ({ name: key.toLowerCase(), type: asHive(type, lowerCase) }))).toEqual(ddl);
  });

  it("casts each nested column to exactly the DDL's lower-case shape in the DuckDB projection", () => {
    const casts = new Map([...projection(CLOUDTRAIL_COLUMNS).matchAll(/CAST\(r\.\w+ AS (.+?)\) AS (\w+)(?:, |$)/g)].map((m) => [m[2]!, m[1]!]));
    const nested = ddl.filter((c) => c.type.kind !== 'string');

    expect([...casts.keys()]).toEqual(nested.map((c) => c.name));
    for (const column of nested) expect(asHive(parseDuckType(casts.get(column.name)!)), column.name).toEqual(column.type);
  });

  it('spells every column and field as the lower-case of its CloudTrail key', () => {
    for (const column of CLOUDTRAIL_TABLE) {
      expect(column.name).toBe(column.key.toLowerCase());
      for (const f of specFields(column.type, column.name)) expect(f.name, f.path).toBe(f.key.toLowerCase());
    }
  });

  it('reads the keys of a real CloudTrail record with their exact case (DuckDB reads a wrong case as NULL)', () => {
    // Prepare: a record as AWS documents its contents, with every nested element the table declares.
    const record = fullRecord();
    const keysOf = (value: unknown, type: ColumnType): string[] =>
      type.kind === 'struct' && value && typeof value === 'object'
        ? type.fields.flatMap((f) => [f.key, ...keysOf((value as Record<string, unknown>)[f.key], f.type)])
        : type.kind === 'array' && Array.isArray(value)
          ? value.flatMap((v) => keysOf(v, type.of))
          : [];
    const recordKeys = (value: unknown): string[] =>
      Array.isArray(value)
        ? value.flatMap(recordKeys)
        : value && typeof value === 'object'
          ? Object.entries(value).flatMap(([k, v]) => [k, ...recordKeys(v)])
          : [];

    // Act: the keys the spec reads, as found in the record
    const specKeys = CLOUDTRAIL_TABLE.flatMap((c) => [c.key, ...keysOf(record[c.key], c.type)]);

    // Assess: every declared key is in the record with that exact spelling (the map's keys are data, not fields)
    const inRecord = new Set(recordKeys(record));
    expect(specKeys.filter((key) => !inRecord.has(key))).toEqual([]);
  });
});
