/**
 * Delivery files: where a slot's records go (the key CloudTrail would give the file, a few minutes after
 * its last event), and the special treatments the script asks for — an uncompressed `.json`, a truncated
 * `.gz`, a duplicate delivery, and a digest file that vouches for one delivery.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { digestKey, logFileName, logKey } from '../core/cloudtrail-layout.js';
import type { CloudTrailRecord } from './cloudtrail-record.js';
import { DEMO_ACCOUNTS, DEMO_ORGANIZATION_ID, TRAIL_BUCKET, TRAIL_NAME } from './constants.js';
import { Rng } from './rng.js';
import type { FileTag } from './scripted-events.js';
import { HOUR_MS, SECOND_MS, ctTime } from './time.js';
import type { TreeWriter } from './tree-writer.js';

const gzip = promisify(gzipCallback);

/** The second account's logs come from the organization trail: `AWSLogs/<o-id>/<account>/…`. */
function organizationOf(account: string): string | undefined {
  return account === DEMO_ACCOUNTS[1] ? DEMO_ORGANIZATION_ID : undefined;
}

function datePath(ms: number): string {
  return ctTime(ms).slice(0, 10).replaceAll('-', '/');
}

function deliveryKey(account: string, region: string, deliveryMs: number, suffix: string, ext: string): string {
  return logKey({
    organizationId: organizationOf(account),
    account,
    region,
    day: datePath(deliveryMs),
    name: logFileName(account, region, new Date(deliveryMs), suffix, ext),
  });
}

function digestJson(
  account: string,
  region: string,
  key: string,
  startMs: number,
  endMs: number,
  logFile: { key: string; sha256: string; oldest: string; newest: string },
  rng: Rng,
): string {
  const previousEnd = startMs;
  const previousKey = digestKey({ organizationId: organizationOf(account), account, region }, TRAIL_NAME, new Date(previousEnd));
  return JSON.stringify({
    awsAccountId: account,
    digestStartTime: ctTime(startMs),
    digestEndTime: ctTime(endMs),
    digestS3Bucket: TRAIL_BUCKET,
    digestS3Object: key,
    digestPublicKeyFingerprint: rng.hex(32),
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: logFile.newest,
    oldestEventTime: logFile.oldest,
    previousDigestS3Bucket: TRAIL_BUCKET,
    previousDigestS3Object: previousKey,
    previousDigestHashValue: rng.hex(64),
    previousDigestHashAlgorithm: 'SHA-256',
    previousDigestSignature: rng.hex(512),
    logFiles: [
      {
        s3Bucket: TRAIL_BUCKET,
        s3Object: logFile.key,
        hashValue: logFile.sha256,
        hashAlgorithm: 'SHA-256',
        newestEventTime: logFile.newest,
        oldestEventTime: logFile.oldest,
      },
    ],
  });
}

/** One delivery file, planned: names and random choices are fixed before the asynchronous write starts. */
export interface Delivery {
  account: string;
  region: string;
  key: string;
  json: string;
  plain: boolean;
  corrupt: boolean;
  duplicateKey?: string;
  digest?: { startMs: number; oldest: string; newest: string; rng: Rng };
}

/** Plans one slot's delivery file for an account and region; `tags` are the script's special treatments for it. */
export function planDelivery(account: string, region: string, records: readonly CloudTrailRecord[], tags: ReadonlySet<FileTag>, rng: Rng): Delivery {
  const oldest = records[0]?.eventTime ?? '';
  const newest = records[records.length - 1]?.eventTime ?? '';
  // CloudTrail delivers a few minutes after the last event, so 23:5x events land in the next day's folder.
  const deliveryMs = Date.parse(newest) + rng.between(240, 840) * SECOND_MS;
  const plain = tags.has('plain');
  const delivery: Delivery = {
    account,
    region,
    key: deliveryKey(account, region, deliveryMs, rng.alnum(16), plain ? '.json' : '.json.gz'),
    json: JSON.stringify({ Records: records }),
    plain,
    corrupt: tags.has('corrupt'),
  };
  if (tags.has('duplicate')) {
    delivery.duplicateKey = deliveryKey(account, region, deliveryMs + rng.between(60, 300) * SECOND_MS, rng.alnum(16), '.json.gz');
  }
  if (tags.has('digest')) {
    // The digest's hour ends after this delivery, so it lists it.
    delivery.digest = { startMs: deliveryMs - rng.between(300, 3000) * SECOND_MS, oldest, newest, rng: new Rng(rng.int(2 ** 32)) };
  }
  return delivery;
}

/** Writes a planned delivery: compressed or plain, truncated, twice, or with its digest, as planned. */
export async function writeDelivery(writer: TreeWriter, d: Delivery): Promise<void> {
  if (d.plain) {
    await writer.put(d.key, d.json);
    return;
  }
  // Level 1: any gzip reads the same; the fastest level keeps a million events well under half a minute.
  const gz = await gzip(d.json, { level: 1 });
  if (d.corrupt) {
    // Cut mid-stream, as an interrupted copy would: gunzip fails on it.
    await writer.put(d.key, gz.subarray(0, Math.floor(gz.length / 2)));
    return;
  }
  await writer.put(d.key, gz);
  if (d.duplicateKey) await writer.put(d.duplicateKey, gz);
  if (d.digest) {
    const { startMs, oldest, newest, rng } = d.digest;
    const endMs = startMs + HOUR_MS;
    const digestFile = digestKey({ organizationId: organizationOf(d.account), account: d.account, region: d.region }, TRAIL_NAME, new Date(endMs));
    const sha256 = createHash('sha256').update(gz).digest('hex');
    const body = digestJson(d.account, d.region, digestFile, startMs, endMs, { key: d.key, sha256, oldest, newest }, rng);
    await writer.put(digestFile, await gzip(body, { level: 1 }));
  }
}
