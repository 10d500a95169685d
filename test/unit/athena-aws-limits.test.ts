import { describe, expect, it } from 'vitest';
import { summariseCost, MINIMUM_BILLED_BYTES } from '../../src/core/cost.js';
import { QueryParameterError } from '../../src/core/errors.js';
import { buildReport } from '../../src/core/report.js';
import { isReadError, partitionGap, pathsInReadError, projectionGap } from '../../src/engines/athena/engine.js';
import { bindParameters, MAX_PARAMETER_LENGTH, placeholderOffsets } from '../../src/engines/athena/sql.js';
import type { LogFile } from '../../src/source/types.js';
import { rootCheck, windowStats } from '../support/checks.js';
import { checkTrinoSql, toDuckDbSql } from '../support/trino-sql.js';

const file = (account: string, region: string, day = '2026/11/20'): LogFile => ({
  path: `s3://b/AWSLogs/${account}/CloudTrail/${region}/${day}/x.json.gz`,
  key: `AWSLogs/${account}/CloudTrail/${region}/${day}/x.json.gz`,
  account,
  region,
  day,
  bytes: 10,
});

describe("binding values within Athena's 1,024-character parameter limit", () => {
  it('finds the ? placeholders outside strings, quoted identifiers and comments', () => {
    const sql = `SELECT '?' AS "a?" -- ?\n/* ? */ FROM t WHERE x = ? AND y = 'it''s ?' AND z IN (?)`;
    expect(placeholderOffsets(sql).map((at) => sql.slice(at - 4, at + 1))).toEqual(['x = ?', 'IN (?']);
  });

  it('binds a short list as one ARRAY parameter, text unchanged', () => {
    const bound = bindParameters('SELECT 1 FROM t WHERE contains(?, x)', [['a', 'b']]);
    expect(bound).toEqual({ sql: 'SELECT 1 FROM t WHERE contains(?, x)', params: ["ARRAY['a', 'b']"] });
  });

  it('splits a long list into concat(?, ?, …) of arrays that each fit, keeping every value once and in order', () => {
    // Prepare: 60 role ARNs, about 3,500 characters as one literal
    const roles = Array.from({ length: 60 }, (_, i) => `arn:aws:iam::111111111111:role/team-${i}/deployer`);
    const sql = "SELECT 1 FROM t WHERE a >= ? AND (cardinality(?) = 0 OR contains(?, r)) AND b = '?'";

    // Act
    const bound = bindParameters(sql, ['2026-11-01T00:00:00Z', roles, roles]);

    // Assess
    const parts = bound.params.length - 1;
    expect(bound.params.every((p) => p.length <= MAX_PARAMETER_LENGTH)).toBe(true);
    expect(parts % 2).toBe(0);
    const each = parts / 2;
    expect(each).toBeGreaterThan(3);
    const list = `concat(${Array.from({ length: each }, () => '?').join(', ')})`;
    expect(bound.sql).toBe(`SELECT 1 FROM t WHERE a >= ? AND (cardinality(${list}) = 0 OR contains(${list}, r)) AND b = '?'`);
    const values = bound.params.slice(1, 1 + each).flatMap((p) => [...p.matchAll(/'([^']*)'/g)].map((m) => m[1]));
    expect(values).toEqual(roles);
    expect(placeholderOffsets(bound.sql)).toHaveLength(bound.params.length);
  });

  it('refuses a single value that cannot fit, naming the parameter', () => {
    expect(() => bindParameters('SELECT 1 FROM t WHERE a = ? AND b = ?', ['x', 'y'.repeat(1100)])).toThrow(QueryParameterError);
    expect(() => bindParameters('SELECT 1 FROM t WHERE a = ? AND b = ?', ['x', 'y'.repeat(1100)])).toThrow(/execution parameter 2 is 1102 characters/);
  });
});

describe('partition projection gaps', () => {
  const properties = {
    'projection.enabled': 'true',
    'projection.account.type': 'enum',
    'projection.account.values': '111111111111',
    'projection.region.type': 'enum',
    'projection.region.values': 'us-east-1,eu-west-1',
    'projection.timestamp.range': '2026/11/01,NOW',
  };

  it('names every account, region and day range of the window that the enums leave out', () => {
    const files = [
      file('111111111111', 'us-east-1'),
      file('222222222222', 'us-east-1'),
      file('111111111111', 'ap-south-1'),
      file('111111111111', 'us-east-1', '2026/10/31'),
    ];
    const gap = projectionGap(properties, files);
    expect(gap).toContain('account(s) 222222222222 (not in projection.account.values)');
    expect(gap).toContain('region(s) ap-south-1 (not in projection.region.values)');
    expect(gap).toContain('days before 2026/11/01 (projection.timestamp.range), from 2026/10/31');
    expect(gap).toContain('trailwarden setup athena --apply');
  });

  it('finds no gap when the enums cover the window, or when the table has no projection', () => {
    expect(projectionGap(properties, [file('111111111111', 'eu-west-1')])).toBeUndefined();
    expect(projectionGap({}, [file('999999999999', 'us-east-1')])).toBeUndefined();
    expect(projectionGap({ ...properties, 'projection.enabled': 'false' }, [file('999999999999', 'us-east-1')])).toBeUndefined();
  });
});

describe('partitioned-table gaps', () => {
  it('reads SHOW PARTITIONS lines as Hive escapes them and names the day folders without one', () => {
    const partitions = ['account=111111111111/region=us-east-1/timestamp=2026%2F11%2F20'];
    expect(partitionGap(partitions, [file('111111111111', 'us-east-1')])).toBeUndefined();
    const gap = partitionGap(partitions, [
      file('111111111111', 'us-east-1'),
      file('111111111111', 'us-east-1', '2026/11/21'),
      file('222222222222', 'us-east-1'),
    ]);
    expect(gap).toContain('no partition for 2 day folder(s) of the window (111111111111/us-east-1/2026/11/21, 222222222222/us-east-1/2026/11/20)');
    expect(gap).toContain('setup athena --apply --since 2026/11/20');
  });
});

describe("Athena's read errors", () => {
  it('takes the object from HIVE_CANNOT_OPEN_SPLIT, and knows the JSON SerDe messages that name none', () => {
    expect(
      pathsInReadError('HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split s3://b/AWSLogs/k.json.gz (offset=0, length=42): Unexpected end of input'),
    ).toEqual(['s3://b/AWSLogs/k.json.gz']);
    expect(isReadError('HIVE_CURSOR_ERROR: Row is not a valid JSON Object - JSONException: A JSONObject text must end with }')).toBe(true);
    expect(pathsInReadError('HIVE_CURSOR_ERROR: Row is not a valid JSON Object')).toEqual([]);
    expect(isReadError("COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved")).toBe(false);
  });
});

describe('what Athena bills', () => {
  it('charges nothing for a reused result, and each query its own 10 MB minimum', () => {
    const cost = summariseCost([
      { label: 'load window (CTAS)', scannedBytes: 1000 },
      { label: 'window statistics', scannedBytes: 1000 },
      { label: 'reused', scannedBytes: 0, billed: false },
    ]);
    expect(cost.billedBytes).toBe(2 * MINIMUM_BILLED_BYTES);
    expect(cost.queries[2]).toMatchObject({ billedBytes: 0, costUsd: 0 });
  });

  it('shows the CTAS and the statistics query apart, a reused check as not billed, and a stopped check as still billed', () => {
    const report = buildReport({
      runId: 'r',
      asOf: new Date('2026-11-23T08:00:00Z'),
      generatedAt: new Date('2026-11-23T08:00:00Z'),
      window: { start: new Date('2026-11-16T08:00:00Z'), end: new Date('2026-11-23T08:00:00Z') },
      toolVersion: '0.0.0',
      source: 's3://b/',
      checks: [rootCheck({ id: 'a', evaluation: { kind: 'info' } }), rootCheck({ id: 'b' })],
      stats: windowStats({
        scannedBytes: 3000,
        scanCharges: [
          { label: 'load window (CTAS)', scannedBytes: 2000, billed: true },
          { label: 'window statistics', scannedBytes: 1000, billed: true },
        ],
      }),
      findings: [
        {
          checkId: 'a',
          title: 'A',
          severity: 'low',
          status: 'info',
          observed: 0,
          threshold: null,
          reason: '',
          result: { columns: [], rows: [], scannedBytes: 0, reused: true },
        },
        { checkId: 'b', title: 'B', severity: 'low', status: 'error', observed: null, threshold: null, reason: 'timed out', scannedBytes: 5000 },
      ],
      evidence: {},
      archiveLocation: 'out/',
      previewRows: 5,
    });
    expect(report.cost?.queries.map((q) => q.label)).toEqual(
      expect.arrayContaining(['load window (CTAS)', 'window statistics', 'a (reused result, not billed)', 'b (cancelled, still billed)']),
    );
    expect(report.cost?.billedBytes).toBe(3 * MINIMUM_BILLED_BYTES);
  });
});

describe("the test server's Trino front end", () => {
  it('accepts the shapes the engine sends: ? in nested WHERE clauses, subscripts, ARRAY literals, WITH column lists', () => {
    const sql = `WITH w (a) AS (SELECT eventid FROM t WHERE x IN (?, ?) AND contains(ARRAY['a'], y) AND z[1] = ?)
SELECT a, count(*) AS n FROM w WHERE a IN (SELECT eventid FROM t WHERE b = ?) GROUP BY a ORDER BY a`;
    expect(() => checkTrinoSql(sql, 4)).not.toThrow();
  });

  it('types every literal and parameter VARCHAR for DuckDB, except typed literals', () => {
    expect(toDuckDbSql("SELECT x FROM t WHERE a = ? AND b > TIMESTAMP '2026-01-01' AND c = 'x' AND contains(?, d)", ['string', 'array'])).toBe(
      "SELECT x FROM t WHERE a = CAST(? AS VARCHAR) AND b > TIMESTAMP '2026-01-01' AND c = CAST('x' AS VARCHAR) AND contains(CAST(? AS VARCHAR[]), d)",
    );
  });
});
