/**
 * CloudTrail log file validation, the judging part: given the digest files found beside the logs (already read,
 * hashed and, where possible, their signatures checked) and the log files of the window with their hashes, which
 * log files are proven complete and unaltered, and what is wrong. Pure: no crypto, no I/O (the reader in
 * `src/integrity/` does those), so the rules below can be tested on their own.
 *
 * The rules follow the AWS CLI's `cloudtrail validate-logs` (awscli/customizations/cloudtrail/validation.py):
 * - a log file's hash is the SHA-256 of its *uncompressed* content, compared with the digest's `hashValue`;
 * - a digest must sit where it says it was delivered (`digestS3Bucket`/`digestS3Object`), or it is invalid;
 * - digests chain through `previousDigestS3Object` (and `previousDigestHashValue`, the SHA-256 of the previous
 *   digest's uncompressed content); a digest without a previous one after an earlier digest is a gap: logging or
 *   validation was off in between.
 * Beyond the CLI (which starts from the digests and never sees extra files): every log file read must be listed by
 * a valid digest, or it is reported as not covered — except those delivered after the newest digest, which no
 * digest can list yet (counted and said).
 */
import { z } from 'zod';

/** One log file entry of a digest. */
const DigestLogFile = z.object({
  s3Bucket: z.string(),
  s3Object: z.string(),
  hashValue: z.string(),
  hashAlgorithm: z.string(),
});

/** A digest file's JSON, as CloudTrail writes it ("CloudTrail digest file structure"); the fields the CLI requires. */
export const DigestDocument = z.object({
  digestStartTime: z.string(),
  digestEndTime: z.string(),
  digestS3Bucket: z.string(),
  digestS3Object: z.string(),
  digestPublicKeyFingerprint: z.string(),
  digestSignatureAlgorithm: z.string().optional(),
  previousDigestS3Bucket: z.string().nullish(),
  previousDigestS3Object: z.string().nullish(),
  previousDigestHashValue: z.string().nullish(),
  previousDigestHashAlgorithm: z.string().nullish(),
  // Required by the CLI; null on the first digest of a chain.
  previousDigestSignature: z.string().nullable(),
  logFiles: z.array(DigestLogFile),
});
export type DigestDocument = z.infer<typeof DigestDocument>;

/** What became of a digest's signature. `unverifiable`: no signature metadata (a local copy) or no public key. */
export type SignatureCheck =
  | { readonly status: 'valid'; readonly fingerprint: string }
  | { readonly status: 'invalid'; readonly reason: string }
  | { readonly status: 'unverifiable'; readonly reason: string };

/** A digest file as found. */
export interface FoundDigest {
  /** Its key where it was found (with the bucket's prefix on S3; from `AWSLogs/` on in a local tree). */
  readonly key: string;
  /** The bucket it was found in; undefined for a local tree (whose bucket is unknown). */
  readonly bucket?: string;
  readonly account: string;
  readonly region: string;
  /** Its JSON and the SHA-256 (hex) of its uncompressed bytes, or why it could not be read. */
  readonly content: { readonly json: unknown; readonly sha256: string } | { readonly error: string };
  readonly signature: SignatureCheck;
}

/** A log file of the window, hashed. */
export interface HashedLogFile {
  /** Its key (with or without the bucket's prefix). */
  readonly key: string;
  readonly account: string;
  readonly region: string;
  /**
   * SHA-256 (hex) of its uncompressed content, or why it could not be read; neither when it was not hashed because
   * no digest lists it (see `keysListedByDigests`): its hash is compared with nothing.
   */
  readonly sha256?: string;
  readonly error?: string;
}

/** How the log files' hashes were come by, for the summary line. */
export interface HashingFacts {
  /** Log files hashed by this run (on S3: downloaded to be). */
  readonly hashed: number;
  /** Hashes taken from the store's record of earlier runs, for files of the same key, size and identity. */
  readonly fromRecord: number;
  /** What a recorded hash was matched on, in words ("same size and ETag"). */
  readonly basis?: string;
  /** True when a re-hash of every file was asked for although a record was there (`integrity.rehash: always`). */
  readonly rehash?: boolean;
}

export const INTEGRITY_PROBLEMS = ['modified', 'missing', 'not_covered', 'chain_gap', 'invalid_digest'] as const;
export type IntegrityProblemKind = (typeof INTEGRITY_PROBLEMS)[number];

/**
 * The rows' details for log files (stable texts: reports and CSVs show them). The digest that lists a file is not
 * named: its key follows from the file's account, region and delivery hour.
 */
export const INTEGRITY_DETAILS = {
  modified: 'its content differs from what CloudTrail delivered (SHA-256 mismatch with its digest)',
  unreadable: 'cannot be read, so it is not what CloudTrail delivered (its digest lists its hash)',
  missing: 'not found, but a digest lists it: removed after delivery',
  notCovered: 'no valid digest lists it: delivered while log file validation was off, or not delivered by CloudTrail',
  gap: (from: string, to: string) => `no digest from ${from} to ${to}: logging or log file validation was off, so log files delivered then cannot be verified`,
} as const;

/** One row of `log_integrity_problems`. */
export interface IntegrityProblem {
  readonly problem: IntegrityProblemKind;
  readonly account: string;
  readonly region: string;
  /** The log file or digest concerned (from `AWSLogs/` on); for a gap, the digest after it. */
  readonly objectKey: string;
  /** When: a log file's delivery time (from its name), a digest's end time, a gap's start. */
  readonly observedAt: string;
  readonly detail: string;
}

export interface IntegrityInput {
  readonly digests: readonly FoundDigest[];
  readonly logs: readonly HashedLogFile[];
  /** Which log files the validation is about: the window's (by key). Digest entries outside it are not required. */
  readonly inScope: (key: string) => boolean;
  /** The earliest digest end time looked for: a chain pointing before it leaves the range, not a digest missing. */
  readonly digestsFrom: string;
  /** How the hashes were come by; said in the summary when given. */
  readonly hashing?: HashingFacts;
}

export interface IntegrityResult {
  readonly problems: readonly IntegrityProblem[];
  readonly logFiles: number;
  readonly verified: number;
  /** Valid digests (found in place, signature not failed, not contradicted by the next digest). */
  readonly digests: number;
  readonly digestsFound: number;
  readonly signaturesVerified: number;
  /** Why some signatures could not be checked (distinct reasons); empty when all were. */
  readonly signaturesUnverifiable: readonly string[];
  /** Log files delivered after the newest digest of their account and region: no digest can list them yet. */
  readonly afterNewestDigest: number;
  /** `account/region` with log files but no digest at all: validation is off there; nothing there is proven. */
  readonly withoutDigests: readonly string[];
  /** Why the result can't pass (no digests somewhere), or undefined. */
  readonly incomplete?: string;
  /** One line for the report's summary. */
  readonly summary: string;
}

/** The key from `AWSLogs/` on: digests name keys with the bucket's prefix, a local copy has none. */
export function fromAwsLogs(key: string): string {
  if (key.startsWith('AWSLogs/')) return key;
  const at = key.indexOf('/AWSLogs/');
  return at >= 0 ? key.slice(at + 1) : key;
}

const DIGEST_NAME = /(?:^|\/)(\d{12})_CloudTrail-Digest_([a-z0-9-]+)_(.+)_([a-z]{2}(?:-[a-z]+)+-\d)_(\d{8}T\d{6}Z)(_backfill)?\.json\.gz$/;
const LOG_STAMP = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[A-Za-z0-9]+\.json(?:\.gz)?$/;

/** The parts of a digest's file name: the trail it belongs to, its end time, whether it is a backfill. */
export function parseDigestName(key: string): { trail: string; end: string; backfill: boolean } | undefined {
  const match = DIGEST_NAME.exec(key);
  if (!match) return undefined;
  const [, , , trail, home, stamp, backfill] = match;
  const s = stamp!;
  return {
    trail: `${trail!}_${home!}`,
    end: `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`,
    backfill: backfill !== undefined,
  };
}

/** A log file's delivery time from its name (`…_<yyyymmddThhmmZ>_<random>.json.gz`), or undefined. */
export function logDeliveryTime(key: string): string | undefined {
  const match = LOG_STAMP.exec(key);
  if (!match) return undefined;
  const [, y, mo, d, h, mi] = match;
  return `${y}-${mo}-${d}T${h}:${mi}:00Z`;
}

/**
 * The keys (from `AWSLogs/` on) some readable digest lists. Only these files' hashes are ever compared: any other log
 * file is "not covered" (or not yet verifiable, or in a region without digests) whatever its content, so hashing it
 * — on S3, downloading it — would prove nothing. Without digests, nothing is hashed.
 */
export function keysListedByDigests(digests: readonly FoundDigest[]): Set<string> {
  const keys = new Set<string>();
  for (const found of digests) {
    if ('error' in found.content) continue;
    const parsed = DigestDocument.safeParse(found.content.json);
    if (parsed.success) for (const entry of parsed.data.logFiles) keys.add(fromAwsLogs(entry.s3Object));
  }
  return keys;
}

/** The summary's note on where the hashes came from: only when it is not simply "every listed file hashed now". */
function hashingNote(hashing: HashingFacts | undefined, logs: number): string {
  if (!hashing || logs === 0) return '';
  const { hashed, fromRecord } = hashing;
  if (hashed + fromRecord === 0) return ' (none hashed: no digest lists them)';
  if (fromRecord > 0) {
    const reused = `${fromRecord.toLocaleString('en-US')} hash${fromRecord === 1 ? '' : 'es'} from the store's record of earlier runs, ${hashing.basis ?? 'same size and version'}`;
    return ` (${reused}; ${hashed.toLocaleString('en-US')} hashed this run)`;
  }
  return hashing.rehash ? ` (${plural(hashed, 'file')} hashed again: a full re-hash was asked for)` : '';
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

interface Placed {
  readonly found: FoundDigest;
  readonly doc: DigestDocument;
  readonly sha256: string;
  readonly end: string;
  readonly backfill: boolean;
}

/** What the signatures prove, in words: never "verified" for a digest whose signature was not checked. */
function signatureLine(digests: number, verified: number, unverifiable: readonly string[]): string {
  if (digests === 0) return '';
  if (verified === digests) return `all ${plural(digests, 'digest signature')} verified`;
  const why = unverifiable.length > 0 ? ` (${unverifiable.join('; ')})` : '';
  if (verified === 0) return `hashes verified, signatures not verifiable${why}`;
  return `signatures verified for ${verified.toLocaleString('en-US')} of ${plural(digests, 'digest')}, not verifiable for the others${why}`;
}

/** Validates the window's log files against the digests. Pure. */
export function validateLogIntegrity(input: IntegrityInput): IntegrityResult {
  const problems: IntegrityProblem[] = [];
  const invalid = new Map<FoundDigest, string>();
  const markInvalid = (digest: FoundDigest, reason: string) => {
    if (!invalid.has(digest)) invalid.set(digest, reason);
  };

  // 1. Each digest on its own: readable, well-formed, in place, signature not failed.
  const streams = new Map<string, Placed[]>();
  for (const found of input.digests) {
    if ('error' in found.content) {
      markInvalid(found, `cannot be read: ${found.content.error}`);
      continue;
    }
    const parsed = DigestDocument.safeParse(found.content.json);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))].join(', ');
      markInvalid(found, `invalid format: not a CloudTrail digest (${fields})`);
      continue;
    }
    const doc = parsed.data;
    const moved =
      found.bucket !== undefined
        ? doc.digestS3Bucket !== found.bucket || doc.digestS3Object !== found.key
        : fromAwsLogs(doc.digestS3Object) !== fromAwsLogs(found.key);
    if (moved) {
      markInvalid(found, `has been moved from its original location (it was delivered as s3://${doc.digestS3Bucket}/${doc.digestS3Object})`);
      continue;
    }
    if (found.signature.status === 'invalid') markInvalid(found, `signature verification failed: ${found.signature.reason}`);
    const name = parseDigestName(found.key);
    const stream = `${found.account}|${found.region}|${name?.trail ?? ''}`;
    const placed: Placed = { found, doc, sha256: found.content.sha256, end: doc.digestEndTime, backfill: name?.backfill ?? false };
    streams.set(stream, [...(streams.get(stream) ?? []), placed]);
  }

  // 2. The chains, oldest first: each digest names the one before it (and that one's hash).
  for (const chain of streams.values()) {
    const ordered = chain.filter((d) => !d.backfill).sort((a, b) => (a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
    const byKey = new Map(ordered.map((d) => [fromAwsLogs(d.found.key), d]));
    ordered.forEach((current, i) => {
      const previous = ordered[i - 1];
      const pointer = current.doc.previousDigestS3Object ? fromAwsLogs(current.doc.previousDigestS3Object) : undefined;
      const { account, region } = current.found;
      if (!pointer) {
        if (previous) {
          problems.push({
            problem: 'chain_gap',
            account,
            region,
            objectKey: fromAwsLogs(current.found.key),
            observedAt: previous.end,
            detail: INTEGRITY_DETAILS.gap(previous.end, current.doc.digestStartTime),
          });
        }
        return;
      }
      const pointed = byKey.get(pointer);
      if (!pointed) {
        const pointedEnd = parseDigestName(pointer)?.end;
        if (pointedEnd !== undefined && pointedEnd >= input.digestsFrom) {
          problems.push({
            problem: 'missing',
            account,
            region,
            objectKey: pointer,
            observedAt: pointedEnd,
            detail: `digest file not found: ${fromAwsLogs(current.found.key)} names it as the previous digest`,
          });
        }
        return;
      }
      if (previous && pointed !== previous) markInvalid(previous.found, 'not part of the digest chain: the next digest names an earlier one');
      if (current.doc.previousDigestHashValue && current.doc.previousDigestHashValue !== pointed.sha256) {
        markInvalid(pointed.found, `its content differs from what the next digest (${fromAwsLogs(current.found.key)}) recorded`);
      }
    });
  }

  // 3. What the valid digests vouch for.
  const vouched = new Map<string, { hash: string; algorithm: string }>();
  const newestEnd = new Map<string, string>();
  const withDigests = new Set<string>();
  let digests = 0;
  let signaturesVerified = 0;
  const unverifiable = new Set<string>();
  for (const found of input.digests) withDigests.add(`${found.account}/${found.region}`);
  for (const chain of streams.values()) {
    for (const d of chain) {
      if (invalid.has(d.found)) continue;
      digests++;
      if (d.found.signature.status === 'valid') signaturesVerified++;
      else if (d.found.signature.status === 'unverifiable') unverifiable.add(d.found.signature.reason);
      const stream = `${d.found.account}/${d.found.region}`;
      if ((newestEnd.get(stream) ?? '') < d.end) newestEnd.set(stream, d.end);
      for (const entry of d.doc.logFiles) {
        vouched.set(fromAwsLogs(entry.s3Object), { hash: entry.hashValue.toLowerCase(), algorithm: entry.hashAlgorithm });
      }
    }
  }
  for (const [found, reason] of invalid) {
    problems.push({
      problem: 'invalid_digest',
      account: found.account,
      region: found.region,
      objectKey: fromAwsLogs(found.key),
      observedAt: parseDigestName(found.key)?.end ?? '',
      detail: reason,
    });
  }

  // 4. Every log file read against them, and every file they list against what was read.
  const logs = input.logs.filter((log) => input.inScope(log.key));
  const read = new Set(logs.map((log) => fromAwsLogs(log.key)));
  const without = new Set<string>();
  let verified = 0;
  let afterNewest = 0;
  for (const log of logs) {
    const key = fromAwsLogs(log.key);
    const stream = `${log.account}/${log.region}`;
    const observedAt = logDeliveryTime(key) ?? '';
    const base = { account: log.account, region: log.region, objectKey: key, observedAt };
    const entry = vouched.get(key);
    if (entry) {
      if (log.sha256 === undefined) problems.push({ ...base, problem: 'modified', detail: INTEGRITY_DETAILS.unreadable });
      else if (entry.algorithm !== 'SHA-256')
        problems.push({ ...base, problem: 'modified', detail: `its digest lists it with the hash algorithm "${entry.algorithm}", expected SHA-256` });
      else if (log.sha256 !== entry.hash) problems.push({ ...base, problem: 'modified', detail: INTEGRITY_DETAILS.modified });
      else verified++;
      continue;
    }
    if (!withDigests.has(stream)) {
      without.add(stream);
      continue;
    }
    const newest = newestEnd.get(stream);
    if (newest !== undefined && observedAt >= newest) {
      afterNewest++;
      continue;
    }
    problems.push({ ...base, problem: 'not_covered', detail: INTEGRITY_DETAILS.notCovered });
  }
  for (const key of vouched.keys()) {
    if (read.has(key) || !input.inScope(key)) continue;
    const parts = /^AWSLogs\/(?:o-[a-z0-9]+\/)?(\d{12})\/CloudTrail\/([^/]+)\//.exec(key);
    problems.push({
      problem: 'missing',
      account: parts?.[1] ?? '',
      region: parts?.[2] ?? '',
      objectKey: key,
      observedAt: logDeliveryTime(key) ?? '',
      detail: INTEGRITY_DETAILS.missing,
    });
  }

  problems.sort((a, b) =>
    a.observedAt < b.observedAt ? -1 : a.observedAt > b.observedAt ? 1 : a.objectKey < b.objectKey ? -1 : a.objectKey > b.objectKey ? 1 : 0,
  );
  const withoutDigests = [...without].sort();
  const incomplete =
    input.digests.length === 0
      ? 'no digest files found: CloudTrail log file validation is off (or the digests are not where the logs are), so nothing is verified'
      : withoutDigests.length > 0
        ? `no digest files for ${withoutDigests.join(', ')}: log file validation is off there, so those logs are not verified`
        : undefined;

  const counts = INTEGRITY_PROBLEMS.map((kind) => [kind, problems.filter((p) => p.problem === kind).length] as const).filter(([, n]) => n > 0);
  const words: Record<IntegrityProblemKind, string> = {
    modified: 'modified',
    missing: 'missing',
    not_covered: 'not covered by a digest',
    chain_gap: 'chain gap(s)',
    invalid_digest: 'invalid digest(s)',
  };
  const parts = [
    `${verified.toLocaleString('en-US')} of ${plural(logs.length, 'log file')} verified against ${plural(digests, 'digest')}${hashingNote(input.hashing, logs.length)}`,
    ...counts.map(([kind, n]) => `${n.toLocaleString('en-US')} ${words[kind]}`),
    ...(afterNewest > 0 ? [`${plural(afterNewest, 'file')} delivered after the newest digest (not yet verifiable)`] : []),
    ...(incomplete ? [incomplete] : []),
    signatureLine(digests, signaturesVerified, [...unverifiable]),
  ].filter((part) => part !== '');
  return {
    problems,
    logFiles: logs.length,
    verified,
    digests,
    digestsFound: input.digests.length,
    signaturesVerified,
    signaturesUnverifiable: [...unverifiable].sort(),
    afterNewestDigest: afterNewest,
    withoutDigests,
    ...(incomplete ? { incomplete } : {}),
    summary: parts.join('; '),
  };
}
