import { readdir, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { columnsSince, columnsWhere, fieldsUsedBy, type WindowReader } from '../../src/core/cloudtrail-table.js';
import { EngineError } from '../../src/core/errors.js';
import { DuckDbEngine } from '../../src/engines/duckdb.js';
import { LocalLogSource } from '../../src/source/local.js';
import { LocalEventStore } from '../../src/store/local.js';
import { record, silentLog, tempDir, writeLogFile } from '../support/fixtures.js';

const WINDOW = { start: new Date('2026-11-16T00:00:00Z'), end: new Date('2026-11-23T00:00:00Z') };

let engine: DuckDbEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

async function load(root: string, batchSize = 4) {
  const listing = await new LocalLogSource({ path: root }).list(WINDOW);
  engine = await DuckDbEngine.create({ threads: 2, batchSize }, silentLog);
  const stats = await engine.loadWindow({ window: WINDOW, files: listing.files });
  return { listing, stats, engine };
}

/** An engine over raw logs, or with a store of its own (`from`: 'the store'). */
async function engineReading(from: string): Promise<DuckDbEngine> {
  const store = from === 'the store' ? new LocalEventStore({ path: path.join(await tempDir(), 'store'), log: silentLog }) : undefined;
  return DuckDbEngine.create({ threads: 2, ...(store ? { store } : {}) }, silentLog);
}

describe('DuckDB engine over a local CloudTrail tree', () => {
  it.each([1, 4, 100])('skips and names every unreadable file, and still loads the good ones and every complete record (batches of %i)', async (batchSize) => {
    // Prepare: one good file, and one of each kind of bad file, in one batch
    const root = await tempDir();
    const good = record({ eventTime: '2026-11-20T10:00:00Z', eventID: 'good-1' });
    await writeLogFile(root, { day: '2026/11/20', name: 'a-good.json.gz', records: [good] });
    const lost = Array.from({ length: 200 }, (_, i) => record({ eventTime: '2026-11-20T11:00:00Z', eventID: `lost-${i}` }));
    const json = JSON.stringify({ Records: lost });
    const whole = gzipSync(json);
    const truncated = whole.subarray(0, whole.length / 2);
    await writeLogFile(root, { day: '2026/11/20', name: 'b-truncated.json.gz', content: truncated });
    await writeLogFile(root, { day: '2026/11/20', name: 'c-header-only.json.gz', content: whole.subarray(0, 12) });
    await writeLogFile(root, { day: '2026/11/20', name: 'd-not-json.json', content: 'this is not JSON', gzip: false });
    await writeLogFile(root, { day: '2026/11/20', name: 'e-no-records.json', content: '{"digestPublicKeyFingerprint":"x"}', gzip: false });
    await writeLogFile(root, { day: '2026/11/20', name: 'f-not-gzip.json.gz', content: 'plain text with a gz name' });
    await writeLogFile(root, { day: '2026/11/20', name: 'g-empty.json.gz', content: '' });
    await writeLogFile(root, { day: '2026/11/20', name: 'h-readme.txt', content: 'hello' });
    // Valid gzip followed by junk (DuckDB's error for it names no file): gzip -d reads it, and so do we, saying so.
    await writeLogFile(root, { day: '2026/11/20', name: 'i-trailing-junk.json.gz', content: Buffer.concat([whole, Buffer.from('junk')]) });
    await writeLogFile(root, {
      day: '2026/11/20',
      name: 'j-good.json',
      gzip: false,
      records: [record({ eventTime: '2026-11-20T12:00:00Z', eventID: 'good-2' })],
    });
    // A digest file sits beside CloudTrail/, not in it: not an event file, not a skipped one.
    await writeLogFile(root, { day: '2026/11/20', trailFolder: 'CloudTrail-Digest', name: 'digest.json.gz', records: [] });
    // What the cut leaves, worked out here from the JSON text: the records that end before it, and whether one was begun.
    const left = gunzipSync(truncated, { finishFlush: constants.Z_SYNC_FLUSH }).length;
    const ends = lost.map((_, i) => JSON.stringify({ Records: lost.slice(0, i + 1) }).length - 2);
    const complete = ends.filter((end) => end <= left).length;

    // Act
    const { listing, stats, engine } = await load(root, batchSize);

    // Assess
    const skipped = Object.fromEntries([...listing.skipped, ...stats.filesSkipped].map((s) => [s.path.split('/').at(-1) ?? s.path, s.reason] as const));
    expect(Object.keys(skipped).sort()).toEqual([
      'c-header-only.json.gz',
      'd-not-json.json',
      'e-no-records.json',
      'f-not-gzip.json.gz',
      'g-empty.json.gz',
      'h-readme.txt',
    ]);
    expect(skipped['d-not-json.json']).toMatch(/not valid JSON at byte/);
    expect(skipped['f-not-gzip.json.gz']).toContain('not a valid gzip file');
    expect(skipped['c-header-only.json.gz']).toContain('truncated');
    expect(skipped['e-no-records.json']).toContain('without a "Records" array');
    expect(skipped['g-empty.json.gz']).toContain('empty file');
    for (const s of stats.filesSkipped) expect(s.path).toMatch(/^AWSLogs\/111111111111\/CloudTrail\/us-east-1\/2026\/11\/20\//);
    // The truncated file's complete records are read; the one the cut runs through is counted. The junk is named.
    const key = (name: string) => `AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/${name}`;
    expect(complete).toBeGreaterThan(50);
    expect(stats.recordsDropped).toEqual([
      { path: key('b-truncated.json.gz'), reason: 'cut off by the end of the file', count: left > ends[complete - 1]! ? 1 : 0 },
      {
        path: key('i-trailing-junk.json.gz'),
        reason: expect.stringMatching(/^data after the end of the gzip stream is not gzip .*: ignored$/) as string,
        count: 0,
      },
    ]);
    expect(stats.filesRead).toBe(4);
    // Every lost-* record is in the complete copy; the truncated file's are the same records delivered again.
    expect(stats.events).toBe(202);
    expect(stats.duplicates).toBe(complete);
    expect(stats.conflicts).toEqual([]);
    const rows = await engine.query("SELECT eventid FROM cloudtrail_window WHERE eventid LIKE 'good-%' ORDER BY eventid", []);
    expect(rows.rows).toEqual([['good-1'], ['good-2']]);
  });

  it('reads the organization layout and plain .json, filters on eventTime and removes duplicate deliveries', async () => {
    // Prepare
    const root = await tempDir();
    const inside = record({ eventTime: '2026-11-22T23:59:59Z', eventID: 'dup' });
    await writeLogFile(root, { day: '2026/11/23', records: [inside, record({ eventTime: '2026-11-23T00:00:00Z', eventID: 'at-end' })] });
    await writeLogFile(root, { day: '2026/11/23', records: [inside] }); // the same event delivered again
    await writeLogFile(root, {
      day: '2026/11/15', // the day before the window is read too: it may hold events of the window's start
      organization: 'o-a1b2c3d4e5',
      account: '222222222222',
      region: 'eu-west-1',
      gzip: false,
      records: [record({ eventTime: '2026-11-15T23:59:59Z', eventID: 'before' }), record({ eventTime: '2026-11-16T00:00:00Z', eventID: 'at-start' })],
    });
    await writeLogFile(root, { day: '2026/11/10', records: [record({ eventTime: '2026-11-20T00:00:00Z', eventID: 'folder-out-of-range' })] });

    // Act
    const { stats, engine } = await load(root);

    // Assess
    const result = await engine.query('SELECT eventid, account, region FROM cloudtrail_window ORDER BY eventid', []);
    expect(result.rows).toEqual([
      ['at-start', '222222222222', 'eu-west-1'],
      ['dup', '111111111111', 'us-east-1'],
    ]);
    expect(stats).toMatchObject({ events: 2, duplicates: 1, accounts: ['111111111111', '222222222222'], regions: ['eu-west-1', 'us-east-1'] });
  });

  it.each(['raw logs', 'the store'])(
    'loads a column only from when a check needs it, struct fields only as named, and shows each check its own window (%s)',
    async (from) => {
      // Prepare: an event before the user-agent check's window, one inside it
      const root = await tempDir();
      await writeLogFile(root, {
        day: '2026/11/21',
        records: [
          record({ eventTime: '2026-11-17T10:00:00Z', eventID: 'early', userAgent: 'ua-early' }),
          record({ eventTime: '2026-11-21T10:00:00Z', eventID: 'late', userAgent: 'ua-late' }),
        ],
      });
      const source = new LocalLogSource({ path: root });
      engine = await engineReading(from);
      const checkStart = '2026-11-20T00:00:00Z';

      // Act: the checks read from checkStart on
      const fields = fieldsUsedBy(['SELECT useragent, useridentity.arn FROM cloudtrail_window WHERE eventtime >= ?']);
      await engine.loadWindow({
        window: WINDOW,
        files: (await source.list(WINDOW)).files,
        source,
        columns: fields,
        since: { useragent: checkStart },
      });
      const whole = await engine.query('SELECT eventid, useragent, useridentity.arn FROM cloudtrail_window ORDER BY eventid', []);
      const context = (windowStart: string) => ({ runId: 'r', checkId: 'ua', windowStart });
      const own = await engine.query('SELECT eventid, useragent FROM cloudtrail_window ORDER BY eventid', [], context(checkStart));
      const longer = await engine.query('SELECT eventid, useridentity.arn FROM cloudtrail_window ORDER BY eventid', [], context('2026-11-16T00:00:00Z'));
      const type = await engine.query('SELECT DISTINCT typeof(useridentity) FROM cloudtrail_window', [], context(checkStart));

      // Assess: the early event has no user agent in the load, and a check of the later window never sees it
      expect(whole.rows).toEqual([
        ['early', null, 'arn:aws:sts::111111111111:assumed-role/deploy/session'],
        ['late', 'ua-late', 'arn:aws:sts::111111111111:assumed-role/deploy/session'],
      ]);
      expect(own.rows).toEqual([['late', 'ua-late']]);
      // A query reaching back before the checks' part still sees every event (from Parquet, for the store).
      expect(longer.rows).toEqual([
        ['early', 'arn:aws:sts::111111111111:assumed-role/deploy/session'],
        ['late', 'arn:aws:sts::111111111111:assumed-role/deploy/session'],
      ]);
      // A raw load holds the fields named; the store's Parquet the whole struct, of which DuckDB decodes the fields a query names.
      expect(type.rows).toEqual([
        [from === 'raw logs' ? 'STRUCT(arn VARCHAR)' : expect.stringMatching(/^STRUCT\("type" VARCHAR, principalid VARCHAR, arn VARCHAR, /)],
      ]);
      // The view the check saw was its own: the next query sees the whole window again.
      expect((await engine.query('SELECT count(*) FROM cloudtrail_window', [])).rows).toEqual([['2']]);
    },
  );

  it('from the store, shows a check only the Parquet files that can hold its events: by their latest eventtime, not their day', async () => {
    // Prepare: a partition of only early events; an early day's partition with one late event in it (a late or
    // mis-stamped record); a late partition
    const root = await tempDir();
    await writeLogFile(root, { day: '2026/11/17', records: [record({ eventTime: '2026-11-17T10:00:00Z', eventID: 'early-only' })] });
    await writeLogFile(root, {
      day: '2026/11/16',
      region: 'eu-west-1',
      records: [
        record({ eventTime: '2026-11-16T10:00:00Z', eventID: 'early-day' }),
        record({ eventTime: '2026-11-21T09:00:00Z', eventID: 'late-in-early-day' }),
      ],
    });
    await writeLogFile(root, { day: '2026/11/21', records: [record({ eventTime: '2026-11-21T10:00:00Z', eventID: 'late' })] });
    const storeDir = path.join(await tempDir(), 'store');
    const source = new LocalLogSource({ path: root });
    engine = await DuckDbEngine.create({ threads: 2, store: new LocalEventStore({ path: storeDir, log: silentLog }) }, silentLog);
    await engine.loadWindow({ window: WINDOW, files: (await source.list(WINDOW)).files, source });
    // The early partition's Parquet goes away: a query that reads it fails, one that does not is unaffected.
    const early = (await readdir(storeDir, { recursive: true })).filter(
      (file) => file.includes(path.join('us-east-1', '2026', '11', '17')) && file.endsWith('.parquet'),
    );
    expect(early).toHaveLength(1);
    await rm(path.join(storeDir, early[0]!));

    // Act
    const context = { runId: 'r', checkId: 'late', windowStart: '2026-11-20T00:00:00Z' };
    const late = await engine.query('SELECT eventid FROM cloudtrail_window ORDER BY eventid', [], context);
    const whole = engine.query('SELECT eventid FROM cloudtrail_window ORDER BY eventid', [], { ...context, windowStart: '2026-11-16T00:00:00Z' });

    // Assess: the late event of the early day is seen; the file of only early events was not read
    expect(late.rows).toEqual([['late'], ['late-in-early-day']]);
    await expect(whole).rejects.toThrow(/parquet|No files found|does not exist|No such file/i);
  });

  it.each(['raw logs', 'the store'])(
    "loads a column read only in some records (the activity aggregate's request parameters) only in those (%s)",
    async (from) => {
      // Prepare: an AssumeRole call and another call, both with request parameters, before the column's time
      const root = await tempDir();
      await writeLogFile(root, {
        day: '2026/11/18',
        records: [
          record({
            eventTime: '2026-11-18T10:00:00Z',
            eventID: 'assume',
            eventSource: 'sts.amazonaws.com',
            eventName: 'AssumeRole',
            requestParameters: { roleArn: 'arn:aws:iam::111111111111:role/x' },
          }),
          record({
            eventTime: '2026-11-18T11:00:00Z',
            eventID: 'other',
            eventSource: 's3.amazonaws.com',
            eventName: 'CreateBucket',
            requestParameters: { bucketName: 'b' },
          }),
          record({
            eventTime: '2026-11-21T11:00:00Z',
            eventID: 'recent',
            eventSource: 's3.amazonaws.com',
            eventName: 'CreateBucket',
            requestParameters: { bucketName: 'c' },
          }),
        ],
      });
      const source = new LocalLogSource({ path: root });
      engine = await engineReading(from);
      const sql = 'SELECT eventid, eventsource, eventname, requestparameters FROM cloudtrail_window';
      const readers: WindowReader[] = [
        { sql, start: '2026-11-16T00:00:00Z', rows: { requestparameters: (c) => `${c('eventsource')} = 'sts.amazonaws.com'` } },
        { sql: 'SELECT requestparameters FROM cloudtrail_window', start: '2026-11-20T00:00:00Z' },
      ];
      const since = columnsSince(readers, '2026-11-16T00:00:00Z');

      // Act
      await engine.loadWindow({
        window: WINDOW,
        files: (await source.list(WINDOW)).files,
        source,
        columns: fieldsUsedBy([sql]),
        since,
        where: columnsWhere(readers, since, '2026-11-16T00:00:00Z'),
      });
      const rows = await engine.query('SELECT eventid, requestparameters IS NOT NULL FROM cloudtrail_window ORDER BY eventid', []);

      // Assess: the AssumeRole call and the recent call hold it; the other, older call does not
      expect(since).toEqual({ requestparameters: '2026-11-20T00:00:00Z' });
      expect(rows.rows).toEqual([
        ['assume', 'true'],
        ['other', 'false'],
        ['recent', 'true'],
      ]);
    },
  );

  it.each(['raw logs', 'the store'])(
    'removes second deliveries across files and days, keeps and reports an eventID with two contents, and so does every check (%s)',
    async (from) => {
      // Prepare: e1 delivered three times (twice on the 20th, once more in the next day's folder), c1 twice with different content
      const root = await tempDir();
      const e1 = record({ eventTime: '2026-11-20T23:59:00Z', eventID: 'e1', userAgent: 'same' });
      const c1 = (userAgent: string) => record({ eventTime: '2026-11-20T10:00:00Z', eventID: 'c1', userAgent });
      const first = await writeLogFile(root, {
        day: '2026/11/20',
        name: 'a.json.gz',
        records: [e1, c1('ua-a'), record({ eventTime: '2026-11-20T11:00:00Z', eventID: 'e2' })],
      });
      const second = await writeLogFile(root, { day: '2026/11/20', name: 'b.json.gz', records: [c1('ua-b'), e1] });
      await writeLogFile(root, { day: '2026/11/21', name: 'c.json.gz', records: [e1] });
      const source = new LocalLogSource({ path: root });
      engine = await engineReading(from);

      // Act
      const stats = await engine.loadWindow({
        window: WINDOW,
        files: (await source.list(WINDOW)).files,
        source,
        columns: fieldsUsedBy(['SELECT useragent FROM cloudtrail_window']),
      });
      const sql = 'SELECT eventid, useragent FROM cloudtrail_window ORDER BY eventid, useragent';
      const whole = await engine.query(sql, []);
      const own = await engine.query(sql, [], { runId: 'r', checkId: 'ua', windowStart: '2026-11-20T00:00:00Z' });

      // Assess
      const key = (file: string) => path.relative(root, file);
      expect(stats).toMatchObject({ events: 4, duplicates: 2, conflicts: [{ eventId: 'c1', records: 2, paths: [key(first), key(second)] }] });
      const rows = [
        ['c1', 'ua-a'],
        ['c1', 'ua-b'],
        ['e1', 'same'],
        ['e2', 'aws-cli/2.15.0'],
      ];
      expect(whole.rows).toEqual(rows);
      expect(own.rows).toEqual(rows);
    },
  );

  it('reads the folder of the day after the window: an event just before the end may be delivered after midnight', async () => {
    // Prepare
    const root = await tempDir();
    await writeLogFile(root, { day: '2026/11/23', records: [record({ eventTime: '2026-11-22T23:58:00Z', eventID: 'late' })] });
    const window = { start: new Date('2026-11-16T00:00:00Z'), end: new Date('2026-11-22T23:59:59Z') };

    // Act
    const listing = await new LocalLogSource({ path: root }).list(window);
    engine = await DuckDbEngine.create({ threads: 2 }, silentLog);
    const stats = await engine.loadWindow({ window, files: listing.files });

    // Assess
    expect(stats.events).toBe(1);
  });

  it('aborts on an engine failure instead of calling every file unreadable', async () => {
    // Prepare: far too little memory for DuckDB to read anything
    const root = await tempDir();
    const records = Array.from({ length: 3000 }, (_, i) => record({ eventTime: '2026-11-20T10:00:00Z', userAgent: `agent-${i}-${'x'.repeat(200)}` }));
    await writeLogFile(root, { day: '2026/11/20', records });
    await writeLogFile(root, { day: '2026/11/21', records });
    const listing = await new LocalLogSource({ path: root }).list(WINDOW);
    engine = await DuckDbEngine.create({ threads: 2, memoryLimit: '1MB' }, silentLog);

    // Act + Assess
    const loading = engine.loadWindow({ window: WINDOW, files: listing.files });
    await expect(loading).rejects.toBeInstanceOf(EngineError);
    await expect(loading).rejects.toThrow(/failed: Out of Memory/);
  });

  it('follows symbolic links and reports, not reads, files whose names DuckDB would take as globs', async () => {
    // Prepare
    const root = await tempDir();
    const real = await writeLogFile(root, {
      day: '2026/11/20',
      name: 'real.json.gz',
      records: [record({ eventTime: '2026-11-20T10:00:00Z', eventID: 'via-link' })],
    });
    const elsewhere = await tempDir();
    await rename(real, path.join(elsewhere, 'real.json.gz'));
    await symlink(path.join(elsewhere, 'real.json.gz'), real);
    await writeLogFile(root, { day: '2026/11/20', name: 'a*.json.gz', records: [record({ eventTime: '2026-11-20T10:00:00Z' })] });
    await symlink(path.join(elsewhere, 'missing.json.gz'), path.join(path.dirname(real), 'dangling.json.gz'));

    // Act
    const { listing, stats } = await load(root);

    // Assess
    expect(stats.events).toBe(1);
    expect(listing.skipped.map((s) => [s.path.split('/').at(-1), s.reason.split(' (')[0]])).toEqual([
      ['a*.json.gz', 'not a CloudTrail log file name'],
      ['dangling.json.gz', 'not a regular file'],
    ]);
  });

  it('binds a parameter holding a quote as a value: it cannot change the query', async () => {
    // Prepare
    const root = await tempDir();
    await writeLogFile(root, { day: '2026/11/20', records: [record({ eventTime: '2026-11-20T10:00:00Z' })] });
    const { engine } = await load(root);
    const sql = `SELECT count(*) AS n FROM cloudtrail_window
                 WHERE cardinality(?) = 0 OR contains(?, useridentity.sessioncontext.sessionissuer.arn)`;
    const hostile = ["x') OR 1=1 OR ('"];

    // Act
    const all = await engine.query(sql, [[], []]);
    const injected = await engine.query(sql, [hostile, hostile]);
    const scalar = await engine.query('SELECT count(*) AS n FROM cloudtrail_window WHERE eventname = ?', ["' OR '1'='1"]);

    // Assess
    expect(all.rows).toEqual([['1']]);
    expect(injected.rows).toEqual([['0']]);
    expect(scalar.rows).toEqual([['0']]);
  });

  it('provides the Trino functions the checks use, with Trino semantics', async () => {
    const root = await tempDir();
    await writeLogFile(root, {
      day: '2026/11/20',
      records: [record({ eventTime: '2026-11-20T10:00:00Z', responseElements: { ConsoleLogin: 'Success', nested: { a: 1 } } })],
    });
    const { engine } = await load(root);
    const result = await engine.query(
      `SELECT json_extract_scalar(responseelements, '$.ConsoleLogin') AS login,
              json_extract_scalar(responseelements, '$.nested') AS obj,
              regexp_like(eventname, '^Describe') AS re,
              CAST(date_add('day', 1, from_iso8601_timestamp(eventtime)) AS VARCHAR) AS next_day
       FROM cloudtrail_window`,
      [],
    );
    expect(result.rows[0]?.slice(0, 3)).toEqual(['Success', null, 'true']);
    expect(result.rows[0]?.[3]).toMatch(/^2026-11-21 10:00:00/);
  });

  it('loads an empty window without error', async () => {
    const root = await tempDir();
    await writeLogFile(root, { day: '2026/10/01', records: [record({ eventTime: '2026-10-01T00:00:00Z' })] });
    const { stats, engine } = await load(root);
    expect(stats).toMatchObject({ events: 0, filesRead: 0, filesSkipped: [] });
    expect((await engine.query('SELECT count(*) FROM cloudtrail_window', [])).rows).toEqual([['0']]);
  });

  it('counts a file whose events all fall outside the window as read, and an empty Records array as valid JSON', async () => {
    // Prepare: files in the window's edge folders (the day before its start, the day after its end)
    // whose events are all outside it, a delivery with no events, and one file with events inside.
    const root = await tempDir();
    await writeLogFile(root, { day: '2026/11/15', records: [record({ eventTime: '2026-11-15T23:00:00Z' })] });
    await writeLogFile(root, { day: '2026/11/24', records: [record({ eventTime: '2026-11-23T00:00:05Z' }), record({ eventTime: '2026-11-23T01:00:00Z' })] });
    await writeLogFile(root, { day: '2026/11/20', records: [] });
    await writeLogFile(root, { day: '2026/11/20', records: [record({ eventTime: '2026-11-20T10:00:00Z', eventID: 'inside' })] });

    // Act
    const { stats, engine } = await load(root);

    // Assess
    expect(stats).toMatchObject({ events: 1, filesRead: 4, filesSkipped: [], recordsWithoutTime: 0 });
    expect((await engine.query('SELECT eventid FROM cloudtrail_window', [])).rows).toEqual([['inside']]);
  });
});
