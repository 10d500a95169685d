/**
 * The demo's CloudTrail digest files: one per hour per account and region, as CloudTrail writes them with log file
 * validation on ("CloudTrail digest file structure"): each lists the log files delivered in its hour with the SHA-256
 * of their uncompressed content, and names the previous digest, its hash and its signature. Each is signed with the
 * demo key (`signing-key.ts`); a local tree keeps no S3 metadata, so the signature only travels when a test uploads
 * the tree to S3 (`demoDigestSignature`).
 *
 * One hour of one stream is left without a digest (the chain restarts after it), as when validation is turned off.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzipSync, gzip as gzipCallback } from 'node:zlib';
import { digestKey } from '../core/cloudtrail-layout.js';
import { digestStringToSign } from '../integrity/validate.js';
import { TRAIL_BUCKET, TRAIL_NAME } from './constants.js';
import { organizationOf } from './delivery.js';
import { DEMO_KEY_FINGERPRINT, signDemo } from './signing-key.js';
import { HOUR_MS, SECOND_MS, ctTime } from './time.js';
import type { TreeWriter } from './tree-writer.js';

const gzip = promisify(gzipCallback);

/** One log file as its digest lists it. */
export interface DigestedFile {
  readonly key: string;
  /** SHA-256 (hex) of the content CloudTrail delivered, uncompressed. */
  readonly sha256: string;
  readonly deliveryMs: number;
  readonly oldest: string;
  readonly newest: string;
}

/** The hour left without a digest: its stream and the start of the missing digest's period. */
export interface DigestGap {
  readonly account: string;
  readonly region: string;
  /** The missing digest is the one whose period holds this time. */
  readonly atMs: number;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Collects the deliveries of each account and region, then writes their hourly digests. */
export class DigestPlan {
  readonly #streams = new Map<string, { account: string; region: string; offsetMs: number; files: DigestedFile[] }>();

  /** `offsetMs`: where in the hour this stream's digests end (CloudTrail's are not on the hour). */
  add(account: string, region: string, offsetMs: number, file: DigestedFile): void {
    const id = `${account}|${region}`;
    const stream = this.#streams.get(id) ?? { account, region, offsetMs, files: [] };
    stream.files.push(file);
    this.#streams.set(id, stream);
  }

  /**
   * Writes every stream's digests from the hour before `fromMs` until the last delivery is listed. Returns the
   * missing digest's key and period (for the ground truth), when `gap` names a stream.
   */
  async write(writer: TreeWriter, fromMs: number, gap: DigestGap | undefined): Promise<{ gapKey?: string; gapStartMs?: number; gapEndMs?: number }> {
    const missing: { gapKey?: string; gapStartMs?: number; gapEndMs?: number } = {};
    for (const { account, region, offsetMs, files } of this.#streams.values()) {
      const organizationId = organizationOf(account);
      const lastDelivery = Math.max(...files.map((f) => f.deliveryMs));
      files.sort((a, b) => a.deliveryMs - b.deliveryMs || (a.key < b.key ? -1 : 1));
      let previous: { key: string; sha256: string; signature: string } | undefined;
      let next = 0;
      for (let endMs = fromMs + offsetMs; endMs - HOUR_MS <= lastDelivery; endMs += HOUR_MS) {
        const startMs = endMs - HOUR_MS;
        const listed: DigestedFile[] = [];
        while (next < files.length && files[next]!.deliveryMs < endMs) listed.push(files[next++]!);
        const key = digestKey({ organizationId, account, region }, TRAIL_NAME, new Date(endMs));
        if (gap && gap.account === account && gap.region === region && startMs <= gap.atMs && gap.atMs < endMs) {
          // Validation off for this hour: no digest, and the next one starts a new chain.
          Object.assign(missing, { gapKey: key, gapStartMs: startMs, gapEndMs: endMs });
          previous = undefined;
          continue;
        }
        const times = listed.flatMap((f) => [f.oldest, f.newest]).sort();
        const digestEndTime = ctTime(endMs);
        const body = JSON.stringify({
          awsAccountId: account,
          digestStartTime: ctTime(startMs),
          digestEndTime,
          digestS3Bucket: TRAIL_BUCKET,
          digestS3Object: key,
          digestPublicKeyFingerprint: DEMO_KEY_FINGERPRINT,
          digestSignatureAlgorithm: 'SHA256withRSA',
          ...(times.length > 0 ? { newestEventTime: times[times.length - 1], oldestEventTime: times[0] } : {}),
          previousDigestS3Bucket: previous ? TRAIL_BUCKET : null,
          previousDigestS3Object: previous?.key ?? null,
          previousDigestHashValue: previous?.sha256 ?? null,
          previousDigestHashAlgorithm: previous ? 'SHA-256' : null,
          previousDigestSignature: previous?.signature ?? null,
          logFiles: listed.map((f) => ({
            s3Bucket: TRAIL_BUCKET,
            s3Object: f.key,
            hashValue: f.sha256,
            hashAlgorithm: 'SHA-256',
            newestEventTime: f.newest,
            oldestEventTime: f.oldest,
          })),
        });
        const sha256 = sha256Hex(body);
        const signature = signDemo(
          digestStringToSign(
            { digestEndTime, digestS3Bucket: TRAIL_BUCKET, digestS3Object: key, previousDigestSignature: previous?.signature ?? null },
            sha256,
          ),
        );
        await writer.schedule(async () => writer.put(key, await gzip(body, { level: 1 })));
        previous = { key, sha256, signature };
      }
    }
    await writer.drain();
    return missing;
  }
}

/** Where in the hour a stream's digests end: a few minutes apart per stream (on a whole minute, as log file names are: a file's hour is plain from its name). */
export function digestOffsetMs(accountIndex: number, regionIndex: number): number {
  return (accountIndex * 3 + regionIndex) * 7 * 60 * SECOND_MS;
}

/**
 * The `signature` metadata CloudTrail would have put on a demo digest object (the demo key's SHA256withRSA over the
 * digest's string to sign): what a test uploading the demo tree to S3 sets, as CloudTrail does.
 */
export function demoDigestSignature(gzipped: Buffer): string {
  const inflated = gunzipSync(gzipped);
  const doc = JSON.parse(inflated.toString('utf8')) as {
    digestEndTime: string;
    digestS3Bucket: string;
    digestS3Object: string;
    previousDigestSignature: string | null;
  };
  return signDemo(digestStringToSign(doc, sha256Hex(inflated)));
}
