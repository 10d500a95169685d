import { TRAIL_BUCKET } from '../../src/demo/constants.js';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { DEMO_AS_OF } from '../../src/demo/generate.js';
import { neutraliseCell } from '../../src/render/csv.js';
import { runCli } from '../support/cli.js';
import { generateDemoWithTruth, type DemoWithTruth } from '../support/demo-with-truth.js';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { tempDir } from '../support/fixtures.js';
import { awsEnv, startS3, type LocalS3 } from '../support/s3.js';

/**
 * The whole job on AWS-shaped infrastructure: the real built CLI, DuckDB reading a CloudTrail bucket through
 * the download cache, evidence written to an S3 archive — all over real HTTP to s3rver, through a proxy that
 * records what S3 receives and injects failures.
 */

interface Manifest {
  run_id: string;
  as_of: string;
  stats: { events: number; files_read: number; files_skipped: { path: string; reason: string }[]; accounts: string[]; regions: string[] };
  checks: { id: string; file: { name: string; sha256: string } | null }[];
  files: { name: string; bytes: number; sha256: string }[];
}

// The bucket the demo's digests say they were delivered to: in another bucket they would be "moved", hence invalid.
const LOGS_BUCKET = TRAIL_BUCKET;
const EVIDENCE_BUCKET = 'acme-evidence';
const RUN_DAY = 'evidence/2026/11/23/';

let s3: LocalS3;
let proxy: FlakyProxy;
let demo: DemoWithTruth;
let config: string;
let outbox: string;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Run folders in the evidence bucket for the demo's as-of day. */
async function runPrefixes(): Promise<string[]> {
  const keys = await s3.listKeys(EVIDENCE_BUCKET, RUN_DAY);
  return [...new Set(keys.map((key) => key.slice(0, key.indexOf('/', RUN_DAY.length) + 1)))];
}

/** GET-object requests (downloads) of log files the proxy saw on the logs bucket (digests are read at every run). */
function logDownloads(): number {
  return proxy.requests.filter(
    (r) => r.method === 'GET' && r.url.startsWith(`/${LOGS_BUCKET}/`) && !r.url.includes('list-type=2') && !r.url.includes('/CloudTrail-Digest/'),
  ).length;
}

beforeAll(async () => {
  // Prepare: demo logs in a CloudTrail bucket, an empty evidence bucket, a config pointing at both via the proxy
  s3 = await startS3();
  proxy = await startFlakyProxy(s3.endpoint);
  const logs = await tempDir('trailwarden-s3-e2e-logs-');
  demo = await generateDemoWithTruth({ outDir: logs });
  await s3.createBucket(LOGS_BUCKET);
  await s3.uploadTree(LOGS_BUCKET, path.join(logs, 'AWSLogs'), 'AWSLogs/');
  await s3.createBucket(EVIDENCE_BUCKET);

  const work = await tempDir('trailwarden-s3-e2e-');
  outbox = path.join(work, 'outbox');
  const settings = { region: 'us-east-1', endpoint: proxy.endpoint, force_path_style: true };
  config = path.join(work, 'trailwarden.yaml');
  await writeFile(
    config,
    toYaml({
      source: { kind: 's3', bucket: LOGS_BUCKET, cache_path: path.join(work, 'cache'), ...settings },
      engine: { kind: 'duckdb' },
      archive: {
        kind: 's3',
        bucket: EVIDENCE_BUCKET,
        prefix: 'evidence/',
        kms_key_id: 'alias/evidence',
        tags: { team: 'security', purpose: 'audit evidence' },
        ...settings,
      },
      mail: { kind: 'outbox', path: outbox, from: 'trailwarden <trailwarden@localhost>', to: ['security-team@example.com'] },
      checks: { path: path.resolve('config/checks') },
    }),
  );
});

afterAll(async () => {
  await proxy?.stop();
  await s3?.stop();
});

describe('trailwarden run with an S3 source and an S3 archive', () => {
  it('reports exactly what the generator knows to be true, with every evidence object checksummed, tagged and matching the manifest', async () => {
    // Act
    const result = await runCli(['run', '--config', config, '--as-of', DEMO_AS_OF], { env: awsEnv });

    // Assess: the run completed, without an error logged
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/"level":(50|60)/);
    const [runPrefix, ...others] = await runPrefixes();
    expect(others).toEqual([]);
    const manifest = JSON.parse((await s3.get(EVIDENCE_BUCKET, `${runPrefix}manifest.json`)).toString('utf8')) as Manifest;
    const truth = demo.truth;
    expect(manifest.as_of).toBe(DEMO_AS_OF);
    expect(manifest.stats.events).toBe(truth.eventsInWindow);
    expect(manifest.stats.files_skipped.map((s) => s.path)).toEqual(truth.unreadableFiles);

    // Every CSV, row by row, as the generator knows it to be
    for (const [id, expected] of Object.entries(truth.checks)) {
      const csv = parseCsv((await s3.get(EVIDENCE_BUCKET, `${runPrefix}${id}.csv`)).toString('utf8'));
      expect(csv, id).toEqual([expected.columns, ...expected.rows.map((row) => row.map(neutraliseCell))]);
    }

    // Every object read back matches its manifest digest; nothing else is in the folder
    const keys = await s3.listKeys(EVIDENCE_BUCKET, runPrefix);
    expect(keys).toEqual([...manifest.files.map((f) => `${runPrefix}${f.name}`), `${runPrefix}manifest.json`].sort());
    for (const file of manifest.files) {
      const bytes = await s3.get(EVIDENCE_BUCKET, `${runPrefix}${file.name}`);
      expect(sha256(bytes), file.name).toBe(file.sha256);
      expect(bytes.byteLength, file.name).toBe(file.bytes);
    }

    // Every PUT carried its SHA-256, the tags, SSE-KMS and If-None-Match; the manifest came last
    const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.url.startsWith(`/${EVIDENCE_BUCKET}/`));
    expect(puts).toHaveLength(manifest.files.length + 1);
    for (const put of puts) {
      expect(put.headers['x-amz-checksum-sha256'], put.url).toBe(createHash('sha256').update(put.body).digest('base64'));
      expect(new URLSearchParams(String(put.headers['x-amz-tagging'])).get('purpose')).toBe('audit evidence');
      expect(put.headers['x-amz-server-side-encryption']).toBe('aws:kms');
      expect(put.headers['if-none-match']).toBe('*');
    }
    expect(puts.at(-1)!.url.split('?')[0]).toBe(`/${EVIDENCE_BUCKET}/${runPrefix}manifest.json`);
    expect(result.stdout).toContain(`s3://${EVIDENCE_BUCKET}/${runPrefix}report.html`);
    // Each delivery file of the window downloaded once (the corrupt one too: it is only found unreadable when read)
    expect(logDownloads()).toBe(manifest.stats.files_read + manifest.stats.files_skipped.length);

    // An auditor verifies the run in S3 with the CLI: intact, then tampered with
    const intact = await runCli(['verify', `s3://${EVIDENCE_BUCKET}/${runPrefix}`, '--config', config], { env: awsEnv });
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toBe(`OK: run ${manifest.run_id} (as of ${DEMO_AS_OF}): all ${manifest.files.length} files match the manifest; not signed\n`);
    await s3.put(EVIDENCE_BUCKET, `${runPrefix}root_activity_7d.csv`, 'event_time\n');
    await s3.put(EVIDENCE_BUCKET, `${runPrefix}notes.txt`, 'added later');
    const tampered = await runCli(['verify', `s3://${EVIDENCE_BUCKET}/${runPrefix}`, '--config', config], { env: awsEnv });
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('root_activity_7d.csv: changed');
    expect(tampered.stdout).toContain('notes.txt: not in the manifest (added after the run)');
    expect(tampered.stderr).toContain(`run ${manifest.run_id}: 2 problem(s)`);
  });

  it('fails clearly when the archive keeps answering 503, downloads nothing again, and leaves no manifest', async () => {
    // Prepare: the cache is warm from the previous run; every evidence PUT now fails
    const before = new Set(await runPrefixes());
    proxy.requests.length = 0;
    proxy.failNext(10_000, { status: 503, matching: (r) => r.method === 'PUT' });

    // Act
    const result = await runCli(['run', '--config', config, '--as-of', DEMO_AS_OF], { env: { ...awsEnv, AWS_MAX_ATTEMPTS: '2' } });
    proxy.heal();

    // Assess: exit 1 with the bucket and key named; the run's folder holds nothing presented as complete
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`trailwarden: cannot write s3://${EVIDENCE_BUCKET}/${RUN_DAY}[^/]+/[a-z0-9_]+\\.csv`));
    expect(proxy.requests.filter((r) => r.outcome === 'failed')).toHaveLength(2);
    const newRuns = (await runPrefixes()).filter((p) => !before.has(p));
    for (const prefix of newRuns) expect(await s3.listKeys(EVIDENCE_BUCKET, `${prefix}manifest.json`)).toEqual([]);
    expect(logDownloads()).toBe(0);
  });
});
