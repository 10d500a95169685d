import { describe, expect, it } from 'vitest';
import { billedBytes, MB, MINIMUM_BILLED_BYTES, queryCostUsd, summariseCost, TB } from '../../src/core/cost.js';
import { pathsInReadError } from '../../src/engines/athena/engine.js';
import { requestToken, toAthenaLiteral, windowTableName, windowTableTime, withWindowCte } from '../../src/engines/athena/sql.js';
import { parseLiteral } from '../support/athena-server.js';

describe('Athena execution parameters', () => {
  it('encodes strings as SQL literals with embedded quotes doubled', () => {
    expect(toAthenaLiteral('2026-11-23T08:00:00Z')).toBe("'2026-11-23T08:00:00Z'");
    expect(toAthenaLiteral("O'Brien")).toBe("'O''Brien'");
    expect(toAthenaLiteral("x' OR '1'='1")).toBe("'x'' OR ''1''=''1'");
    expect(toAthenaLiteral('')).toBe("''");
  });

  it('encodes lists as ARRAY literals, and an empty list as a typed empty array', () => {
    expect(toAthenaLiteral(['arn:aws:iam::1:role/a', "b'c"])).toBe("ARRAY['arn:aws:iam::1:role/a', 'b''c']");
    expect(toAthenaLiteral([])).toBe('CAST(ARRAY[] AS ARRAY(VARCHAR))');
  });

  it('round-trips through a strict literal parser: every encoded value is exactly one literal with the same value', () => {
    const values = ["'; DROP TABLE x; --", "a''b", '?', 'ARRAY[1]', '\\', "it's", ''];
    for (const value of values) expect(parseLiteral(toAthenaLiteral(value))).toBe(value);
    expect(parseLiteral(toAthenaLiteral(values))).toEqual(values);
    expect(parseLiteral(toAthenaLiteral([]))).toEqual([]);
    // What the test server refuses: anything that is not a single literal.
    expect(parseLiteral("'a' OR 1=1")).toBeUndefined();
    expect(parseLiteral("'a''")).toBeUndefined();
    expect(parseLiteral('ARRAY[]')).toBeUndefined();
  });
});

describe('query tokens and window table names', () => {
  it('derives a stable 32–128 character token per run, check and purpose', () => {
    const token = requestToken('20261124T080000Z-1a2b3c4d', 'root_activity_7d', 'check');
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(requestToken('20261124T080000Z-1a2b3c4d', 'root_activity_7d', 'check')).toBe(token);
    expect(requestToken('20261124T080000Z-1a2b3c4d', 'root_activity_7d', 'ctas-1')).not.toBe(token);
    expect(requestToken('20261124T080000Z-ffffffff', 'root_activity_7d', 'check')).not.toBe(token);
  });

  it('names the window table after the run, and reads the run time back from the name', () => {
    const name = windowTableName('20261124T080000Z-1a2b3c4d', new Date('2030-01-01T00:00:00Z'));
    expect(name).toBe('trailwarden_window_20261124t080000z_1a2b3c4d');
    expect(windowTableTime(name)?.toISOString()).toBe('2026-11-24T08:00:00.000Z');
    expect(windowTableTime('cloudtrail_logs')).toBeUndefined();
    expect(windowTableTime('trailwarden_window_notatime')).toBeUndefined();
  });

  it('stamps the table of a run id without a time with the start time, so it can still be dropped and aged', () => {
    const startedAt = new Date('2026-11-24T08:00:00Z');
    const a = windowTableName('nightly job #1', startedAt);
    const b = windowTableName('nightly job #2', startedAt);

    expect(a).toMatch(/^trailwarden_window_20261124t080000z_[0-9a-f]{16}$/);
    expect(b).not.toBe(a);
    expect(windowTableTime(a)?.toISOString()).toBe('2026-11-24T08:00:00.000Z');
  });
});

describe('withWindowCte', () => {
  const window = 'SELECT * FROM "db"."t"';

  it('prefixes a plain SELECT with the window CTE, leaving the check text intact', () => {
    const check = '-- comment\nSELECT eventname FROM cloudtrail_window WHERE eventtime >= ?';
    const sql = withWindowCte(window, check);
    expect(sql.startsWith('WITH cloudtrail_window AS (\nSELECT * FROM "db"."t"\n)\n')).toBe(true);
    expect(sql.endsWith(check)).toBe(true);
  });

  it('merges into a check that has its own WITH, after its leading comments', () => {
    const check = '/* why */\n-- more\nWITH recent AS (SELECT * FROM cloudtrail_window WHERE eventtime >= ?)\nSELECT * FROM recent';
    const sql = withWindowCte(window, check);
    expect(sql).toBe(
      '/* why */\n-- more\nWITH cloudtrail_window AS (\nSELECT * FROM "db"."t"\n),\nrecent AS (SELECT * FROM cloudtrail_window WHERE eventtime >= ?)\nSELECT * FROM recent',
    );
    expect(withWindowCte(window, 'with recursive r AS (SELECT 1) SELECT 1')).toMatch(/^with recursive cloudtrail_window AS \(/);
  });

  it('does not mistake a column named like "without" for a WITH clause', () => {
    expect(withWindowCte(window, 'without_mfa AS x')).toMatch(/^WITH cloudtrail_window AS/);
  });
});

describe('read errors', () => {
  it('names the objects Athena could not read, only for read errors', () => {
    expect(pathsInReadError('HIVE_CURSOR_ERROR: Unexpected end of input stream (Path: s3://b/AWSLogs/1/x.json.gz)')).toEqual(['s3://b/AWSLogs/1/x.json.gz']);
    expect(pathsInReadError('HIVE_BAD_DATA: Error parsing field value in file s3://b/k.json.gz.')).toEqual(['s3://b/k.json.gz']);
    expect(pathsInReadError('SYNTAX_ERROR: line 1:8: Column s3://b/k cannot be resolved')).toEqual([]);
  });
});

describe('Athena cost', () => {
  it('bills at least 10 MB per query and rounds up to the MB', () => {
    expect(billedBytes(0)).toBe(MINIMUM_BILLED_BYTES);
    expect(billedBytes(1)).toBe(10 * MB);
    expect(billedBytes(10 * MB + 1)).toBe(11 * MB);
    expect(billedBytes(3 * TB)).toBe(3 * TB);
    expect(() => billedBytes(-1)).toThrow(RangeError);
  });

  it('prices $5 per TB', () => {
    expect(queryCostUsd(TB)).toBe(5);
    expect(queryCostUsd(0)).toBeCloseTo((10 * MB * 5) / TB, 12);
  });

  it('sums a run query by query, each with its own minimum', () => {
    const summary = summariseCost([
      { label: 'load window', scannedBytes: 2 * TB },
      { label: 'root_activity_7d', scannedBytes: 1000 },
      { label: 'users_active_30d', scannedBytes: 0 },
    ]);
    expect(summary.scannedBytes).toBe(2 * TB + 1000);
    expect(summary.billedBytes).toBe(2 * TB + 20 * MB);
    expect(summary.costUsd).toBeCloseTo(10 + (20 * MB * 5) / TB, 12);
    expect(summary.queries.map((q) => q.label)).toEqual(['load window', 'root_activity_7d', 'users_active_30d']);
  });
});
