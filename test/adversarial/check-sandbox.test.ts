/**
 * A check folder is data an administrator may pull from a shared repository: whatever its query.sql says,
 * it must not read files, write files, reach the network, or change what the other checks see. Two layers:
 * the catalogue refuses such a query when it loads (whatever the engine), and the DuckDB engine confines
 * whatever reaches `query()` all the same.
 */
import { LOG_INTEGRITY_TABLE } from '../../src/core/catalog.js';
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootAlertSql } from '../../src/alert/query.js';
import { CheckSqlParser, checkSqlProblems } from '../../src/config/check-sql.js';
import { INVENTORY_TABLES } from '../../src/inventory/tables.js';
import { loadCatalog } from '../../src/config/load.js';
import type { Check } from '../../src/core/catalog.js';
import { DuckDbEngine } from '../../src/engines/duckdb.js';
import { LocalLogSource } from '../../src/source/local.js';
import { LocalEventStore } from '../../src/store/local.js';
import { runCli } from '../support/cli.js';
import { record, silentLog, tempDir, writeLogFile } from '../support/fixtures.js';
import { rootRecord } from '../support/root-alert.js';

const CHECKS_DIR = path.resolve('config/checks');
const WINDOW = { start: new Date('2026-11-16T00:00:00Z'), end: new Date('2026-11-23T00:00:00Z') };
const WINDOW_PARAMS = ['2026-11-16T00:00:00Z', '2026-11-23T00:00:00Z'];
const AS_OF = '2026-11-23T00:00:00Z';

const checkYaml = (id: string) => `id: ${id}
title: A check from a shared repository
description: Whatever its query does.
severity: low
lookback_days: 7
parameters: []
columns: [event_id]
evaluation: { kind: info }
`;

/** A config beside a `checks/` folder holding one check (`shared_check` unless named) with this query. */
async function configWithCheck(
  sql: string,
  options: { id?: string; realCatalog?: boolean; logs?: string } = {},
): Promise<{ config: string; sqlPath: string; dir: string }> {
  const id = options.id ?? 'shared_check';
  const dir = await tempDir('trailwarden-sandbox-');
  const checks = path.join(dir, 'checks');
  if (options.realCatalog) await cp(CHECKS_DIR, checks, { recursive: true });
  await mkdir(path.join(checks, id), { recursive: true });
  await writeFile(path.join(checks, id, 'check.yaml'), checkYaml(id));
  const sqlPath = path.join(checks, id, 'query.sql');
  // The catalogue's text check only looks for the table's name: an attacker's query mentions it.
  await writeFile(sqlPath, `-- a check over cloudtrail_window\n${sql}`);
  const config = path.join(dir, 'trailwarden.yaml');
  await writeFile(
    config,
    `source: { kind: local, path: ${options.logs ?? 'logs'} }\narchive: { kind: local, path: out/archive }\nmail: { kind: outbox, path: out/outbox, from: tw@example.com, to: [a@example.com] }\n`,
  );
  return { config, sqlPath, dir };
}

const NOT_ONE_SELECT = /not a single SELECT statement/;
/** A harmless query over the window, for an attack to hide behind. */
const WINDOW_SELECT = 'SELECT eventid AS event_id FROM cloudtrail_window';

describe('a check query that reaches beyond cloudtrail_window is refused when the catalogue loads', () => {
  it.each([
    // Statements that are no SELECT at all
    ['COPY … TO a file', `COPY (SELECT eventid FROM cloudtrail_window) TO '/tmp/trailwarden-stolen.csv'`, NOT_ONE_SELECT],
    ['ATTACH a database', `ATTACH '/tmp/trailwarden-attached.db' AS x; ${WINDOW_SELECT}`, NOT_ONE_SELECT],
    ['INSTALL an extension', `INSTALL httpfs; ${WINDOW_SELECT}`, NOT_ONE_SELECT],
    ['LOAD an extension', `LOAD httpfs; ${WINDOW_SELECT}`, NOT_ONE_SELECT],
    ['SET a setting', `SET enable_external_access = true; ${WINDOW_SELECT}`, NOT_ONE_SELECT],
    ['a PRAGMA', `PRAGMA database_list; ${WINDOW_SELECT}`, NOT_ONE_SELECT],
    ['DELETE from the load table', `DELETE FROM _load WHERE useridentity.type = 'Root'; ${WINDOW_SELECT}`, NOT_ONE_SELECT],
    ['a SELECT followed by a DELETE', `${WINDOW_SELECT}; DELETE FROM _load`, NOT_ONE_SELECT],
    // Table functions, anywhere a FROM can be
    ['read_text in FROM', `SELECT content AS event_id FROM read_text('/etc/shadow')`, /calls the table function read_text\(\)/],
    [
      'read_csv joined to the window',
      `SELECT p.column0 AS event_id FROM cloudtrail_window w JOIN read_csv('/etc/passwd', header = false) p ON true`,
      /calls the table function read_csv\(\)/,
    ],
    [
      'read_text in a scalar subquery',
      `SELECT (SELECT content FROM read_text('/etc/passwd')) AS event_id FROM cloudtrail_window`,
      /calls the table function read_text\(\)/,
    ],
    [
      'read_json in a CTE',
      `WITH f AS (SELECT * FROM read_json('/etc/trailwarden.json')) SELECT eventid AS event_id FROM cloudtrail_window, f`,
      /calls the table function read_json\(\)/,
    ],
    [
      'read_parquet in a UNION branch',
      `SELECT eventid AS event_id FROM cloudtrail_window UNION ALL SELECT x AS event_id FROM read_parquet('/tmp/x.parquet')`,
      /calls the table function read_parquet\(\)/,
    ],
    [
      'glob in IN (SELECT …)',
      `SELECT eventid AS event_id FROM cloudtrail_window WHERE eventid IN (SELECT file FROM glob('/etc/*'))`,
      /calls the table function glob\(\)/,
    ],
    ['query_table', `SELECT eventid AS event_id FROM query_table('_load')`, /calls the table function query_table\(\)/],
    ['duckdb_settings()', `SELECT value AS event_id FROM duckdb_settings()`, /calls the table function duckdb_settings\(\)/],
    ['a file name as a table', `SELECT column0 AS event_id FROM '/etc/passwd'`, /reads the table "\/etc\/passwd"/],
    // Tables other than the window
    ['the load table', `SELECT eventid AS event_id FROM _load`, /reads the table "_load"/],
    ['the file list, in EXISTS', `SELECT eventid AS event_id FROM cloudtrail_window WHERE EXISTS (SELECT 1 FROM _files)`, /reads the table "_files"/],
    [
      'the load table in a LATERAL subquery',
      `SELECT l.eventid AS event_id FROM cloudtrail_window w, LATERAL (SELECT eventid FROM _load WHERE _load.eventid = w.eventid) l`,
      /reads the table "_load"/,
    ],
    ['a schema-qualified table', `SELECT eventid AS event_id FROM temp.main._load`, /reads the table "temp.main._load"/],
    [
      'a CTE that reads the load table under its own name',
      `WITH _load AS (SELECT * FROM _load) SELECT eventid AS event_id FROM _load`,
      /reads the table "_load"/,
    ],
    [
      'a CTE name used outside the subquery that defines it',
      `SELECT s.eventid AS event_id FROM (WITH a AS (SELECT eventid FROM cloudtrail_window) SELECT eventid FROM a) s JOIN a ON true`,
      /reads the table "a"/,
    ],
    // Scalar functions that read the process or the engine
    ['getenv', `SELECT getenv('SMTP_PASSWORD') AS event_id FROM cloudtrail_window`, /calls getenv\(\)/],
    ['current_setting', `SELECT eventid AS event_id FROM cloudtrail_window WHERE current_setting('temp_directory') IS NOT NULL`, /calls current_setting\(\)/],
    ['getvariable', `SELECT getvariable('secret') AS event_id FROM cloudtrail_window`, /calls getvariable\(\)/],
    // What the rule does not know, it refuses
    ['WITH RECURSIVE', `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n AS event_id FROM r`, /WITH RECURSIVE/],
    ['a PIVOT in FROM', `SELECT x AS event_id FROM cloudtrail_window PIVOT (count(*) FOR eventname IN ('a'))`, /a FROM clause of type PIVOT, .*does not know/],
    ['SUMMARIZE in FROM', `SELECT column_name AS event_id FROM (SUMMARIZE cloudtrail_window)`, /a FROM clause of type SHOW_REF, .*does not know/],
  ])('refuses %s: validate exits 1 naming query.sql and the reason', async (_case, sql, reason) => {
    // Prepare
    const { config, sqlPath } = await configWithCheck(sql);

    // Act
    const result = await runCli(['validate', '--config', config]);

    // Assess
    expect(result.code, result.stdout).toBe(1);
    const line = result.stderr.split('\n').find((l) => l.includes(sqlPath));
    expect(line, result.stderr).toBeDefined();
    expect(line).toMatch(reason);
  });
});

describe('what the catalogue rule still accepts', () => {
  let parser: CheckSqlParser;
  let catalog: Check[];
  beforeAll(async () => {
    parser = await CheckSqlParser.open();
    catalog = await loadCatalog(CHECKS_DIR);
  });
  afterAll(() => parser.close());

  it.each([
    ['CTEs naming each other', `WITH a AS (SELECT eventid FROM cloudtrail_window), b AS (SELECT eventid FROM a) SELECT eventid AS event_id FROM b`],
    ['a CTE named like the load table, over the window', `WITH _load AS (SELECT eventid FROM cloudtrail_window) SELECT eventid AS event_id FROM _load`],
    [
      'UNNEST of a column (Trino style)',
      `SELECT r.arn AS event_id FROM cloudtrail_window CROSS JOIN UNNEST(resources) AS t(r) WHERE eventtime >= ? ORDER BY event_id`,
    ],
    [
      'subqueries, joins and set operations over the window',
      `SELECT w.eventid AS event_id FROM cloudtrail_window w LEFT JOIN (SELECT eventid FROM cloudtrail_window) s ON s.eventid = w.eventid
       WHERE w.eventid IN (SELECT eventid FROM cloudtrail_window) AND EXISTS (SELECT 1 FROM cloudtrail_window)
       UNION SELECT eventid FROM cloudtrail_window EXCEPT SELECT eventid FROM cloudtrail_window`,
    ],
    ['VALUES', `SELECT v.x AS event_id FROM (VALUES ('a'), ('b')) v(x)`],
    [
      'window functions and lambdas',
      `SELECT list_transform([eventid], x -> upper(x))[1] || row_number() OVER (ORDER BY eventtime) AS event_id FROM cloudtrail_window`,
    ],
  ])('accepts %s', async (_case, sql) => {
    expect(checkSqlProblems('q.sql', await parser.parse(sql), ['event_id'])).toEqual([]);
  });

  it('accepts every built-in check and the root alert query built from root_activity_7d', async () => {
    for (const check of catalog) {
      // An inventory check reads the inventory tables instead of the window (see src/inventory/tables.ts).
      const tables = check.requires?.includes('iam_inventory')
        ? INVENTORY_TABLES
        : check.requires?.includes('log_integrity')
          ? [LOG_INTEGRITY_TABLE]
          : undefined;
      expect(checkSqlProblems(check.id, await parser.parse(check.sql, tables), check.columns)).toEqual([]);
    }
    // The alert's query selects r.* (its columns are the root check's): only the rule applies to it.
    const alert = await parser.parse(rootAlertSql(catalog.find((c) => c.id === 'root_activity_7d')!));
    expect(alert.problem).toBeUndefined();
    expect(alert.refusals).toEqual([]);
  });
});

// From the store, `cloudtrail_window` is a view over the window's Parquet files, which stay readable: those files only.
describe.each(['raw logs', 'the store'])('the DuckDB engine confines whatever reaches query() after a load (%s)', (from) => {
  let engine: DuckDbEngine;
  let outside: string;
  let storeDir: string;
  let rootCheck: Check;

  beforeAll(async () => {
    const logs = await tempDir('trailwarden-sandbox-logs-');
    const other = record({ eventTime: '2026-11-20T11:00:00Z', eventID: 'other-1' });
    await writeLogFile(logs, {
      day: '2026/11/20',
      // `other` twice: a second delivery, left out of the window (from the store, by the `_removed` list a query must not empty).
      records: [rootRecord('111111111111', '2026-11-20T10:00:00Z', { eventID: 'root-1' }), other, other],
    });
    outside = await tempDir('trailwarden-sandbox-outside-');
    storeDir = path.join(await tempDir('trailwarden-sandbox-store-'), 'store');
    rootCheck = (await loadCatalog(CHECKS_DIR)).find((c) => c.id === 'root_activity_7d')!;
    const store = from === 'the store' ? new LocalEventStore({ path: storeDir, log: silentLog }) : undefined;
    engine = await DuckDbEngine.create({ threads: 2, ...(store ? { store } : {}) }, silentLog);
    const source = new LocalLogSource({ path: logs });
    await engine.loadWindow({ window: WINDOW, files: (await source.list(WINDOW)).files, source });
  });
  afterAll(async () => engine.close());

  async function rootEventIds(): Promise<string[]> {
    const result = await engine.query(rootCheck.sql, WINDOW_PARAMS, { runId: 'r', checkId: rootCheck.id, windowStart: WINDOW_PARAMS[0]! });
    return result.rows.map((row) => row[result.columns.indexOf('event_id')] ?? '');
  }

  it.each([
    ['COPY … TO a file', (dir: string) => `COPY (SELECT * FROM cloudtrail_window) TO '${dir}/stolen.csv'`],
    ['COPY … TO a file, behind a SELECT', (dir: string) => `SELECT 1; COPY (SELECT * FROM cloudtrail_window) TO '${dir}/stolen.csv'`],
    ['read_text', () => `SELECT content FROM read_text('/etc/passwd')`],
    ['read_csv', () => `SELECT * FROM read_csv('/etc/passwd', header = false)`],
    ['glob', () => `SELECT file FROM glob('/etc/*')`],
    ['ATTACH', (dir: string) => `ATTACH '${dir}/created.db' AS created`],
    ['INSTALL', () => 'INSTALL httpfs'],
    ['SET enable_external_access = true', () => 'SET enable_external_access = true'],
    ['SET lock_configuration = false', () => 'SET lock_configuration = false'],
    ['SET search_path', () => `SET search_path = 'temp'`],
    ['DELETE FROM _load', () => `DELETE FROM _load WHERE useridentity.type = 'Root'`],
    ['DELETE FROM _load, behind a SELECT', () => `SELECT 1; DELETE FROM _load WHERE useridentity.type = 'Root'`],
    ['UPDATE _load', () => `UPDATE _load SET useridentity = NULL`],
    ["DELETE FROM _removed (the store's second deliveries, left out of the view)", () => `DELETE FROM _removed`],
    ['DROP VIEW cloudtrail_window', () => 'DROP VIEW cloudtrail_window'],
    ['CREATE OR REPLACE VIEW cloudtrail_window', () => 'CREATE OR REPLACE VIEW cloudtrail_window AS SELECT * FROM _load WHERE false'],
    ['replacing a Trino shim', () => 'CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS NULL'],
    ['COMMIT', () => 'COMMIT'],
    ["read_text of the store's records", () => `SELECT content FROM read_text('${storeDir}/**/partition.json')`],
    ['glob of the store', () => `SELECT file FROM glob('${storeDir}/**')`],
  ])('%s: fails or changes nothing, writes no file, and the root event is still found', async (_case, attack) => {
    // Act
    const outcome = await engine.query(attack(outside), []).then(
      () => 'ran',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );

    // Assess
    expect(outcome).not.toBe('ran');
    expect(await readdir(outside)).toEqual([]);
    expect(await rootEventIds()).toEqual(['root-1']);
    expect((await engine.query('SELECT count(*) AS events FROM cloudtrail_window', [])).rows).toEqual([['2']]);
  });

  it('runs checks with file and network access off, extension auto-loading off, and the settings locked', async () => {
    const result = await engine.query(
      `SELECT name, value FROM duckdb_settings()
       WHERE name IN ('enable_external_access', 'autoinstall_known_extensions', 'autoload_known_extensions', 'lock_configuration')
       ORDER BY name`,
      [],
    );
    expect(result.rows).toEqual([
      ['autoinstall_known_extensions', 'false'],
      ['autoload_known_extensions', 'false'],
      ['enable_external_access', 'false'],
      ['lock_configuration', 'true'],
    ]);
  });

  it('keeps running checks after one fails', async () => {
    await expect(engine.query('SELECT no_such_column FROM cloudtrail_window', [])).rejects.toThrow(/no_such_column/);
    expect(await rootEventIds()).toEqual(['root-1']);
  });
});

/** How many files the DuckDB engines of this process have in their temporary folders now. */
async function spilledFiles(): Promise<number> {
  const folders = (await readdir(os.tmpdir())).filter((name) => name.startsWith(`trailwarden-duckdb-${process.pid}-`));
  const counts = await Promise.all(folders.map(async (name) => (await readdir(path.join(os.tmpdir(), name)).catch(() => [])).length));
  return counts.reduce((a, b) => a + b, 0);
}

describe('the DuckDB engine under a small memory limit', () => {
  it('still spills to its temporary folder with file access off', async () => {
    // Prepare: 200 MB of memory (loading takes 128 MB); the query sorts ~400 MB (it fails with "Out of Memory" when DuckDB cannot spill)
    const logs = await tempDir('trailwarden-sandbox-logs-');
    await writeLogFile(logs, { day: '2026/11/20', records: [record({ eventTime: '2026-11-20T11:00:00Z', eventID: 'e-1' })] });
    const engine = await DuckDbEngine.create({ threads: 2, memoryLimit: '200MB' }, silentLog);
    try {
      await engine.loadWindow({ window: WINDOW, files: (await new LocalLogSource({ path: logs }).list(WINDOW)).files });
      let spilled = 0;
      const watch = setInterval(() => void spilledFiles().then((n) => (spilled = Math.max(spilled, n))), 20);

      // Act
      const result = await engine
        .query(
          `SELECT count(*) AS n, min(s) AS first FROM (
             SELECT hash(r.range) AS k, r.range || repeat('y', 400) AS s FROM range(1000000) r CROSS JOIN cloudtrail_window ORDER BY k)`,
          [],
        )
        .finally(() => clearInterval(watch));

      // Assess
      expect(result.rows[0]?.[0]).toBe('1000000');
      expect(spilled).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
  });
});

describe('a shared check that deletes the root events', () => {
  it('makes the run refuse the catalogue (exit 1), never pass root_activity_7d', async () => {
    // Prepare: the real catalogue plus a check sorted before root_activity_7d, and logs with a root event
    const logs = await tempDir('trailwarden-sandbox-logs-');
    await writeLogFile(logs, { day: '2026/11/20', records: [rootRecord('111111111111', '2026-11-20T10:00:00Z', { eventID: 'root-1' })] });
    const { config, sqlPath, dir } = await configWithCheck(`DELETE FROM _load WHERE useridentity.type = 'Root';\n${WINDOW_SELECT} WHERE false`, {
      id: 'a_cleanup',
      realCatalog: true,
      logs,
    });

    // Act
    const result = await runCli(['run', '--config', config, '--as-of', AS_OF, '--fail-on', 'critical']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(sqlPath);
    expect(result.stderr).toMatch(NOT_ONE_SELECT);
    expect(result.stdout).not.toMatch(/PASS.*root_activity_7d/);
    expect(await readdir(dir)).not.toContain('out');
  });
});
