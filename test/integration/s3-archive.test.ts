import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalArchive } from '../../src/archive/local.js';
import { S3Archive, S3ArchivedRun, type S3ArchiveOptions } from '../../src/archive/s3.js';
import { buildManifest, serializeManifest } from '../../src/core/manifest.js';
import { CheckDefinition, withDefaults } from '../../src/core/catalog.js';
import { buildRowKeys, checkDigest, ROW_KEYS_FILE, suiteDigest } from '../../src/core/changes.js';
import type { EvidenceArchive } from '../../src/archive/types.js';
import { readHistory } from '../../src/flows/history.js';
import { verifyRun } from '../../src/flows/verify.js';
import { manifestOf } from '../support/manifest.js';
import { ArchiveError } from '../../src/core/errors.js';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { silentLog, tempDir } from '../support/fixtures.js';
import { startS3, type LocalS3 } from '../support/s3.js';

const AS_OF = new Date('2026-11-23T08:00:00Z');
const CSV = 'event_time,account\n2026-11-21T09:15:02Z,111111111111\n';

let s3: LocalS3;
let proxy: FlakyProxy;
/** Through the proxy: requests recorded (what real S3 would receive), failures injectable. */
let client: S3Client;
let bucketNumber = 0;
let runNumber = 0;

async function newArchive(extra: Partial<S3ArchiveOptions> = {}): Promise<{ archive: S3Archive; bucket: string }> {
  bucketNumber += 1;
  const bucket = await s3.createBucket(`evidence-${bucketNumber}`);
  return { archive: new S3Archive({ bucket, prefix: 'trailwarden/', client, log: silentLog, ...extra }), bucket };
}

function newRunId(stamp = '20261123T080012Z'): string {
  runNumber += 1;
  return `${stamp}-${runNumber.toString(16).padStart(8, '0')}`;
}

function sha256(bytes: Uint8Array | string): Buffer {
  return createHash('sha256').update(bytes).digest();
}

const isPut = (r: { method: string }) => r.method === 'PUT';

beforeAll(async () => {
  s3 = await startS3();
  proxy = await startFlakyProxy(s3.endpoint);
  client = s3.newClient({ endpoint: proxy.endpoint, maxAttempts: 3 });
});

afterAll(async () => {
  client?.destroy();
  await proxy?.stop();
  await s3?.stop();
});

beforeEach(() => {
  proxy.heal();
  proxy.requests.length = 0;
});

describe('S3 evidence archive', () => {
  it('writes each file once under <prefix><yyyy>/<mm>/<dd>/<run-id>/ with a SHA-256 checksum, tags and SSE-KMS, and reads back the same bytes', async () => {
    // Prepare
    const { archive, bucket } = await newArchive({ kmsKeyId: 'alias/trailwarden-evidence', tags: { team: 'security', 'data class': 'evidence/audit' } });
    const runId = newRunId();

    // Act
    const folder = await archive.openRun(runId, AS_OF);
    const stored = await folder.write('root_activity_7d.csv', CSV);

    // Assess: where it is, and the bytes read back match the digest handed to the manifest
    const key = `trailwarden/2026/11/23/${runId}/root_activity_7d.csv`;
    expect(folder.location).toBe(`s3://${bucket}/trailwarden/2026/11/23/${runId}/`);
    expect(folder.locationOf('root_activity_7d.csv')).toBe(`s3://${bucket}/${key}`);
    const back = await s3.get(bucket, key);
    expect(back.toString('utf8')).toBe(CSV);
    expect(stored).toEqual({ name: 'root_activity_7d.csv', bytes: back.byteLength, sha256: sha256(back).toString('hex') });

    // What S3 received: s3rver stores none of these headers, so the request itself is the evidence.
    const puts = proxy.requests.filter(isPut);
    expect(puts).toHaveLength(1);
    const put = puts[0]!;
    expect(put.headers['x-amz-checksum-sha256']).toBe(sha256(put.body).toString('base64'));
    expect(Buffer.from(String(put.headers['x-amz-checksum-sha256']), 'base64').toString('hex')).toBe(stored.sha256);
    expect(put.headers['if-none-match']).toBe('*');
    expect(put.headers['x-amz-server-side-encryption']).toBe('aws:kms');
    expect(put.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBe('alias/trailwarden-evidence');
    expect(new URLSearchParams(String(put.headers['x-amz-tagging'])).get('data class')).toBe('evidence/audit');
    expect(new URLSearchParams(String(put.headers['x-amz-tagging'])).get('team')).toBe('security');
    expect(put.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(put.headers['x-amz-object-lock-mode']).toBeUndefined();
    // A HEAD before the write: the never-overwrite guard that works where If-None-Match is ignored.
    expect(proxy.requests.map((r) => r.method)).toEqual(['GET', 'HEAD', 'PUT']);
  });

  it('sets S3 Object Lock retention on every object it writes, when configured', async () => {
    // Prepare
    const { archive } = await newArchive({ objectLock: { mode: 'COMPLIANCE', days: 400 } });
    const before = Date.now();

    // Act
    const folder = await archive.openRun(newRunId(), AS_OF);
    await folder.write('root_activity_7d.csv', CSV);
    await folder.write('manifest.json', '{}\n');

    // Assess: on the wire (s3rver keeps no retention): mode and a retain-until date 400 days from the write.
    const puts = proxy.requests.filter(isPut);
    expect(puts).toHaveLength(2);
    for (const put of puts) {
      expect(put.headers['x-amz-object-lock-mode']).toBe('COMPLIANCE');
      const until = Date.parse(String(put.headers['x-amz-object-lock-retain-until-date']));
      expect(until - before).toBeGreaterThanOrEqual(400 * 86_400_000 - 1000);
      expect(until - Date.now()).toBeLessThanOrEqual(400 * 86_400_000);
    }
  });

  it('refuses to open a run folder that already holds objects, and to write a key twice', async () => {
    // Prepare
    const { archive, bucket } = await newArchive();
    const runId = newRunId();
    const folder = await archive.openRun(runId, AS_OF);
    await folder.write('report.txt', 'first');

    // Act
    const reopen = await archive.openRun(runId, AS_OF).catch((error: unknown) => error);
    const rewrite = await folder.write('report.txt', 'second').catch((error: unknown) => error);

    // Assess: both refused with the location named, and the evidence unchanged
    expect(reopen).toBeInstanceOf(ArchiveError);
    expect((reopen as Error).message).toBe(
      `cannot create the run folder s3://${bucket}/trailwarden/2026/11/23/${runId}/: it already holds objects and evidence is never overwritten`,
    );
    expect(rewrite).toBeInstanceOf(ArchiveError);
    expect((rewrite as Error).message).toContain(`s3://${bucket}/trailwarden/2026/11/23/${runId}/report.txt: it already exists`);
    expect((await s3.get(bucket, `trailwarden/2026/11/23/${runId}/report.txt`)).toString()).toBe('first');
  });

  it('gives presigned links that Node fetch can open, with the configured expiry', async () => {
    // Prepare
    const { archive } = await newArchive({ linkExpiryHours: 48 });
    const folder = await archive.openRun(newRunId(), AS_OF);
    await folder.write('roles_active_7d.csv', CSV);

    // Act
    const link = await folder.link('roles_active_7d.csv');
    const response = await fetch(link!);

    // Assess
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(CSV);
    expect(new URL(link!).searchParams.get('X-Amz-Expires')).toBe(String(48 * 3600));
  });

  it('finds a finished run by id whatever its as-of date, and refuses an unfinished one', async () => {
    // Prepare: a re-report of an old as-of (folder 2026/10/02), an unfinished run, and other runs around them
    const { archive, bucket } = await newArchive();
    const oldReport = newRunId('20261123T090000Z');
    const old = await archive.openRun(oldReport, new Date('2026-10-02T00:00:00Z'));
    await old.write('a.csv', CSV);
    await old.write('manifest.json', '{}\n');
    const other = await archive.openRun(newRunId('20261122T080000Z'), new Date('2026-11-22T08:00:00Z'));
    await other.write('manifest.json', '{}\n');
    const unfinished = newRunId('20261123T100000Z');
    await (await archive.openRun(unfinished, new Date('2026-11-23T10:00:00Z'))).write('a.csv', CSV);

    // Act
    const found = await archive.findRun(oldReport);
    const missing = await archive.findRun(newRunId());
    const incomplete = await archive.findRun(unfinished).catch((error: unknown) => error);

    // Assess
    expect(found?.location).toBe(`s3://${bucket}/trailwarden/2026/10/02/${oldReport}/`);
    expect((await found!.read('a.csv'))?.bytes.toString()).toBe(CSV);
    expect(await (await fetch((await found!.link('a.csv'))!)).text()).toBe(CSV);
    expect(missing).toBeUndefined();
    expect(incomplete).toBeInstanceOf(ArchiveError);
    expect((incomplete as Error).message).toBe(
      `run ${unfinished} at s3://${bucket}/trailwarden/2026/11/23/${unfinished}/ is incomplete: it has no manifest.json (the run did not finish), so it is not a finished run`,
    );
  });

  it('retries a write S3 answers with 503 or drops for a while, and the object is written once', async () => {
    // Prepare
    const { archive, bucket } = await newArchive();
    const runId = newRunId();
    const folder = await archive.openRun(runId, AS_OF);
    proxy.failNext(2, { status: 503, matching: isPut });

    // Act
    const stored = await folder.write('a.csv', CSV);
    proxy.dropNext(2, { matching: isPut });
    const second = await folder.write('b.csv', CSV);

    // Assess
    expect(proxy.requests.filter((r) => r.outcome === 'failed')).toHaveLength(2);
    expect(proxy.requests.filter((r) => r.outcome === 'dropped')).toHaveLength(2);
    expect(await s3.listKeys(bucket)).toEqual([`trailwarden/2026/11/23/${runId}/a.csv`, `trailwarden/2026/11/23/${runId}/b.csv`]);
    expect(sha256(await s3.get(bucket, `trailwarden/2026/11/23/${runId}/a.csv`)).toString('hex')).toBe(stored.sha256);
    expect(second.sha256).toBe(stored.sha256);
  });

  it('takes a 412 on a PUT whose earlier attempt was stored (answer lost) as written, and any other 412 as a refusal', async () => {
    // Prepare: S3 as seen by a retried PUT: the HEAD found nothing, then the first attempt landed and the
    // retry got 412 (s3rver ignores If-None-Match, so the proxy answers the 412; the objects are real).
    const { archive, bucket } = await newArchive();
    const runId = newRunId();
    const folder = await archive.openRun(runId, AS_OF);
    const key = (name: string) => `trailwarden/2026/11/23/${runId}/${name}`;
    await s3.put(bucket, key('ours.csv'), CSV);
    await s3.put(bucket, key('theirs.csv'), 'someone else\n');
    const headThenPut = {
      status: (r: { method: string }) => (r.method === 'HEAD' ? 404 : 412),
      matching: (r: { method: string }) => r.method === 'HEAD' || isPut(r),
    };

    // Act
    proxy.failNext(2, headThenPut);
    const ours = await folder.write('ours.csv', CSV);
    proxy.failNext(2, headThenPut);
    const theirs = await folder.write('theirs.csv', CSV).catch((error: unknown) => error);

    // Assess: our bytes are accepted as written; different bytes are never taken for ours, nor overwritten
    expect(ours).toEqual({ name: 'ours.csv', bytes: Buffer.byteLength(CSV), sha256: sha256(CSV).toString('hex') });
    expect(theirs).toBeInstanceOf(ArchiveError);
    expect((theirs as Error).message).toBe(`cannot write s3://${bucket}/${key('theirs.csv')}: it already exists and evidence is never overwritten`);
    expect((await s3.get(bucket, key('theirs.csv'))).toString()).toBe('someone else\n');
    expect(proxy.requests.filter((r) => r.outcome === 'failed').map((r) => r.method)).toEqual(['HEAD', 'PUT', 'HEAD', 'PUT']);
  });

  it('fails with an ArchiveError naming bucket and key when S3 keeps answering 503, and writes nothing', async () => {
    // Prepare
    const { archive, bucket } = await newArchive();
    const runId = newRunId();
    const folder = await archive.openRun(runId, AS_OF);
    proxy.failNext(1000, { status: 503, matching: isPut });

    // Act
    const failure = await folder.write('manifest.json', '{}').catch((error: unknown) => error);

    // Assess: three attempts (the SDK's standard retry), then a clear error with the SDK's as cause
    expect(failure).toBeInstanceOf(ArchiveError);
    expect((failure as ArchiveError).code).toBe('ARCHIVE_FAILED');
    expect((failure as Error).message).toContain(`cannot write s3://${bucket}/trailwarden/2026/11/23/${runId}/manifest.json`);
    expect((failure as Error).cause).toMatchObject({ $metadata: { httpStatusCode: 503 } });
    expect(proxy.requests.filter((r) => r.outcome === 'failed')).toHaveLength(3);
    expect(await s3.listKeys(bucket)).toEqual([]);
  });

  it('verifies a run folder in S3 object by object and names changed, missing and added objects', async () => {
    // Prepare: a run written through the archive, then tampered with directly in the bucket
    const { archive, bucket } = await newArchive();
    const runId = newRunId();
    const folder = await archive.openRun(runId, AS_OF);
    const files = [await folder.write('a.csv', CSV), await folder.write('b.csv', 'x\n1\n'), await folder.write('c.csv', 'y\n')];
    await folder.write('manifest.json', serializeManifest(manifestOf(runId, files)));
    const runFiles = new S3ArchivedRun(client, bucket, `trailwarden/2026/11/23/${runId}/`);
    const intact = await verifyRun(runFiles);
    await s3.put(bucket, `trailwarden/2026/11/23/${runId}/b.csv`, 'x\n2\n');
    await s3.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `trailwarden/2026/11/23/${runId}/c.csv` }));
    await s3.put(bucket, `trailwarden/2026/11/23/${runId}/extra.csv`, 'added later');

    // Act
    const tampered = await verifyRun(runFiles);

    // Assess
    expect(intact).toMatchObject({ runId, verified: ['a.csv', 'b.csv', 'c.csv'], problems: [] });
    expect(tampered.verified).toEqual(['a.csv']);
    expect(tampered.problems).toEqual([expect.stringMatching(/^b\.csv: changed/), 'c.csv: missing', 'extra.csv: not in the manifest (added after the run)']);
  });
});

describe('local evidence archive, new members', () => {
  it('has no links, and finds finished runs by id but refuses unfinished ones', async () => {
    // Prepare
    const root = await tempDir();
    const archive = new LocalArchive({ path: root });
    const finished = await archive.openRun('20261123T090000Z-00000001', new Date('2026-10-02T00:00:00Z'));
    await finished.write('a.csv', CSV);
    await finished.write('manifest.json', '{}\n');
    await mkdir(path.join(root, '2026', '11', '23', '20261123T100000Z-00000002'), { recursive: true });
    await writeFile(path.join(root, '2026', '11', '23', '20261123T100000Z-00000002', 'a.csv'), CSV);

    // Act
    const found = await archive.findRun('20261123T090000Z-00000001');
    const missing = await archive.findRun('20261123T090000Z-0000000f');
    const incomplete = await archive.findRun('20261123T100000Z-00000002').catch((error: unknown) => error);

    // Assess
    expect(await finished.link('a.csv')).toBeUndefined();
    expect(found?.location).toBe(path.join(root, '2026', '10', '02', '20261123T090000Z-00000001'));
    expect((await found!.read('a.csv'))?.bytes.toString()).toBe(CSV);
    expect(await found!.link('a.csv')).toBeUndefined();
    expect(missing).toBeUndefined();
    expect(incomplete).toBeInstanceOf(ArchiveError);
    expect((incomplete as Error).message).toContain('is incomplete: it has no manifest.json');
  });
});

describe('the previous runs of a job, from the archive', () => {
  const hash = (text: string) => createHash('sha256').update(text).digest('hex');
  const check = withDefaults(
    CheckDefinition.parse({
      id: 'roles_active_7d',
      title: 'Roles',
      description: 'd',
      severity: 'info',
      lookback_days: 7,
      columns: ['role_arn', 'calls'],
      key_columns: ['role_arn'],
      evaluation: { kind: 'info' },
    }),
    'SELECT 1 FROM cloudtrail_window',
  );
  const SUITE = suiteDigest([{ id: check.id, digest: checkDigest(check, hash) }], hash);
  const CONFIG = 'c'.repeat(64);

  /** A finished run as `trailwarden run` leaves it: row keys and a manifest of job `job` with `roles` active. */
  async function archiveRun(archive: EvidenceArchive, runId: string, asOf: string, roles: string[], job: string | null = 'weekly', sql = check.sql) {
    const asOfDate = new Date(asOf);
    const ran = { ...check, sql };
    const finding = {
      checkId: check.id,
      title: check.title,
      severity: check.severity,
      status: 'info' as const,
      observed: roles.length,
      threshold: null,
      reason: '',
      result: { columns: check.columns, rows: roles.map((role) => [role, '1']) },
    };
    const folder = await archive.openRun(runId, asOfDate);
    const keys = await folder.write(ROW_KEYS_FILE, JSON.stringify(buildRowKeys(runId, [ran], [finding])));
    const stats = {
      filesRead: 1,
      filesSkipped: [],
      events: 1,
      duplicates: 0,
      recordsWithoutTime: 0,
      recordsDropped: [],
      conflicts: [],
      dataEvents: 0,
      accounts: [],
      regions: [],
    };
    const manifest = buildManifest({
      runId,
      toolVersion: '0.0.0-test',
      asOf: asOfDate,
      generatedAt: asOfDate,
      window: { start: new Date(asOfDate.getTime() - 7 * 86_400_000), end: asOfDate },
      configDigest: CONFIG,
      source: 'test',
      engine: 'test',
      report: { verdict: 'pass' },
      stats,
      checks: [ran],
      findings: [finding],
      files: [keys],
      sha256: hash,
      job,
    });
    await folder.write('manifest.json', serializeManifest(manifest));
    return folder;
  }

  /** Runs around 2026-11-23T08:00:00Z: three of the job before it, and others that must not count. */
  async function history(archive: EvidenceArchive) {
    await archiveRun(archive, '20261109T080000Z-00000001', '2026-11-09T08:00:00Z', ['a', 'b']);
    await archiveRun(archive, '20261116T080000Z-00000002', '2026-11-16T08:00:00Z', ['a', 'b', 'c']);
    await archiveRun(archive, '20261122T080000Z-00000003', '2026-11-22T08:00:00Z', ['z'], 'another-job');
    const unfinished = await archive.openRun('20261123T050000Z-00000004', new Date('2026-11-23T05:00:00Z'));
    await unfinished.write(ROW_KEYS_FILE, '{}');
    const baseline = await archiveRun(archive, '20261123T060000Z-00000005', '2026-11-23T06:00:00Z', ['b', 'c', 'd']);
    await archiveRun(archive, '20261123T090000Z-00000006', '2026-11-23T08:00:00Z', ['x']);
    await archiveRun(archive, '20261124T080000Z-00000007', '2026-11-24T08:00:00Z', ['y']);
    return baseline;
  }

  const request = { job: 'weekly', configDigest: CONFIG, suiteSha256: SUITE, asOf: AS_OF, trendRuns: 8 };

  it('lists finished runs newest day first up to a date, and finds the baseline and trend of a job in S3 (s3rver)', async () => {
    // Prepare
    const { archive, bucket } = await newArchive();
    const baseline = await history(archive);

    // Act
    const days: string[][] = [];
    for await (const runs of archive.runsByDay(AS_OF)) days.push(runs.map((run) => run.location));
    const found = await readHistory(archive, request, silentLog);
    const otherSuite = await readHistory(archive, { ...request, suiteSha256: hash('another suite') }, silentLog);
    const noneBefore = await readHistory(archive, { ...request, asOf: new Date('2026-11-09T08:00:00Z') }, silentLog);

    // Assess: the unfinished run and the later day are left out; only earlier runs of the job, same suite, count
    const at = (day: string, runId: string) => `s3://${bucket}/trailwarden/${day}/${runId}/`;
    expect(days).toEqual([
      [at('2026/11/23', '20261123T060000Z-00000005'), at('2026/11/23', '20261123T090000Z-00000006')],
      [at('2026/11/22', '20261122T080000Z-00000003')],
      [at('2026/11/16', '20261116T080000Z-00000002')],
      [at('2026/11/09', '20261109T080000Z-00000001')],
    ]);
    expect(found.kind).toBe('baseline');
    if (found.kind !== 'baseline') return;
    expect(found.previous.runId).toBe('20261123T060000Z-00000005');
    expect(found.rowKeys.checks.roles_active_7d?.keys).toEqual([['b'], ['c'], ['d']]);
    expect(found.trend.map((run) => [run.runId, run.checks[0]?.observed])).toEqual([
      ['20261123T060000Z-00000005', 3],
      ['20261116T080000Z-00000002', 3],
      ['20261109T080000Z-00000001', 2],
    ]);
    expect(otherSuite).toMatchObject({ kind: 'other_suite', previous: { runId: '20261123T060000Z-00000005' }, recordedSuite: true });
    expect(noneBefore).toEqual({ kind: 'none', trend: [] });

    // Act: the baseline's row keys altered after the run
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: `trailwarden/2026/11/23/20261123T060000Z-00000005/${ROW_KEYS_FILE}`, Body: '{"changed":true}' }),
    );
    const altered = await readHistory(archive, request, silentLog);

    // Assess: said so, and no older run taken instead
    expect(baseline.location).toBe(at('2026/11/23', '20261123T060000Z-00000005'));
    expect(altered).toMatchObject({ kind: 'unverified', previous: { runId: '20261123T060000Z-00000005' }, trend: [] });
    expect(altered.kind === 'unverified' && altered.problem).toBe(
      `${at('2026/11/23', '20261123T060000Z-00000005')}${ROW_KEYS_FILE} no longer matches its SHA-256 in the manifest`,
    );
  });

  it('finds the same in a local archive, and stops the trend at a change of suite', async () => {
    // Prepare: the same runs, and between the first two an earlier run of the job with another query
    const root = await tempDir();
    const archive = new LocalArchive({ path: root });
    await history(archive);
    await archiveRun(archive, '20261112T080000Z-00000008', '2026-11-12T08:00:00Z', ['a'], 'weekly', 'SELECT 2 FROM cloudtrail_window');

    // Act
    const found = await readHistory(archive, request, silentLog);
    const plainRuns = await readHistory(archive, { ...request, job: null }, silentLog);

    // Assess
    expect(found.kind).toBe('baseline');
    expect(found.trend.map((run) => run.runId)).toEqual(['20261123T060000Z-00000005', '20261116T080000Z-00000002']);
    expect(plainRuns).toEqual({ kind: 'none', trend: [] });
  });
});
