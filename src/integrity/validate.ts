/**
 * CloudTrail log file validation, the reading part: reads the window's digest files from the log source, hashes
 * the log files of the window they list (SHA-256 of its uncompressed content, as the AWS CLI's `validate-logs` does;
 * with a columnar store, only those the store's record has no hash for in their present state), checks
 * each digest's SHA256withRSA signature where the source keeps it (S3 object metadata) and a public key is known,
 * and hands all of it to the pure judge (`core/integrity.ts`).
 */
import { createHash, verify, type KeyObject } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describeError } from '../core/errors.js';
import { mapLimit } from '../core/map-limit.js';
import { hashIdentity, identityBasis, recordedHashOf, type RecordedHash } from '../core/hash-record.js';
import {
  fromAwsLogs,
  keysListedByDigests,
  logDeliveryTime,
  validateLogIntegrity,
  type FoundDigest,
  type HashedLogFile,
  type IntegrityResult,
  type SignatureCheck,
} from '../core/integrity.js';
import { parseLogKey } from '../core/cloudtrail-layout.js';
import { deliveryDaysFor, toCloudTrailTime, type TimeWindow } from '../core/time.js';
import type { Logger } from 'pino';
import type { DigestObject, LogFile, LogSource } from '../source/types.js';
import type { EventStore } from '../store/types.js';
import { hashLogFile } from './hash-file.js';
import type { PublicKeys } from './public-keys.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Why a digest's signature cannot be checked when the source keeps no metadata. */
export const NO_SIGNATURE_METADATA = 'no signature metadata: a local copy made with aws s3 sync keeps none';

/**
 * The string CloudTrail signs (validation.py's `_create_string_to_sign`): end time, `bucket/key`, the SHA-256 of the
 * uncompressed digest, and the previous digest's signature (`null` for the first of a chain).
 */
export function digestStringToSign(
  doc: { digestEndTime: string; digestS3Bucket: string; digestS3Object: string; previousDigestSignature: string | null },
  inflatedSha256: string,
): string {
  return `${doc.digestEndTime}\n${doc.digestS3Bucket}/${doc.digestS3Object}\n${inflatedSha256}\n${doc.previousDigestSignature ?? 'null'}`;
}

function checkSignature(object: DigestObject, json: unknown, inflatedSha256: string, keys: PublicKeys | string | undefined): SignatureCheck {
  const value = object.signature?.value;
  if (!value) return { status: 'unverifiable', reason: NO_SIGNATURE_METADATA };
  const algorithm = object.signature?.algorithm;
  if (algorithm && algorithm !== 'SHA256withRSA') return { status: 'invalid', reason: `unknown signature algorithm "${algorithm}" (expected SHA256withRSA)` };
  const doc = json as {
    digestEndTime?: unknown;
    digestS3Bucket?: unknown;
    digestS3Object?: unknown;
    previousDigestSignature?: unknown;
    digestPublicKeyFingerprint?: unknown;
  };
  const fingerprint = typeof doc.digestPublicKeyFingerprint === 'string' ? doc.digestPublicKeyFingerprint : '';
  if (!keys) return { status: 'unverifiable', reason: 'no public keys configured (integrity.public_keys_file) or available from CloudTrail' };
  if (typeof keys === 'string') return { status: 'unverifiable', reason: keys };
  const key: KeyObject | undefined = keys.get(fingerprint);
  if (!key) return { status: 'invalid', reason: `no public key with fingerprint ${fingerprint} in ${keys.origin}` };
  if (typeof doc.digestEndTime !== 'string' || typeof doc.digestS3Bucket !== 'string' || typeof doc.digestS3Object !== 'string') {
    return { status: 'invalid', reason: 'the digest lacks the fields its signature covers' };
  }
  const signed = digestStringToSign(
    {
      digestEndTime: doc.digestEndTime,
      digestS3Bucket: doc.digestS3Bucket,
      digestS3Object: doc.digestS3Object,
      previousDigestSignature: typeof doc.previousDigestSignature === 'string' ? doc.previousDigestSignature : null,
    },
    inflatedSha256,
  );
  const signature = Buffer.from(value, 'hex');
  const ok = signature.length > 0 && verify('sha256', Buffer.from(signed), key, signature);
  return ok ? { status: 'valid', fingerprint } : { status: 'invalid', reason: 'the signature does not match the digest' };
}

/** Reads one digest object: gunzip, hash, parse, signature. `keys` as a string: why there are none. */
export function readDigest(object: DigestObject, keys: PublicKeys | string | undefined): FoundDigest {
  const base = { key: object.key, account: object.account, region: object.region, ...(object.bucket !== undefined ? { bucket: object.bucket } : {}) };
  let inflated: Buffer;
  let json: unknown;
  try {
    inflated = gunzipSync(object.body);
    json = JSON.parse(inflated.toString('utf8'));
  } catch (error) {
    return { ...base, content: { error: `not gzip JSON (${describeError(error).split('\n')[0]})` }, signature: { status: 'invalid', reason: 'unreadable' } };
  }
  const sha256 = createHash('sha256').update(inflated).digest('hex');
  return { ...base, content: { json, sha256 }, signature: checkSignature(object, json, sha256, keys) };
}

export interface IntegrityRun {
  readonly result: IntegrityResult;
  /** Bytes of log files and digests read for the validation (on S3: downloaded, and billed as GETs and transfer). */
  readonly bytesRead: number;
  /** Log files hashed by this run (read, on S3 downloaded). */
  readonly hashed: number;
  /** Log files whose hash came from the store's record of earlier runs (same key, size and identity): not read. */
  readonly fromRecord: number;
  /** Log files of the window no digest lists: not hashed, as their hash would be compared with nothing. */
  readonly notListed: number;
  readonly keysOrigin?: string;
}

/** The columnar store's record of hashes, for one log source (`source`: its description, as the store keys it). */
export interface HashRecordAccess {
  readonly store: Pick<EventStore, 'recordedHashes' | 'recordHashes'>;
  readonly source: string;
  /** Hash every file again, whatever the record holds (the record is refreshed): `integrity.rehash: always`. */
  readonly rehash?: boolean;
}

/**
 * Whether validation of `window` vouches for the log file of `key`: a file of the window's delivery days, delivered
 * before the window's end or up to an hour after it.
 */
export function validationScope(window: TimeWindow): (key: string) => boolean {
  const daySet = new Set(deliveryDaysFor(window));
  // Events just before the end are delivered up to ~15 minutes later; files after that hold none of the window.
  const last = toCloudTrailTime(new Date(window.end.getTime() + HOUR_MS));
  return (key) => {
    const parts = parseLogKey(fromAwsLogs(key));
    const delivered = logDeliveryTime(key);
    // A file without CloudTrail's name stamp is in scope all the same: the engine reads it, so it must be vouched for.
    return parts !== undefined && daySet.has(parts.day) && (delivered === undefined || delivered <= last);
  };
}

/**
 * Validates the log files of `window` (those listed in `files`) against their digests. Only files some digest lists
 * are hashed (no other hash is ever compared). Log files listed without fetching (Athena reads the bucket itself) are
 * fetched by the source first: hashing needs their bytes. With `record` (a columnar store is in use), a file whose
 * key, size and identity match a recorded hash is neither fetched nor read, and every hash computed is recorded.
 */
export async function checkLogIntegrity(input: {
  readonly source: LogSource;
  readonly files: readonly LogFile[];
  readonly window: TimeWindow;
  /** The public keys; asked for only when a digest carries a signature (a local tree has none to check). */
  readonly keys?: PublicKeys | (() => Promise<PublicKeys | undefined>);
  readonly record?: HashRecordAccess;
  /** Told when the record cannot be written (the run goes on: the next one hashes those files again). */
  readonly log?: Logger;
  /**
   * Hashes this run already took, by key: the engine's, of the files it converted into its store while it had them
   * at hand (`WindowInput.hashing`). One stands for a file listed with the same size and identity (so unchanged since;
   * `recordedHashOf`, as for the store's record), which is then neither fetched nor read again; it counts as hashed
   * this run, and is recorded like the others.
   */
  readonly hashedWhileLoading?: ReadonlyMap<string, RecordedHash>;
}): Promise<IntegrityRun> {
  const { source, window, record } = input;
  const days = deliveryDaysFor(window);
  const inScope = validationScope(window);
  // The digest of a file delivered late on the last day ends the next day.
  const lastDay = new Date(Date.parse(`${days[days.length - 1]!.replaceAll('/', '-')}T00:00:00Z`) + DAY_MS);
  const digestDays = [...days, lastDay.toISOString().slice(0, 10).replaceAll('-', '/')];
  const objects = source.digests ? await source.digests(digestDays) : [];
  let keys: PublicKeys | string | undefined;
  if (objects.some((object) => object.signature?.value)) {
    try {
      keys = typeof input.keys === 'function' ? await input.keys() : input.keys;
    } catch (error) {
      // Without keys the hashes still count; the signatures are said to be unverifiable, and why.
      keys = `CloudTrail's public keys could not be read (${describeError(error).split('\n')[0]})`;
    }
  }
  const digests = objects.map((object) => readDigest(object, keys));

  const files = input.files.filter((file) => inScope(file.key));
  const listed = keysListedByDigests(digests);
  const wanted = files.filter((file) => listed.has(fromAwsLogs(file.key)));
  const recorded = record && !record.rehash ? await record.store.recordedHashes(record.source, wanted) : new Map<string, RecordedHash>();
  const known = new Map<string, string>();
  const reusedIdentities: string[] = [];
  for (const file of wanted) {
    const sha256 = recordedHashOf(recorded, file);
    if (sha256 === undefined) continue;
    known.set(file.key, sha256);
    reusedIdentities.push(hashIdentity(file)!);
  }
  const hashedEarlier: { file: LogFile; sha256: string }[] = [];
  let toHash = wanted.filter((file) => {
    if (known.has(file.key)) return false;
    const sha256 = input.hashedWhileLoading && recordedHashOf(input.hashedWhileLoading, file);
    if (sha256 === undefined) return true;
    hashedEarlier.push({ file, sha256 });
    return false;
  });
  const remote = toHash.filter((file) => !file.path.startsWith('/') && /^[a-z0-9]+:\/\//.test(file.path));
  let fetched: LogFile[] = [];
  if (remote.length > 0 && source.fetch) {
    fetched = await source.fetch(remote);
    const byFetchedKey = new Map(fetched.map((file) => [file.key, file]));
    toHash = toHash.map((file) => byFetchedKey.get(file.key) ?? file);
  }
  const hashed: { file: LogFile; sha256?: string; error?: string }[] = [
    ...hashedEarlier,
    ...(await mapLimit(toHash, 4, async (file): Promise<{ file: LogFile; sha256?: string; error?: string }> => {
      try {
        return { file, sha256: await hashLogFile(file) };
      } catch (error) {
        return { file, error: describeError(error).split('\n')[0] ?? 'unreadable' };
      }
    })),
  ];
  const byKey = new Map(hashed.map((h) => [h.file.key, h]));
  const logs = files.map((file): HashedLogFile => {
    const base = { key: file.key, account: file.account, region: file.region };
    const sha256 = known.get(file.key) ?? byKey.get(file.key)?.sha256;
    if (sha256 !== undefined) return { ...base, sha256 };
    const error = byKey.get(file.key)?.error;
    return error === undefined ? base : { ...base, error };
  });
  if (record) {
    await recordHashes(record, hashed, input.log);
    // The store holds these files' events (the window was loaded first) and now their hashes: the downloads can go.
    if (fetched.length > 0) {
      await Promise.resolve(source.release?.(fetched)).catch((error: unknown) =>
        input.log?.warn({ err: error, files: fetched.length }, 'could not remove the downloads hashed for log file validation'),
      );
    }
  }

  const result = validateLogIntegrity({
    digests,
    logs,
    inScope,
    digestsFrom: toCloudTrailTime(new Date(Date.parse(`${days[0]!.replaceAll('/', '-')}T00:00:00Z`))),
    hashing: {
      hashed: hashed.length,
      fromRecord: known.size,
      ...(reusedIdentities.length > 0 ? { basis: identityBasis(reusedIdentities) } : {}),
      ...(record?.rehash ? { rehash: true } : {}),
    },
  });
  const bytesRead = toHash.reduce((sum, file) => sum + file.bytes, 0) + objects.reduce((sum, object) => sum + object.body.length, 0);
  return {
    result,
    bytesRead,
    hashed: hashed.length,
    fromRecord: known.size,
    notListed: files.length - wanted.length,
    ...(keys && typeof keys !== 'string' ? { keysOrigin: keys.origin } : {}),
  };
}

/** Adds this run's hashes to the store's record; a failure to write it costs the next run a hash, not this run. */
async function recordHashes(record: HashRecordAccess, hashed: readonly { file: LogFile; sha256?: string }[], log: Logger | undefined): Promise<void> {
  const entries = hashed.flatMap(({ file, sha256 }) => {
    const identity = hashIdentity(file);
    return sha256 === undefined || identity === undefined ? [] : [{ file, entry: { key: file.key, bytes: file.bytes, identity, sha256 } }];
  });
  if (entries.length === 0) return;
  try {
    await record.store.recordHashes(record.source, entries);
  } catch (error) {
    log?.warn({ err: error, files: entries.length }, "could not record the log files' hashes in the store: the next run hashes them again");
  }
}
