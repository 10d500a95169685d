/**
 * The columnar store with the S3 log source (issue 9), over real HTTP to s3rver through a recording proxy: the
 * first run downloads the window's objects once and lets go of the downloads once the store holds them; a second
 * run downloads nothing and reports the same. With digests in the bucket, log file validation takes the hashes the
 * conversion took of the downloads: still one download per object. (`npm run build` first; `npm test` does it.)
 */
import { existsSync } from 'node:fs';
import { cp, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { generateDemo } from '../../src/demo/generate.js';
import { runCli } from '../support/cli.js';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { tempDir } from '../support/fixtures.js';
import { awsEnv, startS3, type LocalS3 } from '../support/s3.js';
import { AS_OF, archivedRun, runOnTree, smallTree, storedPartitions, type ArchivedRun, type SmallTree } from '../support/store-runs.js';

const LOGS_BUCKET = 'acme-cloudtrail';
// The bucket the demo's digests name as their own: elsewhere they would be found moved.
const DEMO_BUCKET = 'acme-org-cloudtrail-logs';

let s3: LocalS3;
let proxy: FlakyProxy;
let tree: SmallTree;

beforeAll(async () => {
  s3 = await startS3();
  proxy = await startFlakyProxy(s3.endpoint);
  tree = await smallTree(await tempDir('trailwarden-store-s3-logs-'));
  await s3.createBucket(LOGS_BUCKET);
  await s3.uploadTree(LOGS_BUCKET, path.join(tree.logs, 'AWSLogs'), 'AWSLogs/');
});

afterAll(async () => {
  await proxy?.stop();
  await s3?.stop();
});

/** The objects of `bucket` downloaded (GETs that are not listings), one entry per download, from the `from`th request the proxy saw. */
function downloads(bucket: string, from = 0): string[] {
  return proxy.requests
    .slice(from)
    .filter((r) => r.method === 'GET' && r.url.startsWith(`/${bucket}/`) && !r.url.includes('list-type=2'))
    .map((r) => r.url);
}

/** Downloads of log objects the proxy has seen. */
function logDownloads(): number {
  return downloads(LOGS_BUCKET).length;
}

/** Delivery files left in the download cache. */
async function cachedLogFiles(cache: string): Promise<string[]> {
  if (!existsSync(cache)) return [];
  return (await readdir(cache, { recursive: true })).filter((entry) => /\.json(\.gz)?$/.test(entry));
}

/** A config of an S3 source (`bucket` through the proxy, downloads cached in `work`/cache) and a store in `work`. */
async function s3Config(work: string, bucket: string): Promise<string> {
  const config = path.join(work, 'trailwarden.yaml');
  await writeFile(
    config,
    toYaml({
      source: { kind: 's3', bucket, cache_path: path.join(work, 'cache'), region: 'us-east-1', endpoint: proxy.endpoint, force_path_style: true },
      engine: { kind: 'duckdb' },
      store: { kind: 'local', path: path.join(work, 'store') },
      archive: { kind: 'local', path: path.join(work, 'archive') },
      mail: { kind: 'outbox', path: path.join(work, 'outbox'), from: 'tw@example.com', to: ['security@example.com'] },
      checks: { path: path.resolve('config/checks') },
    }),
  );
  return config;
}

/** `trailwarden run --config <config>`, which must succeed; the run archived under `work`. */
async function run(config: string, work: string): Promise<ArchivedRun> {
  const day = path.join(work, 'archive', '2026', '11', '23');
  const before = new Set(existsSync(day) ? await readdir(day) : []);
  const cli = await runCli(['run', '--config', config, '--as-of', AS_OF], { env: awsEnv });
  expect(cli.code, cli.stderr).toBe(0);
  const [runId] = (await readdir(day)).filter((id) => !before.has(id));
  return archivedRun(work, runId!, cli);
}

describe('the store over an S3 source', () => {
  it('downloads each object once: the second run downloads nothing, and the cache keeps no released download', async () => {
    // Prepare
    const work = await tempDir('trailwarden-store-s3-');
    const cache = path.join(work, 'cache');
    // With log_integrity_30d: it hashes only the log files a digest lists, and only those the store has no hash of
    // yet; this tree has no digests, so it downloads nothing for it (a bucket with digests: the next test).
    const config = await s3Config(work, LOGS_BUCKET);

    // Act
    const first = await run(config, work);
    const downloadsFirst = logDownloads();
    const cachedAfterFirst = await cachedLogFiles(cache);
    const second = await run(config, work);
    const downloadsSecond = logDownloads() - downloadsFirst;

    // Assess: every delivery file fetched once, none again; the store holds them, the cache does not
    expect(first.rootEvents).toEqual(tree.rootEvents);
    expect(first.manifest.stats).toMatchObject({ events: 405, duplicates_removed: 20 });
    expect(first.manifest.stats.files_skipped.map((f) => f.path)).toEqual([tree.truncatedKey]);
    expect(downloadsFirst).toBe(tree.files.length);
    expect(cachedAfterFirst).toEqual([]);
    expect(downloadsSecond).toBe(0);
    expect(second.csvs).toEqual(first.csvs);
    expect(Object.keys(second.csvs)).toContain('log_integrity_30d.csv');
    expect(second.manifest.stats).toEqual(first.manifest.stats);
    expect(await cachedLogFiles(cache)).toEqual([]);
    const partitions = await storedPartitions(path.join(work, 'store'));
    expect([...partitions.values()].flatMap(({ meta }) => meta.segments.flatMap((s) => s.sources.map((f) => f.version?.slice(0, 5))))).toEqual(
      tree.files.map(() => 'etag:'),
    );
  });

  it('with digests in the bucket, downloads each log object once: validation takes the hashes taken while converting', async () => {
    // Prepare: of a 6-day demo tree, one account's eu-west-1 logs and digests (a file rewritten after delivery among
    // them) in a bucket of their own, and the verdict of a run over the same files on disk without a store, which
    // hashes every file itself
    const demo = await tempDir('trailwarden-store-s3-demo-');
    await generateDemo({ outDir: demo, targetEvents: 2_000, daysBefore: 6 });
    const logs = await tempDir('trailwarden-store-s3-demo-logs-');
    for (const folder of ['CloudTrail', 'CloudTrail-Digest']) {
      const part = path.join('AWSLogs', '111111111111', folder, 'eu-west-1');
      await cp(path.join(demo, part), path.join(logs, part), { recursive: true, preserveTimestamps: true });
    }
    await s3.createBucket(DEMO_BUCKET);
    await s3.uploadTree(DEMO_BUCKET, path.join(logs, 'AWSLogs'), 'AWSLogs/');
    const reference = await runOnTree(logs, await tempDir('trailwarden-store-s3-demo-ref-'), ['--no-store']);
    const work = await tempDir('trailwarden-store-s3-demo-work-');
    const config = await s3Config(work, DEMO_BUCKET);
    const from = proxy.requests.length;

    // Act
    const first = await run(config, work);

    // Assess: every log object downloaded at most once (digests aside), the same findings on log integrity
    const logObjects = downloads(DEMO_BUCKET, from).filter((url) => url.includes('/CloudTrail/'));
    expect(logObjects.length).toBeGreaterThan(20);
    expect(logObjects.filter((url, i) => logObjects.indexOf(url) !== i)).toEqual([]);
    expect(first.csvs['log_integrity_30d.csv']).toBe(reference.csvs['log_integrity_30d.csv']);
    expect(first.csvs['log_integrity_30d.csv']).toMatch(/^modified,/m);
    expect(await cachedLogFiles(path.join(work, 'cache'))).toEqual([]);
  });
});
