/**
 * Log file validation against a CloudTrail bucket (s3rver) whose digests carry their signatures in S3 metadata, as
 * CloudTrail writes them, and CloudTrail's public keys from ListPublicKeys: a loopback server of ours speaking the
 * CloudTrail JSON protocol (no CloudTrail emulator exists), so the real `@aws-sdk/client-cloudtrail` goes over HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFile, readdir } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logFileName, logKey } from '../../src/core/cloudtrail-layout.js';
import { TRAIL_BUCKET } from '../../src/demo/constants.js';
import { DigestPlan, demoDigestSignature, sha256Hex } from '../../src/demo/digests.js';
import { DEMO_KEY_FINGERPRINT, DEMO_PUBLIC_KEY_DER } from '../../src/demo/signing-key.js';
import { TreeWriter } from '../../src/demo/tree-writer.js';
import { listCloudTrailPublicKeys } from '../../src/integrity/public-keys.js';
import { checkLogIntegrity } from '../../src/integrity/validate.js';
import { S3LogSource } from '../../src/source/s3.js';
import type { LogSource } from '../../src/source/types.js';
import { LocalEventStore } from '../../src/store/local.js';
import { record, silentLog, tempDir } from '../support/fixtures.js';
import { S3RVER_CREDENTIALS, startS3, type LocalS3 } from '../support/s3.js';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const HOUR = 3_600_000;
const FROM = Date.parse('2026-11-20T00:00:00Z');
const WINDOW = { start: new Date('2026-11-20T00:00:00Z'), end: new Date('2026-11-20T12:00:00Z') };

/** ListPublicKeys over the CloudTrail JSON 1.1 protocol; every request's target is recorded. */
async function startCloudTrail(
  keys: readonly { fingerprint: string; der: Buffer }[],
): Promise<{ endpoint: string; targets: string[]; close(): Promise<void> }> {
  const targets: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      targets.push(target);
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (!target.endsWith('.ListPublicKeys')) {
        res.writeHead(400).end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
        return;
      }
      const request = JSON.parse(body || '{}') as { StartTime?: number; EndTime?: number };
      if (typeof request.StartTime !== 'number' || typeof request.EndTime !== 'number') {
        res.writeHead(400).end(JSON.stringify({ __type: 'InvalidTimeRangeException', message: 'StartTime and EndTime expected' }));
        return;
      }
      res.writeHead(200).end(
        JSON.stringify({
          PublicKeyList: keys.map((k) => ({
            Value: k.der.toString('base64'),
            Fingerprint: k.fingerprint,
            ValidityStartTime: request.StartTime,
            ValidityEndTime: request.EndTime,
          })),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, targets, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('log file validation on the S3 source', () => {
  let s3: LocalS3;
  let cloudtrail: Awaited<ReturnType<typeof startCloudTrail>>;
  let ct: CloudTrailClient;
  const logs: string[] = [];

  beforeAll(async () => {
    // Prepare: four hours of deliveries and their signed digests, uploaded as CloudTrail writes them.
    s3 = await startS3();
    await s3.createBucket(TRAIL_BUCKET);
    const tree = await tempDir('trailwarden-s3-integrity-');
    const writer = new TreeWriter(tree);
    const plan = new DigestPlan();
    for (let h = 0; h < 4; h++) {
      const deliveredMs = FROM + h * HOUR + 20 * 60_000;
      const key = logKey({
        account: ACCOUNT,
        region: REGION,
        day: '2026/11/20',
        name: logFileName(ACCOUNT, REGION, new Date(deliveredMs), `abcdefghijklmno${h}`),
      });
      const time = new Date(deliveredMs - 600_000).toISOString().replace('.000Z', 'Z');
      const json = JSON.stringify({ Records: [record({ eventTime: time, eventID: `e-${h}` })] });
      await writer.put(key, gzipSync(json));
      plan.add(ACCOUNT, REGION, 0, { key, sha256: sha256Hex(json), deliveryMs: deliveredMs, oldest: time, newest: time });
      logs.push(key);
    }
    await plan.write(writer, FROM, undefined);
    for (const entry of await readdir(tree, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.gz')) continue;
      const file = path.join(entry.parentPath, entry.name);
      const key = path.relative(tree, file).split(path.sep).join('/');
      const body = await readFile(file);
      const digest = key.includes('/CloudTrail-Digest/');
      const metadata = digest ? { signature: demoDigestSignature(body), 'signature-algorithm': 'SHA256withRSA' } : undefined;
      await s3.client.send(new PutObjectCommand({ Bucket: TRAIL_BUCKET, Key: key, Body: body, Metadata: metadata }));
    }
    cloudtrail = await startCloudTrail([{ fingerprint: DEMO_KEY_FINGERPRINT, der: DEMO_PUBLIC_KEY_DER }]);
    ct = new CloudTrailClient({ region: 'us-east-1', endpoint: cloudtrail.endpoint, credentials: S3RVER_CREDENTIALS });
  }, 120_000);

  afterAll(async () => {
    ct?.destroy();
    await cloudtrail?.close();
    await s3?.stop();
  });

  const validate = async () => {
    const source = new S3LogSource({ bucket: TRAIL_BUCKET, prefix: '', cachePath: await tempDir(), client: s3.client, log: silentLog });
    const listing = await source.list(WINDOW, { fetch: false });
    const keys = await listCloudTrailPublicKeys(ct, WINDOW.start, WINDOW.end);
    return checkLogIntegrity({ source, files: listing.files, window: WINDOW, keys });
  };

  it('verifies every log file and every digest signature, with the keys CloudTrail lists', async () => {
    // Act
    const run = await validate();

    // Assess
    expect(cloudtrail.targets).toContain('CloudTrail_20131101.ListPublicKeys');
    expect(run.result.problems).toEqual([]);
    expect(run.result.verified).toBe(4);
    expect(run.result.signaturesVerified).toBe(run.result.digests);
    expect(run.result.digests).toBeGreaterThanOrEqual(4);
    expect(run.result.summary).toMatch(/^4 of 4 log files verified against \d+ digests; all \d+ digest signatures verified$/);
    expect(run.bytesRead).toBeGreaterThan(0);
  });

  it("with the store's record of hashes, downloads each log file once: the next validation downloads none, a rewritten object again", async () => {
    // Prepare: the source's fetch counted (each validation gets a fresh download cache, as after the store released it)
    const store = new LocalEventStore({ path: await tempDir('trailwarden-s3-integrity-store-'), log: silentLog });
    const keys = await listCloudTrailPublicKeys(ct, WINDOW.start, WINDOW.end);
    const downloaded: string[] = [];
    const caches: string[] = [];
    const validateWithRecord = async () => {
      caches.push(await tempDir());
      const source = new S3LogSource({ bucket: TRAIL_BUCKET, prefix: '', cachePath: caches.at(-1)!, client: s3.client, log: silentLog });
      const counting: LogSource = {
        kind: source.kind,
        describe: () => source.describe(),
        list: (window, options) => source.list(window, options),
        digests: (days) => source.digests(days),
        fetch: async (files) => {
          downloaded.push(...files.map((f) => f.key));
          return source.fetch(files);
        },
        release: (files) => source.release(files),
      };
      const listing = await source.list(WINDOW, { fetch: false });
      return checkLogIntegrity({ source: counting, files: listing.files, window: WINDOW, keys, record: { store, source: source.describe() } });
    };

    // Act
    const first = await validateWithRecord();
    const afterFirst = downloaded.splice(0);
    const second = await validateWithRecord();
    const afterSecond = downloaded.splice(0);
    // One object rewritten in the bucket: S3 gives it another ETag (computed from what was uploaded).
    const rewritten = logs[2]!;
    const original = await s3.get(TRAIL_BUCKET, rewritten);
    const forged = JSON.stringify({ Records: [record({ eventTime: '2026-11-20T02:10:00Z', eventID: 'forged-2' })] });
    await s3.client.send(new PutObjectCommand({ Bucket: TRAIL_BUCKET, Key: rewritten, Body: gzipSync(forged) }));
    const third = await validateWithRecord();
    const afterThird = downloaded.splice(0);
    await s3.client.send(new PutObjectCommand({ Bucket: TRAIL_BUCKET, Key: rewritten, Body: original }));

    // Assess
    expect(afterFirst.sort()).toEqual([...logs].sort());
    expect(first.result.verified).toBe(4);
    expect(afterSecond).toEqual([]);
    expect([second.hashed, second.fromRecord]).toEqual([0, 4]);
    expect(second.result.problems).toEqual(first.result.problems);
    expect(second.result.verified).toBe(4);
    expect(second.result.summary).toMatch(
      /^4 of 4 log files verified against \d+ digests \(4 hashes from the store's record of earlier runs, same size and ETag; 0 hashed this run\); all \d+ digest signatures verified$/,
    );
    expect(second.bytesRead).toBeLessThan(first.bytesRead);
    // Another ETag: the record no longer stands for it, so it is downloaded and hashed again.
    expect(afterThird).toEqual([rewritten]);
    expect(third.result.problems.map((p) => [p.problem, p.objectKey])).toEqual([['modified', rewritten]]);
    // The store holds what was downloaded to be hashed: no download is kept.
    for (const cache of caches) expect((await readdir(cache, { recursive: true })).filter((entry) => entry.endsWith('.json.gz'))).toEqual([]);
  });

  it('finds a digest whose signature no longer matches, and a log file rewritten in the bucket', async () => {
    // Prepare: the second hour's log rewritten, and its digest rewritten to match it, keeping the old signature.
    const digestKeys = (await s3.listKeys(TRAIL_BUCKET, `AWSLogs/${ACCOUNT}/CloudTrail-Digest/`)).sort();
    const target = digestKeys[1]!;
    const original = await s3.get(TRAIL_BUCKET, target);
    const signature = demoDigestSignature(original);
    const json = JSON.stringify({ Records: [record({ eventTime: '2026-11-20T01:10:00Z', eventID: 'forged' })] });
    const doc = JSON.parse(gunzipSync(original).toString('utf8')) as { logFiles: { s3Object: string; hashValue: string }[] };
    const forgedLog = doc.logFiles[0]!.s3Object;
    doc.logFiles[0]!.hashValue = sha256Hex(json);
    await s3.client.send(new PutObjectCommand({ Bucket: TRAIL_BUCKET, Key: forgedLog, Body: gzipSync(json) }));
    await s3.client.send(
      new PutObjectCommand({
        Bucket: TRAIL_BUCKET,
        Key: target,
        Body: gzipSync(JSON.stringify(doc)),
        Metadata: { signature, 'signature-algorithm': 'SHA256withRSA' },
      }),
    );

    // Act
    const run = await validate();

    // Assess: the forged digest is invalid (its signature, and the next digest's record of its hash), so nothing vouches for the log.
    const rows = run.result.problems.map((p) => [p.problem, p.objectKey]);
    expect(rows).toContainEqual(['invalid_digest', target]);
    expect(rows).toContainEqual(['not_covered', forgedLog]);
    expect(run.result.problems.find((p) => p.problem === 'invalid_digest')?.detail).toMatch(/signature verification failed/);
  });
});
