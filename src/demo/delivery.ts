/**
 * Delivery files: where a slot's records go (the key CloudTrail would give the file, a few minutes after
 * its last event), and the special treatments the script asks for — an uncompressed `.json`, a truncated
 * `.gz`, a duplicate delivery — and the tampering the integrity check must find (a modified file, a deleted one).
 * The digests that list the deliveries are written by `digests.ts`.
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { logFileName, logKey } from '../core/cloudtrail-layout.js';
import type { CloudTrailRecord } from './cloudtrail-record.js';
import { DEMO_ACCOUNTS, DEMO_ORGANIZATION_ID } from './constants.js';
import { Rng } from './rng.js';
import type { FileTag } from './scripted-events.js';
import { SECOND_MS, ctTime } from './time.js';
import type { TreeWriter } from './tree-writer.js';

const gzip = promisify(gzipCallback);

/** The second account's logs come from the organization trail: `AWSLogs/<o-id>/<account>/…`. */
export function organizationOf(account: string): string | undefined {
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

/** One delivery file, planned: names and random choices are fixed before the asynchronous write starts. */
export interface Delivery {
  account: string;
  region: string;
  key: string;
  /** When CloudTrail delivered it (its digest hour), and its duplicate. */
  deliveryMs: number;
  duplicateMs?: number;
  /** What CloudTrail delivered: the digests list this content's hash. */
  json: string;
  /** What is on disk when it differs (a file modified after delivery). */
  writtenJson?: string;
  /** Deleted after delivery: listed by its digest, never written. */
  deleted?: boolean;
  plain: boolean;
  corrupt: boolean;
  duplicateKey?: string;
}

/** Plans one slot's delivery file for an account and region; `tags` are the script's special treatments for it. */
export function planDelivery(account: string, region: string, records: readonly CloudTrailRecord[], tags: ReadonlySet<FileTag>, rng: Rng): Delivery {
  const newest = records[records.length - 1]?.eventTime ?? '';
  // CloudTrail delivers a few minutes after the last event, so 23:5x events land in the next day's folder.
  const deliveryMs = Date.parse(newest) + rng.between(240, 840) * SECOND_MS;
  const plain = tags.has('plain');
  const delivery: Delivery = {
    account,
    region,
    deliveryMs,
    key: deliveryKey(account, region, deliveryMs, rng.alnum(16), plain ? '.json' : '.json.gz'),
    json: JSON.stringify({ Records: records }),
    plain,
    corrupt: tags.has('corrupt'),
  };
  if (tags.has('duplicate')) {
    delivery.duplicateMs = deliveryMs + rng.between(60, 300) * SECOND_MS;
    delivery.duplicateKey = deliveryKey(account, region, delivery.duplicateMs, rng.alnum(16), '.json.gz');
  }
  if (tags.has('digest')) {
    // This delivery once came with a lone digest; every delivery has digests now (digests.ts). The draws stay, so
    // that the names of the files after it stay what they were.
    rng.between(300, 3000);
    new Rng(rng.int(2 ** 32));
  }
  return delivery;
}

/** Writes a planned delivery: compressed or plain, truncated, twice, modified or not at all, as planned. */
export async function writeDelivery(writer: TreeWriter, d: Delivery): Promise<void> {
  if (d.deleted) return;
  const json = d.writtenJson ?? d.json;
  if (d.plain) {
    await writer.put(d.key, json);
    return;
  }
  // Level 1: any gzip reads the same; the fastest level keeps a million events well under half a minute.
  const gz = await gzip(json, { level: 1 });
  if (d.corrupt) {
    // Cut mid-stream, as an interrupted copy would: gunzip fails on it.
    await writer.put(d.key, gz.subarray(0, Math.floor(gz.length / 2)));
    return;
  }
  await writer.put(d.key, gz);
  if (d.duplicateKey) await writer.put(d.duplicateKey, gz);
}
