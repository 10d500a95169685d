import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QueryFailedError, QueryTimeoutError, ScanBudgetError } from '../../src/core/errors.js';
import { AthenaEngine } from '../../src/engines/athena/engine.js';
import type { AthenaEngineOptions } from '../../src/engines/athena/settings.js';
import { requestToken } from '../../src/engines/athena/sql.js';
import type { LogFile } from '../../src/source/types.js';
import { startAthenaServer, type AthenaServer } from '../support/athena-server.js';
import { startFlakyProxy } from '../support/flaky-proxy.js';
import { record, silentLog, tempDir, writeLogFile } from '../support/fixtures.js';
import { startS3, type LocalS3 } from '../support/s3.js';

const BUCKET = 'trail-logs';
const RESULTS = 'athena-work';
const CTAS_LOCATION = `s3://${RESULTS}/trailwarden/`;
const WINDOW = { start: new Date('2026-11-14T00:00:00Z'), end: new Date('2026-11-21T12:00:00Z') };
const EVENTS_SQL = `-- events by name
SELECT eventname, account, count(*) AS n FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ? GROUP BY 1, 2 ORDER BY 1, 2`;
const WINDOW_PARAMS = ['2026-11-14T00:00:00Z', '2026-11-21T12:00:00Z'];

let s3: LocalS3;
let logs: string;
let files: LogFile[];
let corruptKey: string;
let server: AthenaServer;

/** The tree as the S3 source lists it without fetching: `s3://bucket/key` paths. */
async function listTree(root: string): Promise<LogFile[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  const out: LogFile[] = [];
  for (const entry of entries.filter((e) => e.isFile())) {
    const key = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    const m = /^AWSLogs\/(?:o-[a-z0-9]+\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4}\/\d{2}\/\d{2})\//.exec(key);
    if (!m) continue;
    out.push({
      path: `s3://${BUCKET}/${key}`,
      key,
      account: m[1]!,
      region: m[2]!,
      day: m[3]!,
      bytes: (await stat(path.join(entry.parentPath, entry.name))).size,
    });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

function options(overrides: Partial<AthenaEngineOptions> = {}): AthenaEngineOptions {
  return {
    database: 'default',
    table: 'cloudtrail_logs',
    workgroup: 'primary',
    outputLocation: `s3://${RESULTS}/results/`,
    mode: 'ctas',
    ctasLocation: CTAS_LOCATION,
    concurrency: 4,
    queryTimeoutMs: 60_000,
    pollInitialMs: 1,
    pollMaxMs: 4,
    retryBaseMs: 1,
    retryMaxMs: 5,
    ...overrides,
  };
}

/** A real SDK client for the test server, with the SDK's own retries off (the engine retries). */
function athenaClient(): AthenaClient {
  return new AthenaClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

async function engine(overrides: Partial<AthenaEngineOptions> = {}): Promise<AthenaEngine> {
  return AthenaEngine.create(options(overrides), { athena: athenaClient(), s3: s3.client }, silentLog);
}

/** A clock that only moves when the engine sleeps: polling and timeouts without waiting. */
function fakeTime() {
  let now = Date.parse('2026-11-24T08:00:00Z');
  const sleeps: number[] = [];
  return { sleeps, now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)) };
}

const starts = () => server.calls.filter((c) => c.target === 'StartQueryExecution');
const executionsMatching = (re: RegExp) => [...server.executions.values()].filter((e) => re.test(e.sql));

beforeAll(async () => {
  // Prepare: a small CloudTrail tree with the cases that matter: an event outside the window, a record
  // without eventTime, a second delivery of one event, an attacker-shaped value, a corrupt object,
  // and a day folder outside the window's partitions.
  logs = await tempDir('trailwarden-athena-logs-');
  const dup = record({ eventTime: '2026-11-20T10:00:00Z', eventName: 'CreateUser', eventSource: 'iam.amazonaws.com' });
  await writeLogFile(logs, {
    day: '2026/11/20',
    records: [
      dup,
      record({ eventTime: '2026-11-20T11:00:00Z', eventName: "Put'Object", eventCategory: 'Data' }),
      record({ eventTime: '2026-11-13T23:59:59Z', eventName: 'TooEarly' }),
      { ...record({ eventTime: '' }), eventTime: undefined },
    ],
  });
  await writeLogFile(logs, {
    day: '2026/11/21',
    region: 'eu-west-1',
    records: [dup, record({ eventTime: '2026-11-21T11:59:59Z', eventName: 'DescribeInstances' })],
  });
  await writeLogFile(logs, { day: '2026/11/21', account: '222222222222', records: [record({ eventTime: '2026-11-21T01:00:00Z', eventName: 'ConsoleLogin' })] });
  const corrupt = await writeLogFile(logs, {
    day: '2026/11/19',
    account: '222222222222',
    name: '222222222222_CloudTrail_us-east-1_20261119T0000Z_corruptcorruptxx.json.gz',
    content: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]),
  });
  corruptKey = path.relative(logs, corrupt).split(path.sep).join('/');
  await writeLogFile(logs, { day: '2026/10/01', records: [record({ eventTime: '2026-10-01T00:00:00Z', eventName: 'OldNews' })] });
  files = (await listTree(logs)).filter((f) => f.day >= '2026/11/13' && f.day <= '2026/11/22');

  s3 = await startS3();
  await s3.createBucket(RESULTS);
  server = await startAthenaServer({ logsDir: logs, bucket: BUCKET, s3: s3.client });
});

afterAll(async () => {
  await server?.stop();
  await s3?.stop();
});

beforeEach(() => {
  server.pageSize = 1000;
});

describe('Athena engine: the window', () => {
  it('reads the raw logs once into a run-scoped Parquet table, and every check reads that table', async () => {
    // Prepare
    const e = await engine();
    const before = server.calls.length;

    // Act
    const stats = await e.loadWindow({
      runId: '20261124T080000Z-aaaa0001',
      window: WINDOW,
      files,
      columns: ['eventtime', 'eventid', 'eventcategory', 'eventname'],
    });
    const result = await e.query(EVENTS_SQL, WINDOW_PARAMS, { runId: '20261124T080000Z-aaaa0001', checkId: 'events' });
    const tablesWhileOpen = await server.tables();
    await e.close();

    // Assess: the counts a report is built from
    expect(stats).toMatchObject({ events: 4, duplicates: 1, recordsWithoutTime: 1, dataEvents: 1, accounts: ['111111111111', '222222222222'] });
    expect(stats.regions).toEqual(['eu-west-1', 'us-east-1']);
    expect(stats.filesRead).toBe(3);
    expect(stats.filesSkipped).toEqual([{ path: corruptKey, reason: expect.stringMatching(/^Athena could not read it: HIVE_CURSOR_ERROR/) as string }]);
    expect(stats.filesSkipped[0]!.reason).toContain(corruptKey);
    expect(stats.scannedBytes).toBeGreaterThan(0);
    expect(result.columns).toEqual(['eventname', 'account', 'n']);
    expect(result.rows).toEqual([
      ['ConsoleLogin', '222222222222', '1'],
      ['CreateUser', '111111111111', '1'],
      ['DescribeInstances', '111111111111', '1'],
      ["Put'Object", '111111111111', '1'],
    ]);
    expect(result.scannedBytes).toBeGreaterThan(0);

    // One CTAS per readable attempt, filtered on the date partition and bound as literals; the check read the table.
    const ours = server.calls
      .slice(before)
      .filter((c) => c.target === 'StartQueryExecution')
      .map((c) => String(c.input.QueryString));
    const ctas = ours.filter((sql) => sql.startsWith('CREATE TABLE'));
    expect(ctas).toHaveLength(2); // the first attempt failed on the corrupt object
    expect(ctas[0]).toContain('"timestamp" BETWEEN ? AND ?');
    const retried = executionsMatching(/^CREATE TABLE/).at(-1)!;
    expect(retried.parameters).toEqual(["'2026/11/13'", "'2026/11/22'", "'2026-11-14T00:00:00Z'", "'2026-11-21T12:00:00Z'", `'s3://${BUCKET}/${corruptKey}'`]);
    expect(retried.pathsRead).toHaveLength(3);
    expect(retried.pathsRead.some((p) => p.includes('2026/10/01'))).toBe(false);
    const check = executionsMatching(/events by name/).at(-1)!;
    expect(check.sql).toMatch(/^WITH cloudtrail_window AS \(\nSELECT .* FROM "default"\."trailwarden_window_20261124t080000z_aaaa0001"/);
    expect(check.pathsRead).toEqual([]);
    expect(check.workGroup).toBe('primary');

    // close() dropped the table and deleted its objects
    expect(tablesWhileOpen).toContain('trailwarden_window_20261124t080000z_aaaa0001');
    expect(await server.tables()).not.toContain('trailwarden_window_20261124t080000z_aaaa0001');
    expect(await s3.listKeys(RESULTS, 'trailwarden/trailwarden_window_20261124t080000z_aaaa0001/')).toEqual([]);
  });

  it('binds attacker-shaped values as literals: a quote in a value matches, it does not break the query', async () => {
    const e = await engine();
    await e.loadWindow({ runId: '20261124T080000Z-aaaa0002', window: WINDOW, files, columns: ['eventtime', 'eventid', 'eventcategory', 'eventname'] });

    const hit = await e.query('SELECT eventname FROM cloudtrail_window WHERE eventname = ? OR contains(?, eventname) ORDER BY 1', [
      "Put'Object",
      ["x' OR '1'='1"],
    ]);
    const none = await e.query('SELECT eventname FROM cloudtrail_window WHERE cardinality(?) > 0 AND contains(?, eventname)', [[], []]);
    await e.close();

    expect(hit.rows).toEqual([["Put'Object"]]);
    expect(none.rows).toEqual([]);
  });

  it('drops the window table and deletes its objects when the run fails after the load', async () => {
    // Prepare: the stats query fails, after the CTAS has written the table
    server.behave({ match: /count_if/, fail: 'INTERNAL_ERROR: the stats query broke (test)', times: 1 });
    const e = await engine();

    // Act
    const load = e.loadWindow({ runId: '20261124T080000Z-aaaa0003', window: WINDOW, files });
    await expect(load).rejects.toThrow(/the stats query broke/);
    const createdThenFailed = (await server.tables()).includes('trailwarden_window_20261124t080000z_aaaa0003');
    await e.close();

    // Assess
    expect(createdThenFailed).toBe(true);
    expect(await server.tables()).not.toContain('trailwarden_window_20261124t080000z_aaaa0003');
    expect(await s3.listKeys(RESULTS, 'trailwarden/trailwarden_window_20261124t080000z_aaaa0003/')).toEqual([]);
  });

  it('at start, removes window tables and folders of crashed runs older than a day, and keeps younger ones', async () => {
    // Prepare: two crashed runs (one left a table, one only a folder) and a run still going
    await server.seedTable('trailwarden_window_20261120t080000z_dead0001', `${CTAS_LOCATION}trailwarden_window_20261120t080000z_dead0001/`);
    await s3.put(RESULTS, 'trailwarden/trailwarden_window_20261121t080000z_dead0002/part-0.parquet', 'x');
    await server.seedTable('trailwarden_window_20261124t070000z_live0001', `${CTAS_LOCATION}trailwarden_window_20261124t070000z_live0001/`);
    await s3.put(RESULTS, 'trailwarden/unrelated/keep.txt', 'x');
    const time = fakeTime();

    // Act
    const e = await engine({ now: time.now, sleep: time.sleep });
    await e.close();

    // Assess
    const tables = await server.tables();
    expect(tables).not.toContain('trailwarden_window_20261120t080000z_dead0001');
    expect(tables).toContain('trailwarden_window_20261124t070000z_live0001');
    const keys = await s3.listKeys(RESULTS, 'trailwarden/');
    expect(keys.filter((k) => k.includes('dead'))).toEqual([]);
    expect(keys.some((k) => k.includes('live0001'))).toBe(true);
    expect(keys).toContain('trailwarden/unrelated/keep.txt');
  });

  it('in direct mode creates no table: each check reads the logs through the filtered, de-duplicated window', async () => {
    // Prepare
    const e = await engine({ mode: 'direct', ctasLocation: undefined });
    const before = server.calls.length;

    // Act
    const stats = await e.loadWindow({
      runId: '20261124T080000Z-aaaa0004',
      window: WINDOW,
      files,
      columns: ['eventtime', 'eventid', 'eventcategory', 'eventname'],
    });
    const result = await e.query(EVENTS_SQL, WINDOW_PARAMS, { runId: '20261124T080000Z-aaaa0004', checkId: 'events' });
    await e.close();

    // Assess: the same answers as with CTAS, no table, and the check itself scanned the window's objects
    const sqls = server.calls
      .slice(before)
      .filter((c) => c.target === 'StartQueryExecution')
      .map((c) => String(c.input.QueryString));
    expect(sqls.filter((sql) => /CREATE TABLE|DROP TABLE/.test(sql))).toEqual([]);
    expect(stats).toMatchObject({ events: 4, duplicates: 1, recordsWithoutTime: 1, filesSkipped: [{ path: corruptKey }] });
    expect(result.rows.map((r) => r[0])).toEqual(['ConsoleLogin', 'CreateUser', 'DescribeInstances', "Put'Object"]);
    const check = executionsMatching(/events by name/).at(-1)!;
    expect(check.pathsRead).toHaveLength(3);
    expect(result.scannedBytes).toBe(check.pathsRead.reduce((sum, p) => sum + server.sourceObjects.get(p)!, 0));
    expect(check.parameters.at(-1)).toBe("'2026-11-21T12:00:00Z'");
  });

  it('aborts before any query when the window alone exceeds the scan budget', async () => {
    const e = await engine({ scanBudgetBytes: 100 });
    const before = starts().length;
    const windowBytes = files.reduce((sum, f) => sum + f.bytes, 0);

    const load = e.loadWindow({ runId: '20261124T080000Z-aaaa0005', window: WINDOW, files });

    await expect(load).rejects.toBeInstanceOf(ScanBudgetError);
    await expect(load).rejects.toMatchObject({ code: 'SCAN_BUDGET_EXCEEDED', windowBytes, budgetBytes: 100 });
    await expect(load).rejects.toThrow(/engine\.scan_budget_gb/);
    await expect(load).rejects.toThrow(`${files.length} CloudTrail objects`);
    expect(starts().length).toBe(before);
    await e.close();
  });
});

describe('Athena engine: talking to Athena', () => {
  let e: AthenaEngine;
  let time: ReturnType<typeof fakeTime>;

  async function loaded(overrides: Partial<AthenaEngineOptions> = {}, runId = `20261124T080000Z-${Math.random().toString(16).slice(2, 10)}`) {
    time = fakeTime();
    e = await engine({ now: time.now, sleep: time.sleep, pollInitialMs: 100, pollMaxMs: 800, retryBaseMs: 50, retryMaxMs: 400, random: () => 1, ...overrides });
    await e.loadWindow({ runId, window: WINDOW, files, columns: ['eventtime', 'eventid', 'eventcategory', 'eventname'] });
    time.sleeps.length = 0;
    return runId;
  }

  afterAll(async () => e?.close());

  it('polls with capped exponential backoff while the query is queued and running', async () => {
    await loaded();
    server.behave({ match: /-- backoff/, queuedPolls: 3, runningPolls: 4, times: 1 });

    const result = await e.query(`-- backoff\n${EVENTS_SQL}`, WINDOW_PARAMS);
    const sleeps = [...time.sleeps];
    await e.close();

    expect(result.rows).toHaveLength(4);
    expect(sleeps).toEqual([100, 200, 400, 800, 800, 800, 800, 800]);
    expect(executionsMatching(/-- backoff/)[0]!.polls).toBe(8);
  });

  it('stops a query that outlives the timeout and reports it', async () => {
    await loaded({ queryTimeoutMs: 2000 });
    server.behave({ match: /-- hangs/, hang: true, times: 1 });

    const query = e.query(`-- hangs\n${EVENTS_SQL}`, WINDOW_PARAMS, { runId: 'r', checkId: 'slow' });

    await expect(query).rejects.toBeInstanceOf(QueryTimeoutError);
    const hung = executionsMatching(/-- hangs/)[0]!;
    const stop = server.calls.find((c) => c.target === 'StopQueryExecution' && c.input.QueryExecutionId === hung.id);
    expect(stop?.outcome).toBe('answered');
    expect(hung.stopped).toBe(true);
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBe(2000);
    await e.close();
  });

  it('retries request-rate throttling with bounded, jittered backoff and then succeeds', async () => {
    const jitter = [0.5, 0.25, 1, 0.75];
    let i = 0;
    await loaded({ pollInitialMs: 1, pollMaxMs: 1, retryBaseMs: 100, retryMaxMs: 300, random: () => jitter[i++ % jitter.length]! });
    i = 0;
    const before = server.calls.length;
    server.throttle('StartQueryExecution', 2, 'ThrottlingException');
    server.throttle('GetQueryExecution', 1);
    server.throttle('GetQueryResults', 1);

    const result = await e.query(EVENTS_SQL, WINDOW_PARAMS, { runId: 'r', checkId: 'throttled' });
    const outcomes = server.calls.slice(before).map((c) => `${c.target}:${c.outcome}`);
    const sleeps = [...time.sleeps];
    await e.close();

    expect(result.rows).toHaveLength(4);
    expect(outcomes.filter((o) => o.endsWith(':throttled'))).toHaveLength(4);
    expect(outcomes.filter((o) => o.startsWith('StartQueryExecution'))).toEqual([
      'StartQueryExecution:throttled',
      'StartQueryExecution:throttled',
      'StartQueryExecution:answered',
    ]);
    // Full jitter: random × min(cap, base × 2^(attempt - 1)). The start's 2nd retry doubles the base;
    // each later call starts again at the base. (The 1 ms sleeps are the polls.)
    expect(sleeps.filter((ms) => ms !== 1)).toEqual([0.5 * 100, 0.25 * 200, 1 * 100, 0.75 * 100]);
  });

  it('gives up after the bounded number of throttled attempts', async () => {
    await loaded({ retryAttempts: 3 });
    server.throttle('StartQueryExecution', 3);

    await expect(e.query(EVENTS_SQL, WINDOW_PARAMS, { runId: 'r', checkId: 'always-throttled' })).rejects.toMatchObject({ name: 'ThrottlingException' });
    await e.close();
  });

  it("turns FAILED and CANCELLED into errors carrying Athena's reason", async () => {
    await loaded();
    server.behave({ match: /-- fails/, fail: "SYNTAX_ERROR: line 3:8: Column 'nope' cannot be resolved", times: 1 });
    server.behave({ match: /-- cancelled/, cancel: 'Query cancelled by the workgroup: bytes scanned limit exceeded', times: 1 });

    const failed = e.query(`-- fails\n${EVENTS_SQL}`, WINDOW_PARAMS);
    const cancelled = e.query(`-- cancelled\n${EVENTS_SQL}`, WINDOW_PARAMS);

    await expect(failed).rejects.toBeInstanceOf(QueryFailedError);
    await expect(failed).rejects.toThrow("FAILED: SYNTAX_ERROR: line 3:8: Column 'nope' cannot be resolved");
    await expect(cancelled).rejects.toThrow('CANCELLED: Query cancelled by the workgroup: bytes scanned limit exceeded');
    await e.close();
  });

  it('reads every page of a result and skips only the header row', async () => {
    await loaded();
    server.pageSize = 2;
    const before = server.calls.length;

    const result = await e.query('SELECT eventid, eventname FROM cloudtrail_window ORDER BY eventid', []);
    await e.close();

    // 4 events + header = 5 rows over pages of 2
    expect(result.rows).toHaveLength(4);
    expect(result.rows.every((r) => r[0] !== 'eventid')).toBe(true);
    expect(new Set(result.rows.map((r) => r[0])).size).toBe(4);
    expect(server.calls.slice(before).filter((c) => c.target === 'GetQueryResults')).toHaveLength(3);
  });

  it('keeps SQL NULL apart from the empty string', async () => {
    await loaded();
    const result = await e.query("SELECT eventname, CASE WHEN eventname = 'CreateUser' THEN NULL ELSE '' END AS v FROM cloudtrail_window ORDER BY 1", []);
    await e.close();
    expect(result.rows.find((r) => r[0] === 'CreateUser')?.[1]).toBeNull();
    expect(result.rows.find((r) => r[0] === 'ConsoleLogin')?.[1]).toBe('');
  });

  it('retries a start whose answer got lost with the same token, so the query runs once', async () => {
    const runId = await loaded();
    server.loseStartAnswers(1);

    const result = await e.query(EVENTS_SQL, WINDOW_PARAMS, { runId, checkId: 'lost_answer' });
    await e.close();

    const token = requestToken(runId, 'lost_answer', 'check');
    const startsWithToken = server.calls.filter((c) => c.target === 'StartQueryExecution' && c.input.ClientRequestToken === token);
    expect(startsWithToken.map((c) => c.outcome)).toEqual(['lost', 'answered']);
    expect([...server.executions.values()].filter((x) => x.token === token)).toHaveLength(1);
    expect(result.rows).toHaveLength(4);
  });

  it('retries a start whose connection died, before or after Athena got it, with the same token: the query runs once', async () => {
    // Prepare: the engine talks to Athena through a proxy that kills connections (the SDK's own retries are off)
    const proxy = await startFlakyProxy(server.endpoint);
    const viaProxy = new AthenaClient({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const runId = '20261124T080000Z-feed0001';
    const isStart = (r: { method: string }) => r.method === 'POST';
    try {
      const engine = await AthenaEngine.create(
        options({ mode: 'direct', ctasLocation: undefined, retryBaseMs: 1, retryMaxMs: 1 }),
        { athena: viaProxy, s3: s3.client },
        silentLog,
      );
      await engine.loadWindow({ runId, window: WINDOW, files, columns: ['eventtime', 'eventid', 'eventcategory', 'eventname'] });

      // Act: the first start never reaches Athena; the second reaches it but its answer is cut off
      proxy.dropNext(1, { matching: isStart });
      const dropped = await engine.query(EVENTS_SQL, WINDOW_PARAMS, { runId, checkId: 'dropped' });
      proxy.cutNext(1, { matching: isStart });
      const cut = await engine.query(EVENTS_SQL, WINDOW_PARAMS, { runId, checkId: 'cut' });
      await engine.close();

      // Assess: both checks answered, and each token started exactly one execution
      expect(dropped.rows).toHaveLength(4);
      expect(cut.rows).toHaveLength(4);
      expect(proxy.requests.map((r) => r.outcome)).toEqual(expect.arrayContaining(['dropped', 'cut']));
      for (const checkId of ['dropped', 'cut']) {
        const token = requestToken(runId, checkId, 'check');
        expect([...server.executions.values()].filter((x) => x.token === token)).toHaveLength(1);
      }
    } finally {
      viaProxy.destroy();
      await proxy.stop();
    }
  });

  it('keeps at most `concurrency` queries in flight', async () => {
    await loaded({ concurrency: 2, pollInitialMs: 1, pollMaxMs: 1 });
    server.behave({ match: /-- crowd/, queuedPolls: 2, runningPolls: 2 });
    server.resetMaxInFlight();

    const results = await Promise.all(
      Array.from({ length: 6 }, (_, n) => e.query(`-- crowd ${n}\n${EVENTS_SQL}`, WINDOW_PARAMS, { runId: 'r', checkId: `crowd_${n}` })),
    );
    await e.close();

    expect(results.every((r) => r.rows.length === 4)).toBe(true);
    expect(server.maxInFlight).toBe(2);
  });

  it('asks for result reuse only when configured', async () => {
    await loaded({ resultReuseMinutes: 60 });
    await e.query(`-- reuse\n${EVENTS_SQL}`, WINDOW_PARAMS);
    await e.close();
    expect(executionsMatching(/-- reuse/)[0]!.resultReuse).toEqual({ ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: 60 } });
    expect(executionsMatching(/^CREATE TABLE/).at(-1)!.resultReuse).toBeUndefined();
  });
});
