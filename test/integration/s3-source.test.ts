import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/core/errors.js';
import { deliveryDaysFor, type TimeWindow } from '../../src/core/time.js';
import { LocalLogSource } from '../../src/source/local.js';
import { S3LogSource, type S3SourceOptions } from '../../src/source/s3.js';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { record, silentLog, tempDir, writeLogFile } from '../support/fixtures.js';
import { startS3, type LocalS3 } from '../support/s3.js';

const ORG = 'o-a1b2c3d4e5';
// Delivery days 2026/11/19 … 2026/11/23 (a day before the start, a day after the end).
const WINDOW: TimeWindow = { start: new Date('2026-11-20T08:00:00Z'), end: new Date('2026-11-22T08:00:00Z') };

let s3: LocalS3;
let proxy: FlakyProxy;
/** A client through the proxy: every request is recorded, and failures can be injected. */
let client: S3Client;
let tree: string;
let bucketNumber = 0;

/** A CloudTrail tree with both layouts, files inside and just outside the window, and files that must be skipped. */
async function buildTree(root: string): Promise<void> {
  const records = (time: string) => [record({ eventTime: time })];
  for (const day of ['2026/11/18', '2026/11/19', '2026/11/21', '2026/11/23', '2026/11/24']) {
    await writeLogFile(root, { day, account: '111111111111', region: 'us-east-1', records: records(`${day.replaceAll('/', '-')}T01:00:00Z`) });
    await writeLogFile(root, {
      day,
      account: '222222222222',
      region: 'eu-west-1',
      organization: ORG,
      records: records(`${day.replaceAll('/', '-')}T02:00:00Z`),
    });
  }
  // Digests and Insights sit beside CloudTrail/ and are never read.
  await writeLogFile(root, {
    day: '2026/11/21',
    trailFolder: 'CloudTrail-Digest',
    name: '111111111111_CloudTrail-Digest_us-east-1_t_20261121T0100Z.json.gz',
    records: [],
  });
  await writeLogFile(root, { day: '2026/11/21', trailFolder: 'CloudTrail-Insight', records: records('2026-11-21T03:00:00Z') });
  // Reported, not read: an empty file and a name CloudTrail never writes.
  await writeLogFile(root, { day: '2026/11/21', name: '111111111111_CloudTrail_us-east-1_20261121T0300Z_empty.json.gz', content: '' });
  await writeLogFile(root, { day: '2026/11/21', name: 'notes [draft].txt', content: 'not a log' });
}

function sourceOptions(bucket: string, cachePath: string, extra: Partial<S3SourceOptions> = {}): S3SourceOptions {
  return { bucket, prefix: '', cachePath, client, log: silentLog, ...extra };
}

/** Keys the proxy saw requested with GET object (downloads), in order. */
function downloads(bucket: string): string[] {
  return proxy.requests
    .filter((r) => r.method === 'GET' && r.url.startsWith(`/${bucket}/`) && !r.url.includes('list-type=2'))
    .map((r) => decodeURIComponent(r.url.slice(bucket.length + 2).split('?')[0]!));
}

async function newBucket(): Promise<string> {
  bucketNumber += 1;
  const bucket = await s3.createBucket(`trail-logs-${bucketNumber}`);
  await s3.uploadTree(bucket, tree);
  return bucket;
}

beforeAll(async () => {
  s3 = await startS3();
  proxy = await startFlakyProxy(s3.endpoint);
  client = s3.newClient({ endpoint: proxy.endpoint, maxAttempts: 3 });
  tree = await tempDir('trailwarden-s3-tree-');
  await buildTree(tree);
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

describe('S3 log source', () => {
  it('lists exactly the window’s day folders of both layouts, and finds and skips the same files as the local source', async () => {
    // Prepare
    const bucket = await newBucket();
    const source = new S3LogSource(sourceOptions(bucket, await tempDir()));
    proxy.requests.length = 0;

    // Act
    const listing = await source.list(WINDOW, { fetch: false });

    // Assess: the same files and skip reasons as reading the identical tree from disk
    const local = await new LocalLogSource({ path: tree }).list(WINDOW);
    expect(listing.files.map((f) => f.key)).toEqual(local.files.map((f) => f.key).sort());
    expect(listing.skipped).toEqual([...local.skipped].sort((a, b) => (a.path < b.path ? -1 : 1)));
    expect(listing.files.map((f) => `${f.account} ${f.region} ${f.day}`)).toEqual([
      '111111111111 us-east-1 2026/11/19',
      '111111111111 us-east-1 2026/11/21',
      '111111111111 us-east-1 2026/11/23',
      '222222222222 eu-west-1 2026/11/19',
      '222222222222 eu-west-1 2026/11/21',
      '222222222222 eu-west-1 2026/11/23',
    ]);
    expect(listing.skipped.map((s) => s.reason)).toEqual(['empty file (0 bytes)', expect.stringContaining('not a CloudTrail log file name')]);

    // Only the discovery folders and the window's day folders were listed; Digest/Insight trees never.
    const listedPrefixes = proxy.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('prefix')).sort();
    const dayPrefixes = (root: string, region: string) => deliveryDaysFor(WINDOW).map((day) => `${root}CloudTrail/${region}/${day}/`);
    expect(listedPrefixes).toEqual(
      [
        'AWSLogs/',
        `AWSLogs/${ORG}/`,
        'AWSLogs/111111111111/CloudTrail/',
        `AWSLogs/${ORG}/222222222222/CloudTrail/`,
        ...dayPrefixes('AWSLogs/111111111111/', 'us-east-1'),
        ...dayPrefixes(`AWSLogs/${ORG}/222222222222/`, 'eu-west-1'),
      ].sort(),
    );
  });

  it('with fetch: false only lists: s3:// paths and sizes from the listing, nothing downloaded', async () => {
    // Prepare
    const bucket = await newBucket();
    const cache = path.join(await tempDir(), 'cache');
    const source = new S3LogSource(sourceOptions(bucket, cache));
    proxy.requests.length = 0;

    // Act
    const listing = await source.list(WINDOW, { fetch: false });

    // Assess
    expect(listing.files).toHaveLength(6);
    for (const file of listing.files) {
      expect(file.path).toBe(`s3://${bucket}/${file.key}`);
      expect(file.bytes).toBe((await s3.get(bucket, file.key)).byteLength);
    }
    expect(downloads(bucket)).toEqual([]);
    await expect(stat(cache)).rejects.toThrow();
  });

  it('honours configured accounts, regions and organization without discovering them', async () => {
    // Prepare
    const bucket = await newBucket();
    const source = new S3LogSource(sourceOptions(bucket, await tempDir(), { organizationId: ORG, accounts: ['222222222222'], regions: ['eu-west-1'] }));
    proxy.requests.length = 0;

    // Act
    const listing = await source.list(WINDOW, { fetch: false });

    // Assess: the organization's account only, and one listing per day folder, no discovery
    expect(listing.files.map((f) => f.account)).toEqual(['222222222222', '222222222222', '222222222222']);
    expect(proxy.requests).toHaveLength(deliveryDaysFor(WINDOW).length);
  });

  it('downloads the window into a cache laid out like the bucket, and a second run downloads nothing', async () => {
    // Prepare
    const bucket = await newBucket();
    const cache = await tempDir();
    const source = new S3LogSource(sourceOptions(bucket, cache, { concurrency: 2 }));

    // Act
    const first = await source.list(WINDOW);
    const firstDownloads = downloads(bucket);
    proxy.requests.length = 0;
    const second = await source.list(WINDOW);

    // Assess: local files with the bucket's bytes, at <cache>/<key>
    expect(first.files).toHaveLength(6);
    for (const file of first.files) {
      expect(file.path).toBe(path.join(cache, ...file.key.split('/')));
      const bytes = await readFile(file.path);
      expect(bytes.equals(await s3.get(bucket, file.key))).toBe(true);
      expect(file.bytes).toBe(bytes.byteLength);
    }
    expect(firstDownloads.sort()).toEqual(first.files.map((f) => f.key).sort());
    // Second run: the same listing, served from the cache (same ETags)
    expect(second).toEqual(first);
    expect(downloads(bucket)).toEqual([]);
    // The cache tree holds the log files and nothing else beside them (bookkeeping is under .trailwarden/).
    const entries = await readdir(cache, { recursive: true, withFileTypes: true });
    const filesOutsideMeta = entries.filter((e) => e.isFile() && !path.relative(cache, e.parentPath).startsWith('.trailwarden'));
    expect(filesOutsideMeta).toHaveLength(6);
  });

  it('downloads again an object whose ETag changed, and only that one', async () => {
    // Prepare
    const bucket = await newBucket();
    const cache = await tempDir();
    const source = new S3LogSource(sourceOptions(bucket, cache));
    const before = await source.list(WINDOW);
    const changed = before.files[2]!;
    const newContent = Buffer.from(JSON.stringify({ Records: [record({ eventTime: '2026-11-21T05:00:00Z', eventName: 'Rewritten' })] }));
    await s3.put(bucket, changed.key, newContent);
    proxy.requests.length = 0;

    // Act
    const after = await source.list(WINDOW);

    // Assess
    expect(downloads(bucket)).toEqual([changed.key]);
    expect((await readFile(after.files[2]!.path)).equals(newContent)).toBe(true);
    expect(after.files[2]!.bytes).toBe(newContent.byteLength);
  });

  it('replaces what an interrupted run left behind: a partial download and a file whose ETag was never recorded', async () => {
    // Prepare: a crash mid-download leaves a partial file; a crash just after the rename leaves a file without its ETag
    const bucket = await newBucket();
    const cache = await tempDir();
    const listed = (await new S3LogSource(sourceOptions(bucket, cache)).list(WINDOW, { fetch: false })).files;
    const [partialKey, unrecordedKey] = [listed[0]!.key, listed[1]!.key];
    const partialFile = path.join(cache, '.trailwarden', 'partial', ...partialKey.split('/'));
    await mkdir(path.dirname(partialFile), { recursive: true });
    await writeFile(partialFile, 'half a gzip stream');
    const unrecordedFile = path.join(cache, ...unrecordedKey.split('/'));
    await mkdir(path.dirname(unrecordedFile), { recursive: true });
    const truncated = (await s3.get(bucket, unrecordedKey)).subarray(0, 10);
    await writeFile(unrecordedFile, truncated);
    proxy.requests.length = 0;

    // Act
    const listing = await new S3LogSource(sourceOptions(bucket, cache)).list(WINDOW);

    // Assess: every file complete, the partial one gone
    expect(downloads(bucket).sort()).toEqual(listed.map((f) => f.key).sort());
    for (const file of listing.files) expect((await readFile(file.path)).equals(await s3.get(bucket, file.key)), file.key).toBe(true);
    await expect(stat(partialFile)).rejects.toThrow();
  });

  it('a download cut off mid-transfer fails the listing, leaves no file taken for complete, and the next run completes it', async () => {
    // Prepare
    const bucket = await newBucket();
    const cache = await tempDir();
    const source = new S3LogSource(sourceOptions(bucket, cache, { concurrency: 1 }));
    const isDownload = (r: { method: string; url: string }) => r.method === 'GET' && !r.url.includes('list-type=2');
    proxy.cutNext(1, { matching: isDownload });

    // Act
    const failure = await source.list(WINDOW).catch((error: unknown) => error);
    const cutKey = decodeURIComponent(
      proxy.requests
        .find((r) => r.outcome === 'cut')!
        .url.slice(bucket.length + 2)
        .split('?')[0]!,
    );
    const retry = await source.list(WINDOW);

    // Assess
    expect(failure).toBeInstanceOf(SourceError);
    expect((failure as SourceError).message).toContain(`cannot download s3://${bucket}/${cutKey}`);
    const file = retry.files.find((f) => f.key === cutKey)!;
    expect((await readFile(file.path)).equals(await s3.get(bucket, cutKey))).toBe(true);
  });

  it('retries S3 answering 503 or dropping connections for a while, then lists', async () => {
    // Prepare
    const bucket = await newBucket();
    const source = new S3LogSource(sourceOptions(bucket, await tempDir()));
    proxy.failNext(2, { status: 503 });

    // Act
    const listing = await source.list(WINDOW);
    proxy.dropNext(2);
    const again = await source.list(WINDOW, { fetch: false });

    // Assess
    expect(listing.files).toHaveLength(6);
    expect(again.files).toHaveLength(6);
    expect(proxy.requests.filter((r) => r.outcome === 'failed')).toHaveLength(2);
    expect(proxy.requests.filter((r) => r.outcome === 'dropped')).toHaveLength(2);
  });

  it('fails with a SourceError naming the bucket and prefix when S3 keeps answering 503', async () => {
    // Prepare
    const bucket = await newBucket();
    const source = new S3LogSource(sourceOptions(bucket, await tempDir()));
    proxy.failNext(1000, { status: 503 });

    // Act
    const failure = await source.list(WINDOW).catch((error: unknown) => error);

    // Assess: the SDK's standard retry (3 attempts here), then a clear error with the SDK's as cause
    expect(failure).toBeInstanceOf(SourceError);
    expect((failure as SourceError).code).toBe('SOURCE_FAILED');
    expect((failure as SourceError).message).toContain(`cannot list s3://${bucket}/AWSLogs/`);
    expect((failure as SourceError).cause).toMatchObject({ $metadata: { httpStatusCode: 503 } });
    expect(proxy.requests).toHaveLength(3);
  });
});
