import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Logger } from 'pino';
import { listAllPages } from '../aws/s3-client.js';
import { ArchiveError, describeError } from '../core/errors.js';
import { MANIFEST_FILE } from '../core/manifest.js';
import { assertRunId, assertEvidenceName, datePath } from './layout.js';
import type { ArchivedRun, EvidenceArchive, RunFolder, StoredBytes, StoredFile } from './types.js';

/** Options of the S3 evidence archive; the config's `archive` section with `kind: s3` maps onto them. */
export interface S3ArchiveOptions {
  /** The S3 client, built and destroyed by the composition root (a test hands in one pointed at a local peer). */
  readonly client: S3Client;
  readonly bucket: string;
  /** '' or ending with '/'. */
  readonly prefix: string;
  /** SSE-KMS key id or ARN; without it the bucket's default encryption applies. */
  readonly kmsKeyId?: string;
  /** Tags put on every object written. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Expiry of presigned links, at most 168 (7 days, SigV4's limit). */
  readonly linkExpiryHours?: number;
  /** S3 Object Lock retention for every object written: mode, and days from the write. */
  readonly objectLock?: { readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly days: number };
  readonly log?: Logger;
}

const MAX_LINK_SECONDS = 7 * 24 * 3600;
const DAY_MS = 86_400_000;

const CONTENT_TYPES: Record<string, string> = {
  csv: 'text/csv; charset=utf-8',
  html: 'text/html; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json',
};

function contentType(name: string): string {
  return CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
}

function httpStatus(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

/** `k1=v1&k2=v2`, each part percent-encoded (S3 reads the Tagging header as a URL query string). */
export function encodeTags(tags: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(tags);
  if (entries.length === 0) return undefined;
  return entries.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
}

/** Every key under `prefix` (all pages), and with a delimiter the sub-folder names. */
async function listAll(client: S3Client, bucket: string, prefix: string, delimiter?: string): Promise<{ keys: string[]; folders: string[] }> {
  const { objects, folders } = await listAllPages(client, bucket, prefix, delimiter);
  return { keys: objects.map((object) => object.Key!), folders };
}

/**
 * One run folder in S3, read back object by object (for `trailwarden verify s3://…` and re-sending a report).
 * Reads ask S3 for the stored SHA-256 too, so S3 itself checks the bytes it returns where it keeps one.
 */
export class S3ArchivedRun implements ArchivedRun {
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #runPrefix: string;
  readonly #linkSeconds: number;

  constructor(client: S3Client, bucket: string, runPrefix: string, linkSeconds = MAX_LINK_SECONDS) {
    this.#client = client;
    this.#bucket = bucket;
    this.#runPrefix = runPrefix.endsWith('/') ? runPrefix : `${runPrefix}/`;
    this.#linkSeconds = linkSeconds;
    this.location = `s3://${bucket}/${this.#runPrefix}`;
  }

  /** `s3://bucket/prefix/yyyy/mm/dd/run-id/` → its parts; undefined for anything that is not an s3:// URL. */
  static parseLocation(location: string): { bucket: string; runPrefix: string } | undefined {
    if (!location.startsWith('s3://')) return undefined;
    const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+?)\/?$/.exec(location);
    if (!match) throw new ArchiveError(`${location}: expected a run folder in S3 such as s3://my-bucket/trailwarden/2026/11/23/<run-id>/`);
    return { bucket: match[1]!, runPrefix: `${match[2]!}/` };
  }

  locationOf(name: string): string {
    return `${this.location}${name}`;
  }

  async read(name: string): Promise<StoredBytes | undefined> {
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: `${this.#runPrefix}${name}`, ChecksumMode: 'ENABLED' }));
      const bytes = Buffer.from(await response.Body!.transformToByteArray());
      // A full-object SHA-256 as S3 keeps it; a composite one ("…-N", multipart) is not a digest of the bytes.
      const stored =
        response.ChecksumSHA256 && !response.ChecksumSHA256.includes('-') ? Buffer.from(response.ChecksumSHA256, 'base64').toString('hex') : undefined;
      return { bytes, storedSha256: stored };
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw new ArchiveError(`cannot read ${this.locationOf(name)}: ${describeError(error)}`, { cause: error });
    }
  }

  async names(): Promise<string[]> {
    try {
      return (await listAll(this.#client, this.#bucket, this.#runPrefix)).keys.map((key) => key.slice(this.#runPrefix.length)).sort();
    } catch (error) {
      throw new ArchiveError(`cannot list ${this.location}: ${describeError(error)}`, { cause: error });
    }
  }

  async link(name: string): Promise<string> {
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.#bucket, Key: `${this.#runPrefix}${name}` }), { expiresIn: this.#linkSeconds });
  }
}

/**
 * Evidence in S3: `<prefix><yyyy>/<mm>/<dd>/<run-id>/`, the same layout as the local archive. Every object is
 * written once, with a SHA-256 checksum S3 verifies on receipt, and never over an existing key.
 */
export class S3Archive implements EvidenceArchive {
  readonly kind = 's3';
  readonly #options: S3ArchiveOptions;
  readonly #client: S3Client;
  readonly #linkSeconds: number;

  constructor(options: S3ArchiveOptions) {
    this.#options = options;
    this.#client = options.client;
    this.#linkSeconds = Math.min((options.linkExpiryHours ?? 168) * 3600, MAX_LINK_SECONDS);
  }

  describe(): string {
    return `S3 s3://${this.#options.bucket}/${this.#options.prefix}`;
  }

  #url(key: string): string {
    return `s3://${this.#options.bucket}/${key}`;
  }

  async openRun(runId: string, reportDate: Date): Promise<RunFolder> {
    assertRunId(runId);
    const runPrefix = `${this.#options.prefix}${datePath(reportDate).join('/')}/${runId}/`;
    let existing;
    try {
      existing = await this.#client.send(new ListObjectsV2Command({ Bucket: this.#options.bucket, Prefix: runPrefix, MaxKeys: 1 }));
    } catch (error) {
      throw new ArchiveError(`cannot check the run folder ${this.#url(runPrefix)}: ${describeError(error)}`, { cause: error });
    }
    if ((existing.KeyCount ?? existing.Contents?.length ?? 0) > 0) {
      throw new ArchiveError(`cannot create the run folder ${this.#url(runPrefix)}: it already holds objects and evidence is never overwritten`);
    }
    const files = new S3ArchivedRun(this.#client, this.#options.bucket, runPrefix, this.#linkSeconds);
    return {
      location: files.location,
      locationOf: (name) => files.locationOf(name),
      write: (name, content) => this.#write(runPrefix, name, content),
      link: (name) => files.link(name),
    };
  }

  async #write(runPrefix: string, name: string, content: string | Uint8Array): Promise<StoredFile> {
    assertEvidenceName(name);
    const key = `${runPrefix}${name}`;
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const digest = createHash('sha256').update(data).digest();

    // HEAD first: stores that ignore If-None-Match (s3rver, some S3-compatible ones) would silently overwrite.
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.#options.bucket, Key: key }));
      throw new ArchiveError(`cannot write ${this.#url(key)}: it already exists and evidence is never overwritten`);
    } catch (error) {
      if (error instanceof ArchiveError) throw error;
      if (httpStatus(error) !== 404)
        throw new ArchiveError(`cannot write ${this.#url(key)}: checking that it does not exist failed: ${describeError(error)}`, { cause: error });
    }

    const input: PutObjectCommandInput = {
      Bucket: this.#options.bucket,
      Key: key,
      Body: data,
      ContentType: contentType(name),
      // S3 recomputes the SHA-256 on receipt and refuses the object if it differs; the manifest keeps the hex.
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: digest.toString('base64'),
      // Real S3 refuses (412) when the key appeared since the HEAD above.
      IfNoneMatch: '*',
      Tagging: encodeTags(this.#options.tags ?? {}),
    };
    if (this.#options.objectLock) {
      // Retained from the write on: not even the job's own credentials can delete or overwrite it before then.
      input.ObjectLockMode = this.#options.objectLock.mode;
      input.ObjectLockRetainUntilDate = new Date(Date.now() + this.#options.objectLock.days * DAY_MS);
    }
    if (this.#options.kmsKeyId) {
      input.ServerSideEncryption = 'aws:kms';
      input.SSEKMSKeyId = this.#options.kmsKeyId;
    }
    const stored: StoredFile = { name, bytes: data.byteLength, sha256: digest.toString('hex') };
    try {
      await this.#client.send(new PutObjectCommand(input));
    } catch (error) {
      if (httpStatus(error) !== 412) throw new ArchiveError(`cannot write ${this.#url(key)}: ${describeError(error)}`, { cause: error });
      // 412 also answers the SDK's retry of a PUT whose first attempt was stored but whose answer was lost:
      // the key then holds exactly these bytes, and the write did happen. Anything else is a refusal.
      if (!(await this.#holds(key, stored.sha256)))
        throw new ArchiveError(`cannot write ${this.#url(key)}: it already exists and evidence is never overwritten`, { cause: error });
      this.#options.log?.info({ key }, 'evidence object already written by an earlier attempt of this write (same SHA-256)');
    }
    this.#options.log?.debug({ key, bytes: data.byteLength }, 'evidence object written');
    return stored;
  }

  /** Whether `key` holds bytes with this SHA-256 (hex); false when it can't be read. */
  async #holds(key: string, sha256: string): Promise<boolean> {
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#options.bucket, Key: key }));
      const bytes = await response.Body!.transformToByteArray();
      return createHash('sha256').update(bytes).digest('hex') === sha256;
    } catch {
      return false;
    }
  }

  async *runsByDay(until: Date): AsyncIterable<readonly ArchivedRun[]> {
    const { bucket, prefix } = this.#options;
    const last = datePath(until).join('/');
    const newestFirst = (names: string[]) => names.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const list = async (under: string, delimiter?: string) => {
      try {
        return await listAll(this.#client, bucket, under, delimiter);
      } catch (error) {
        throw new ArchiveError(`cannot list ${this.#url(under)}: ${describeError(error)}`, { cause: error });
      }
    };
    for (const year of newestFirst((await list(prefix, '/')).folders.filter((f) => /^\d{4}$/.test(f)))) {
      if (year > last.slice(0, 4)) continue;
      for (const month of newestFirst((await list(`${prefix}${year}/`, '/')).folders.filter((f) => /^\d{2}$/.test(f)))) {
        if (`${year}/${month}` > last.slice(0, 7)) continue;
        for (const day of newestFirst((await list(`${prefix}${year}/${month}/`, '/')).folders.filter((f) => /^\d{2}$/.test(f)))) {
          if (`${year}/${month}/${day}` > last) continue;
          // One listing of the day: every run folder's keys, so a folder's manifest is seen without a request per run.
          const dayPrefix = `${prefix}${year}/${month}/${day}/`;
          const finished = (await list(dayPrefix)).keys
            .map((key) => key.slice(dayPrefix.length).split('/'))
            .filter((parts) => parts.length === 2 && parts[1] === MANIFEST_FILE && /^[A-Za-z0-9_.-]+$/.test(parts[0]!) && !parts[0]!.startsWith('.'))
            .map((parts) => parts[0]!)
            .sort();
          if (finished.length > 0) yield finished.map((run) => new S3ArchivedRun(this.#client, bucket, `${dayPrefix}${run}/`, this.#linkSeconds));
        }
      }
    }
  }

  /**
   * The finished run `runId`. Its folder date is the report's as-of date, not the run id's timestamp (the
   * generation time), so the days nearest that timestamp are probed first, then every other day folder.
   * A folder without `manifest.json` is an unfinished run: an error, never returned as a finished one.
   */
  async findRun(runId: string): Promise<ArchivedRun | undefined> {
    assertRunId(runId);
    const { bucket, prefix } = this.#options;
    const probe = async (day: string): Promise<ArchivedRun | undefined> => {
      const runPrefix = `${prefix}${day}/${runId}/`;
      const { keys } = await listAll(this.#client, bucket, runPrefix);
      if (keys.length === 0) return undefined;
      if (!keys.includes(`${runPrefix}${MANIFEST_FILE}`)) {
        throw new ArchiveError(
          `run ${runId} at ${this.#url(runPrefix)} is incomplete: it has no ${MANIFEST_FILE} (the run did not finish), so it is not a finished run`,
        );
      }
      return new S3ArchivedRun(this.#client, bucket, runPrefix, this.#linkSeconds);
    };

    try {
      const stamp = /^(\d{4})(\d{2})(\d{2})T/.exec(runId);
      const generated = stamp ? Date.UTC(Number(stamp[1]), Number(stamp[2]) - 1, Number(stamp[3])) : undefined;
      // Scheduled runs report as of their own day (or the day before, just after midnight).
      const likely = generated === undefined ? [] : [0, -1].map((offset) => datePath(new Date(generated + offset * DAY_MS)).join('/'));
      for (const day of likely) {
        const found = await probe(day);
        if (found) return found;
      }
      const days: string[] = [];
      for (const year of (await listAll(this.#client, bucket, prefix, '/')).folders.filter((f) => /^\d{4}$/.test(f))) {
        for (const month of (await listAll(this.#client, bucket, `${prefix}${year}/`, '/')).folders.filter((f) => /^\d{2}$/.test(f))) {
          for (const day of (await listAll(this.#client, bucket, `${prefix}${year}/${month}/`, '/')).folders.filter((f) => /^\d{2}$/.test(f))) {
            const folder = `${year}/${month}/${day}`;
            if (!likely.includes(folder)) days.push(folder);
          }
        }
      }
      // Nearest to the generation day first: re-reports of a past as-of are usually of recent days.
      const distance = (day: string) => (generated === undefined ? 0 : Math.abs(Date.parse(`${day.replaceAll('/', '-')}T00:00:00Z`) - generated));
      days.sort((a, b) => distance(a) - distance(b) || (a < b ? 1 : -1));
      for (const day of days) {
        const found = await probe(day);
        if (found) return found;
      }
      return undefined;
    } catch (error) {
      if (error instanceof ArchiveError) throw error;
      throw new ArchiveError(`cannot search ${this.#url(prefix)} for run ${runId}: ${describeError(error)}`, { cause: error });
    }
  }
}
