import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/config/load.js';
import { CLOUDTRAIL_COLUMNS, type CloudTrailColumn } from '../../src/core/cloudtrail-table.js';
import { QueryFailedError, QueryTimeoutError } from '../../src/core/errors.js';
import { resolveParameters } from '../../src/core/params.js';
import { AthenaEngine } from '../../src/engines/athena/engine.js';
import type { AthenaEngineOptions } from '../../src/engines/athena/settings.js';
import type { LogFile } from '../../src/source/types.js';
import { needsIntegrity, needsInventory } from '../../src/flows/report.js';
import { startAthenaServer, type AthenaServer } from '../support/athena-server.js';
import { checkTrinoSql } from '../support/trino-sql.js';
import { record, silentLog, tempDir, writeLogFile } from '../support/fixtures.js';
import { startS3, type LocalS3 } from '../support/s3.js';

/**
 * The Athena engine against the rules AWS runs Athena by, over real HTTP with our strict Athena-protocol server:
 * partition projection that silently leaves logs out, workgroups that enforce their configuration, the 1,024-character
 * parameter limit, retryable failures, the concurrent-query quota, errors that name no object, billing — and the SQL
 * that Athena refuses, for every check folder in config/checks.
 */

const BUCKET = 'trail-logs';
const WORK = 'athena-work';
const WINDOW = { start: new Date('2026-11-14T00:00:00Z'), end: new Date('2026-11-21T12:00:00Z') };
const AS_OF = WINDOW.end;
const COUNT_SQL = `-- events
SELECT account, count(*) AS n FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ? GROUP BY account ORDER BY account`;
const WINDOW_PARAMS = ['2026-11-14T00:00:00Z', '2026-11-21T12:00:00Z'];

let s3: LocalS3;
let logs: string;
let files: LogFile[];
let corruptKey: string;

async function listTree(root: string): Promise<LogFile[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  const out: LogFile[] = [];
  for (const entry of entries.filter((e) => e.isFile())) {
    const key = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    const m = /^AWSLogs\/(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4}\/\d{2}\/\d{2})\//.exec(key);
    if (!m) continue;
    const bytes = (await stat(path.join(entry.parentPath, entry.name))).size;
    out.push({ path: `s3://${BUCKET}/${key}`, key, account: m[1]!, region: m[2]!, day: m[3]!, bytes });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

function options(overrides: Partial<AthenaEngineOptions> = {}): AthenaEngineOptions {
  return {
    database: 'default',
    table: 'cloudtrail_logs',
    workgroup: 'primary',
    outputLocation: `s3://${WORK}/results/`,
    mode: 'ctas',
    ctasLocation: `s3://${WORK}/trailwarden/`,
    concurrency: 2,
    queryTimeoutMs: 60_000,
    pollInitialMs: 1,
    pollMaxMs: 2,
    retryBaseMs: 1,
    retryMaxMs: 2,
    ...overrides,
  };
}

function client(server: AthenaServer): AthenaClient {
  return new AthenaClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

async function engineOn(server: AthenaServer, overrides: Partial<AthenaEngineOptions> = {}): Promise<AthenaEngine> {
  return AthenaEngine.create(options(overrides), { athena: client(server), s3: s3.client }, silentLog);
}

/** A clock that moves only when the engine sleeps. */
function fakeTime() {
  let now = Date.parse('2026-11-24T08:00:00Z');
  const sleeps: number[] = [];
  return { sleeps, now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)) };
}

const runIds = (() => {
  let n = 0;
  return () => `20261124T080000Z-rule${String((n += 1)).padStart(4, '0')}`;
})();

async function loaded(server: AthenaServer, overrides: Partial<AthenaEngineOptions> = {}, columns?: CloudTrailColumn[]): Promise<AthenaEngine> {
  const e = await engineOn(server, overrides);
  await e.loadWindow({ runId: runIds(), window: WINDOW, files, columns: columns ?? ['eventtime', 'eventid', 'eventcategory', 'eventname', 'useridentity'] });
  return e;
}

/** Sends one StartQueryExecution as a client would and waits for its final state. */
async function rawQuery(server: AthenaServer, input: ConstructorParameters<typeof StartQueryExecutionCommand>[0]) {
  const athena = client(server);
  try {
    const { QueryExecutionId } = await athena.send(new StartQueryExecutionCommand(input));
    for (;;) {
      const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
      const state = QueryExecution?.Status?.State;
      if (state !== 'QUEUED' && state !== 'RUNNING') return QueryExecution!;
    }
  } finally {
    athena.destroy();
  }
}

beforeAll(async () => {
  // Prepare: two accounts, two regions, one corrupt object, every role a distinct ARN.
  logs = await tempDir('trailwarden-athena-rules-');
  await writeLogFile(logs, { day: '2026/11/20', records: [record({ eventTime: '2026-11-20T10:00:00Z', eventName: 'CreateUser' })] });
  await writeLogFile(logs, {
    day: '2026/11/20',
    region: 'eu-west-1',
    records: [record({ eventTime: '2026-11-20T11:00:00Z' }), record({ eventTime: '2026-11-20T11:30:00Z', eventName: 'GetObject', eventCategory: 'Data' })],
  });
  await writeLogFile(logs, { day: '2026/11/21', account: '222222222222', records: [record({ eventTime: '2026-11-21T01:00:00Z', eventName: 'ConsoleLogin' })] });
  await writeLogFile(logs, { day: '2026/11/19', records: [record({ eventTime: '2026-11-19T01:00:00Z', eventName: 'ListBuckets' })] });
  const corrupt = await writeLogFile(logs, {
    day: '2026/11/19',
    name: '111111111111_CloudTrail_us-east-1_20261119T0500Z_corruptcorruptxx.json.gz',
    content: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]),
  });
  corruptKey = path.relative(logs, corrupt).split(path.sep).join('/');
  files = await listTree(logs);
  s3 = await startS3();
  await s3.createBucket(WORK);
});

afterAll(async () => {
  await s3?.stop();
});

describe('partition projection: logs the table leaves out are never silently passed', () => {
  let server: AthenaServer;
  beforeAll(async () => {
    const projection = {
      'projection.enabled': 'true',
      'projection.account.type': 'enum',
      'projection.account.values': '111111111111',
      'projection.region.type': 'enum',
      'projection.region.values': 'eu-west-1,us-east-1',
      'projection.timestamp.type': 'date',
      'projection.timestamp.range': '2020/01/01,NOW',
    };
    server = await startAthenaServer({ logsDir: logs, bucket: BUCKET, s3: s3.client, tableProperties: projection });
  });
  afterAll(async () => server?.stop());

  it('makes every check fail naming the account missing from the enum, where Athena would return its logs as no rows', async () => {
    // Act
    const e = await loaded(server, { mode: 'direct', ctasLocation: undefined });
    const before = server.executions.size;
    const query = e.query(COUNT_SQL, WINDOW_PARAMS, { runId: 'r', checkId: 'events' });
    await expect(query).rejects.toBeInstanceOf(QueryFailedError);
    await expect(query).rejects.toThrow(/account\(s\) 222222222222 \(not in projection\.account\.values\).*setup athena --apply/);
    await e.close();

    // Assess: the check was not even started, and the gap is real: Athena read none of the account's objects.
    expect(server.executions.size).toBe(before);
    const statsRead = [...server.executions.values()].find((x) => /count_if/.test(x.sql))!;
    expect(statsRead.pathsRead.some((p) => p.includes('/222222222222/'))).toBe(false);
  });

  it('passes once `setup athena`-style ALTER TABLE … SET TBLPROPERTIES lists the account', async () => {
    // Prepare: what `setup athena --apply` runs on an existing table
    const athena = client(server);
    const alter = await rawQuery(server, {
      QueryString: "ALTER TABLE `default`.`cloudtrail_logs` SET TBLPROPERTIES ('projection.account.values'='111111111111,222222222222')",
      QueryExecutionContext: { Database: 'default' },
      ResultConfiguration: { OutputLocation: `s3://${WORK}/results/` },
    });
    athena.destroy();

    // Act
    const e = await loaded(server, { mode: 'direct', ctasLocation: undefined });
    const result = await e.query(COUNT_SQL, WINDOW_PARAMS, { runId: 'r', checkId: 'events' });
    await e.close();

    // Assess
    expect(alter.Status?.State).toBe('SUCCEEDED');
    expect(result.rows).toEqual([
      ['111111111111', '4'],
      ['222222222222', '1'],
    ]);
  });

  it('stops the run when the table cannot be read: a gap could not be ruled out', async () => {
    const e = await engineOn(server, { table: 'no_such_table', mode: 'direct', ctasLocation: undefined });
    const load = e.loadWindow({ runId: runIds(), window: WINDOW, files });
    await expect(load).rejects.toThrow(/could not read the properties of default\.no_such_table \(GetTableMetadata/);
    await e.close();
  });
});

describe('the classic partitioned layout: day folders without a partition are never silently passed', () => {
  let server: AthenaServer;
  beforeAll(async () => {
    server = await startAthenaServer({ logsDir: logs, bucket: BUCKET, s3: s3.client, partitionedTable: true });
  });
  afterAll(async () => server?.stop());

  const addPartitions = async (list: LogFile[]) => {
    const clauses = [...new Set(list.map((f) => `${f.account}|${f.region}|${f.day}`))].map((folder) => {
      const [account, region, day] = folder.split('|');
      return `PARTITION (account='${account}', region='${region}', \`timestamp\`='${day}') LOCATION 's3://${BUCKET}/AWSLogs/${account}/CloudTrail/${region}/${day}/'`;
    });
    const execution = await rawQuery(server, {
      QueryString: `ALTER TABLE \`default\`.\`cloudtrail_logs\` ADD IF NOT EXISTS\n${clauses.join('\n')}`,
      QueryExecutionContext: { Database: 'default' },
      ResultConfiguration: { OutputLocation: `s3://${WORK}/results/` },
    });
    expect(execution.Status?.State).toBe('SUCCEEDED');
  };

  it('makes every check fail naming the day folders that have no partition yet, then passes once they have one', async () => {
    // Prepare: partitions for every day folder but the second account's
    await addPartitions(files.filter((f) => f.account === '111111111111'));

    // Act
    const stale = await loaded(server, { layout: 'partitioned', mode: 'direct', ctasLocation: undefined });
    const refused = stale.query(COUNT_SQL, WINDOW_PARAMS, { runId: 'r', checkId: 'events' });
    await expect(refused).rejects.toThrow(/no partition for 1 day folder\(s\) of the window \(222222222222\/us-east-1\/2026\/11\/21\).*--since 2026\/11\/21/);
    await stale.close();
    await addPartitions(files);
    const fresh = await loaded(server, { layout: 'partitioned', mode: 'direct', ctasLocation: undefined });
    const result = await fresh.query(COUNT_SQL, WINDOW_PARAMS, { runId: 'r', checkId: 'events-2' });
    await fresh.close();

    // Assess
    expect(result.rows).toEqual([
      ['111111111111', '4'],
      ['222222222222', '1'],
    ]);
  });
});

describe('a workgroup that enforces its configuration', () => {
  let server: AthenaServer;
  beforeAll(async () => {
    server = await startAthenaServer({
      logsDir: logs,
      bucket: BUCKET,
      s3: s3.client,
      workgroups: { primary: {}, locked: { enforced: true, outputLocation: `s3://${WORK}/locked/` } },
    });
  });
  afterAll(async () => server?.stop());

  it('refuses a CTAS that sets external_location, as Athena does', async () => {
    const execution = await rawQuery(server, {
      QueryString: `CREATE TABLE t1 WITH (format = 'PARQUET', external_location = 's3://${WORK}/elsewhere/t1/') AS SELECT eventid FROM cloudtrail_logs`,
      WorkGroup: 'locked',
      QueryExecutionContext: { Database: 'default' },
    });
    expect(execution.Status?.State).toBe('FAILED');
    expect(execution.Status?.StateChangeReason).toMatch(/external_location/);
  });

  it('runs mode ctas there: the table goes to the workgroup location and is deleted from there after the run', async () => {
    // Act
    const e = await loaded(server, { workgroup: 'locked', outputLocation: undefined });
    const result = await e.query(COUNT_SQL, WINDOW_PARAMS, { runId: 'r', checkId: 'events' });
    const whileOpen = await s3.listKeys(WORK, 'locked/tables/');
    await e.close();

    // Assess
    expect(result.rows.map((r) => r[0])).toEqual(['111111111111', '222222222222']);
    const ctas = [...server.executions.values()].filter((x) => x.sql.startsWith('CREATE TABLE') && x.state === 'SUCCEEDED').at(-1)!;
    expect(ctas.sql).not.toMatch(/external_location/);
    expect(whileOpen.some((k) => k.startsWith(`locked/tables/${ctas.id}/`))).toBe(true);
    expect(await s3.listKeys(WORK, `locked/tables/${ctas.id}/`)).toEqual([]);
    expect((await server.tables()).filter((t) => t.startsWith('trailwarden_window_'))).toEqual([]);
  });
});

describe('a workgroup that enforces its configuration: clean-up after crashed runs', () => {
  let server: AthenaServer;
  beforeAll(async () => {
    server = await startAthenaServer({ s3: s3.client, workgroups: { locked: { enforced: true, outputLocation: `s3://${WORK}/locked2/` } } });
  });
  afterAll(async () => server?.stop());

  it("removes a crashed run's table and its objects from where Athena put them, and never objects outside the workgroup's tables/", async () => {
    // Prepare: two tables crashed runs left two days ago, one pointing outside the workgroup's tables/ folder
    await server.seedTable('trailwarden_window_20261120t080000z_dead0009', `s3://${WORK}/locked2/tables/crashed-query-id/`);
    await server.seedTable('trailwarden_window_20261120t080000z_dead0010', `s3://${WORK}/somewhere-else/`);
    const time = fakeTime();

    // Act
    const e = await engineOn(server, { workgroup: 'locked', outputLocation: undefined, now: time.now, sleep: time.sleep });
    await e.close();

    // Assess
    expect((await server.tables()).filter((t) => t.includes('dead'))).toEqual([]);
    expect(await s3.listKeys(WORK, 'locked2/tables/crashed-query-id/')).toEqual([]);
    expect(await s3.listKeys(WORK, 'somewhere-else/')).toEqual(['somewhere-else/seed_00000_placeholder']);
  });
});

describe('limits, retries and billing', () => {
  let server: AthenaServer;
  beforeAll(async () => {
    server = await startAthenaServer({ logsDir: logs, bucket: BUCKET, s3: s3.client });
  });
  afterAll(async () => server?.stop());

  it('binds a role list far over 1,024 characters in parts that each fit, and still finds the role', async () => {
    // Prepare: 40 role ARNs (about 2,000 characters as one ARRAY literal), the one in the logs last
    const roles = [
      ...Array.from({ length: 39 }, (_, i) => `arn:aws:iam::111111111111:role/service-role/unrelated-role-${i}`),
      'arn:aws:iam::111111111111:role/deploy',
    ];
    const e = await loaded(server);
    const sql = `SELECT useridentity.sessioncontext.sessionissuer.arn AS role_arn, count(*) AS calls FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ? AND (cardinality(?) = 0 OR contains(?, useridentity.sessioncontext.sessionissuer.arn))
GROUP BY 1 ORDER BY 1`;

    // Act
    const result = await e.query(sql, [...WINDOW_PARAMS, roles, roles], { runId: 'r', checkId: 'roles' });
    await e.close();

    // Assess
    expect(result.rows).toEqual([['arn:aws:iam::111111111111:role/deploy', '5']]);
    const sent = [...server.executions.values()].find((x) => x.sql.includes('contains(concat('))!;
    expect(sent.parameters.every((p) => p.length <= 1024)).toBe(true);
    expect(sent.parameters.length).toBeGreaterThan(6);
  });

  it('refuses an execution parameter over 1,024 characters at the API, as Athena does', async () => {
    const call = rawQuery(server, {
      QueryString: 'SELECT eventid FROM cloudtrail_logs WHERE eventname = ?',
      ExecutionParameters: [`'${'x'.repeat(1100)}'`],
      ResultConfiguration: { OutputLocation: `s3://${WORK}/results/` },
    });
    await expect(call).rejects.toMatchObject({ name: 'InvalidRequestException' });
  });

  it('runs a query that FAILED with a retryable error again, with a new token, before the check errors', async () => {
    const e = await loaded(server);
    server.behave({
      match: /-- slow down/,
      fail: 'HIVE_CURSOR_ERROR: Please reduce your request rate. (Service: Amazon S3; Status Code: 503; Error Code: SlowDown)',
      retryable: true,
      times: 2,
    });
    server.behave({ match: /-- user error/, fail: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved", times: 1 });

    const result = await e.query(`-- slow down\n${COUNT_SQL}`, WINDOW_PARAMS, { runId: 'r', checkId: 'slow' });
    const failed = e.query(`-- user error\n${COUNT_SQL}`, WINDOW_PARAMS, { runId: 'r', checkId: 'user' });
    await expect(failed).rejects.toThrow(/COLUMN_NOT_FOUND/);
    await e.close();

    expect(result.rows).toHaveLength(2);
    const slow = [...server.executions.values()].filter((x) => /-- slow down/.test(x.sql));
    expect(slow.map((x) => x.state)).toEqual(['FAILED', 'FAILED', 'SUCCEEDED']);
    expect(new Set(slow.map((x) => x.token)).size).toBe(3);
    expect([...server.executions.values()].filter((x) => /-- user error/.test(x.sql))).toHaveLength(1);
  });

  it('waits out the concurrent-query quota for minutes, within the query timeout, and gives up at it', async () => {
    // Prepare
    const time = fakeTime();
    const e = await loaded(server, { now: time.now, sleep: time.sleep, random: () => 1, queryTimeoutMs: 30 * 60_000 });
    time.sleeps.length = 0;
    server.throttle('StartQueryExecution', 4, 'TooManyRequestsException');

    // Act
    const result = await e.query(COUNT_SQL, WINDOW_PARAMS, { runId: 'r', checkId: 'quota' });
    const waited = time.sleeps.filter((ms) => ms >= 1000);
    server.throttle('StartQueryExecution', 1000, 'TooManyRequestsException');
    const never = e.query(COUNT_SQL, WINDOW_PARAMS, { runId: 'r', checkId: 'quota-forever' });
    await expect(never).rejects.toThrow(/concurrent-query quota stayed full until engine\.query_timeout_seconds ran out/);
    server.unthrottle();
    await e.close();

    // Assess: 5 s, 10 s, 20 s, 40 s — minutes in all, not the seconds of request-rate throttling
    expect(result.rows).toHaveLength(2);
    expect(waited).toEqual([5_000, 10_000, 20_000, 40_000]);
  });

  it('reports what a stopped query scanned (Athena bills it) and asks for result reuse only in ctas mode', async () => {
    // Prepare
    const time = fakeTime();
    const ctas = await loaded(server, { now: time.now, sleep: time.sleep, queryTimeoutMs: 1000, resultReuseMinutes: 60 });
    server.behave({ match: /-- hangs/, hang: true, times: 1 });

    // Act
    const timeout = ctas.query(`-- hangs\n${COUNT_SQL}`, WINDOW_PARAMS, { runId: 'r', checkId: 'hangs' });
    await expect(timeout).rejects.toBeInstanceOf(QueryTimeoutError);
    const first = await ctas.query(`-- reuse\n${COUNT_SQL}`, WINDOW_PARAMS, { runId: 'r', checkId: 'reuse-1' });
    const second = await ctas.query(`-- reuse\n${COUNT_SQL}`, WINDOW_PARAMS, { runId: 'r', checkId: 'reuse-2' });
    await ctas.close();
    const direct = await loaded(server, { mode: 'direct', ctasLocation: undefined, resultReuseMinutes: 60 });
    await direct.query(`-- direct\n${COUNT_SQL}`, WINDOW_PARAMS, { runId: 'r', checkId: 'direct' });
    await direct.close();

    // Assess
    const error = (await timeout.catch((x: unknown) => x)) as QueryTimeoutError;
    expect(error.scannedBytes).toBeGreaterThan(0);
    expect(first).toMatchObject({ reused: false });
    expect(first.scannedBytes).toBeGreaterThan(0);
    expect(second).toMatchObject({ reused: true, scannedBytes: 0, rows: first.rows });
    expect([...server.executions.values()].find((x) => /-- direct/.test(x.sql))!.resultReuse).toBeUndefined();
  });
});

describe('objects Athena cannot read', () => {
  let server: AthenaServer;
  beforeAll(async () => {
    server = await startAthenaServer({ logsDir: logs, bucket: BUCKET, s3: s3.client });
  });
  afterAll(async () => server?.stop());

  it('recognises HIVE_CANNOT_OPEN_SPLIT as naming the object', async () => {
    server.readErrorStyle = 'split';
    const e = await engineOn(server);
    const stats = await e.loadWindow({ runId: runIds(), window: WINDOW, files });
    await e.close();
    expect(stats.filesSkipped).toEqual([{ path: corruptKey, reason: expect.stringMatching(/^Athena could not read it: HIVE_CANNOT_OPEN_SPLIT/) as string }]);
  });

  it("finds the object by bisecting the window's object list when the JSON SerDe names none, each probe with its cost", async () => {
    // Prepare
    server.readErrorStyle = 'serde-unnamed';
    const e = await engineOn(server);

    // Act
    const stats = await e.loadWindow({ runId: runIds(), window: WINDOW, files });
    const result = await e.query(COUNT_SQL, WINDOW_PARAMS, { runId: 'r', checkId: 'after-bisect' });
    await e.close();

    // Assess: the one bad object is skipped (with the SerDe's reason), the rest loaded, the probes are bounded and costed
    expect(stats.filesSkipped.map((s) => s.path)).toEqual([corruptKey]);
    expect(stats.filesSkipped[0]!.reason).toMatch(/Row is not a valid JSON Object/);
    expect(result.rows).toEqual([
      ['111111111111', '4'],
      ['222222222222', '1'],
    ]);
    const probes = stats.scanCharges!.filter((c) => c.label.startsWith('find unreadable object'));
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.length).toBeLessThanOrEqual(Math.ceil(Math.log2(files.length)) + 1);
    expect(stats.scanCharges!.map((c) => c.label)).toEqual(expect.arrayContaining(['load window (CTAS)', 'window statistics']));
    server.readErrorStyle = 'cursor';
  });
});

describe('the strict server refuses what Athena refuses', () => {
  let server: AthenaServer;
  let e: AthenaEngine;
  beforeAll(async () => {
    server = await startAthenaServer({ logsDir: logs, bucket: BUCKET, s3: s3.client });
    e = await loaded(server);
  });
  afterAll(async () => {
    await e?.close();
    await server?.stop();
  });

  const refused: [string, string, readonly (string | readonly string[])[], RegExp][] = [
    ['a ? outside WHERE', 'SELECT ? AS start, count(*) AS n FROM cloudtrail_window', ['x'], /only supported in the WHERE clause \(found one in SELECT\)/],
    ['a ? in HAVING', 'SELECT eventname, count(*) AS n FROM cloudtrail_window GROUP BY eventname HAVING count(*) > ?', ['1'], /found one in HAVING/],
    ['backquoted identifiers', 'SELECT `eventname` FROM cloudtrail_window WHERE eventtime >= ?', ['x'], /backquoted identifiers are not supported/],
    ['a :: cast', 'SELECT eventtime::VARCHAR AS t FROM cloudtrail_window WHERE eventtime >= ?', ['x'], /mismatched input '::'/],
    ['ILIKE', "SELECT eventname FROM cloudtrail_window WHERE eventname ILIKE 'create%' AND eventtime >= ?", ['x'], /mismatched input 'ILIKE'/],
    [
      'list_contains',
      'SELECT eventname FROM cloudtrail_window WHERE list_contains(?, eventname)',
      [['x']],
      /FUNCTION_NOT_FOUND: .*Function 'list_contains' not registered/,
    ],
    ['GROUP BY ALL', 'SELECT eventname, count(*) AS n FROM cloudtrail_window WHERE eventtime >= ? GROUP BY ALL', ['x'], /mismatched input 'ALL'/],
    [
      'a timestamp compared with a varchar',
      'SELECT eventid FROM cloudtrail_window WHERE from_iso8601_timestamp(eventtime) >= ?',
      ['2026-11-14T00:00:00Z'],
      /TYPE_MISMATCH/,
    ],
    [
      'a timestamp compared with a varchar literal',
      "SELECT eventid FROM cloudtrail_window WHERE from_iso8601_timestamp(eventtime) >= '2026-11-14' AND eventtime < ?",
      ['x'],
      /TYPE_MISMATCH/,
    ],
    ['fewer parameters than ?', 'SELECT eventid FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ?', ['x'], /Incorrect number of parameters/],
  ];
  it.each(refused)('fails a check using %s', async (_what, sql, params, reason) => {
    const query = e.query(sql, params, { runId: 'r', checkId: `strict-${_what}` });
    await expect(query).rejects.toBeInstanceOf(QueryFailedError);
    await expect(query).rejects.toThrow(reason);
  });

  it('refuses a CTAS whose ? is outside its WHERE (the CTAS rule is the SELECT rule)', async () => {
    const execution = await rawQuery(server, {
      QueryString: `CREATE TABLE t2 WITH (format = 'PARQUET', external_location = 's3://${WORK}/t2/') AS SELECT eventid, ? AS tag FROM cloudtrail_logs`,
      ExecutionParameters: ["'x'"],
      ResultConfiguration: { OutputLocation: `s3://${WORK}/results/` },
    });
    expect(execution.Status?.State).toBe('FAILED');
    expect(execution.Status?.StateChangeReason).toMatch(/only supported in the WHERE clause/);
  });

  it('refuses a request token used again with a different query string', async () => {
    const token = 'a'.repeat(40);
    const base = { ClientRequestToken: token, ResultConfiguration: { OutputLocation: `s3://${WORK}/results/` } };
    await rawQuery(server, { ...base, QueryString: 'SELECT 1 AS one' });
    await expect(rawQuery(server, { ...base, QueryString: 'SELECT 2 AS two' })).rejects.toMatchObject({ name: 'InvalidRequestException' });
  });
});

describe('every query in config/checks/ is one Athena accepts', () => {
  let server: AthenaServer;
  beforeAll(async () => {
    server = await startAthenaServer({ logsDir: logs, bucket: BUCKET, s3: s3.client });
  });
  afterAll(async () => server?.stop());

  it.each(['ctas', 'direct'] as const)('runs every check folder through the strict server (mode %s)', async (mode) => {
    // Prepare: the folder as it is, whatever checks it holds
    const folders = (await readdir('config/checks', { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    const checks = await loadCatalog(path.resolve('config/checks'));
    const e = await loaded(server, mode === 'direct' ? { mode, ctasLocation: undefined } : { mode }, [...CLOUDTRAIL_COLUMNS]);

    // Act
    const outcomes: Record<string, string> = {};
    for (const check of checks) {
      if (needsInventory(check) || needsIntegrity(check)) {
        // Inventory and log integrity checks run in-process beside Athena (over its activity aggregate and the
        // inventory, or the validation's problems), never in Athena itself; their SQL must still be Trino's, so the
        // strict server's front end judges it.
        try {
          checkTrinoSql(check.sql, resolveParameters(check, AS_OF).length);
          outcomes[check.id] = `ok: ${check.columns.join(',')}`;
        } catch (error) {
          outcomes[check.id] = `refused: ${(error as Error).message}`;
        }
        continue;
      }
      outcomes[check.id] = await e
        .query(check.sql, resolveParameters(check, AS_OF), { runId: 'r', checkId: check.id })
        .then((r) => `ok: ${r.columns.join(',')}`)
        .catch((error: unknown) => `refused: ${(error as Error).message}`);
    }
    await e.close();

    // Assess: every folder ran, and Athena's rules accepted each query with its declared columns
    expect(checks.map((c) => c.id).sort()).toEqual([...folders].sort());
    for (const check of checks) expect(outcomes[check.id], check.id).toBe(`ok: ${check.columns.join(',')}`);
  });
});
