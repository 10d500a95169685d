import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalArchive } from '../../src/archive/local.js';
import { S3Archive, S3ArchivedRun, type S3ArchiveOptions } from '../../src/archive/s3.js';
import { serializeManifest } from '../../src/core/manifest.js';
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
