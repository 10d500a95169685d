import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { listAllPages } from '../aws/s3-client.js';
import { describeError, SourceError } from '../core/errors.js';
import type { SkippedFile } from '../core/model.js';
import { deliveryDaysFor, type TimeWindow } from '../core/time.js';
import {
  ACCOUNT_ID,
  awsLogsPrefix,
  DIGEST_FOLDER,
  GLOB_CHARACTERS,
  logFileSkipReason,
  ORGANIZATION_ID,
  REGION,
  SKIP_REASONS,
  TRAIL_FOLDER,
  trailFolder,
} from '../core/cloudtrail-layout.js';
import type { DigestObject, ListOptions, LogFile, LogSource, SourceListing } from './types.js';
import { mapLimit } from '../core/map-limit.js';

/** Options of the CloudTrail-bucket source; the config's `source` section with `kind: s3` maps onto them. */
export interface S3SourceOptions {
  /** The S3 client, built and destroyed by the composition root (a test hands in one pointed at a local peer). */
  readonly client: S3Client;
  readonly bucket: string;
  /** The trail's key prefix before `AWSLogs/`: '' or ending with '/'. */
  readonly prefix: string;
  /** Organization trails only (`AWSLogs/<o-id>/<account>/…`); without it both layouts are discovered. */
  readonly organizationId?: string;
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
  /** Local download cache, laid out like the bucket (`<cache>/<key>`). */
  readonly cachePath: string;
  /** S3 requests (listings, downloads) in flight at once. Default 8. */
  readonly concurrency?: number;
  readonly log?: Logger;
}

/** An account in the bucket: its folder is `<root><account>/`, `root` being `<prefix>AWSLogs/[<o-id>/]`. */
interface AccountRoot {
  readonly account: string;
  readonly root: string;
}

/** One object of a day folder that can be a delivery file. */
interface ListedObject {
  readonly key: string;
  readonly etag: string;
  readonly bytes: number;
  readonly account: string;
  readonly region: string;
  readonly day: string;
}

/**
 * Bookkeeping beside the cached tree, in a folder no CloudTrail key can start with, so the cache itself stays
 * a clean copy of the bucket (it can be read by the local source too).
 */
const META_DIR = '.trailwarden';

/**
 * The CloudTrail bucket itself. Lists exactly the window's day folders; for the DuckDB engine it downloads
 * the objects into a local cache (objects already cached with the same ETag are not downloaded again), for
 * Athena (`fetch: false`) it only lists them.
 */
export class S3LogSource implements LogSource {
  readonly kind = 's3';
  readonly #options: S3SourceOptions;
  readonly #client: S3Client;
  readonly #concurrency: number;

  constructor(options: S3SourceOptions) {
    this.#options = options;
    this.#client = options.client;
    this.#concurrency = options.concurrency ?? 8;
  }

  describe(): string {
    return `S3 bucket s3://${this.#options.bucket}/${this.#options.prefix}AWSLogs/`;
  }

  /** Every page of one delimited listing: the sub-folder prefixes and the objects directly under `prefix`. */
  async #listFolder(prefix: string): Promise<{ folders: string[]; objects: { key: string; etag: string; bytes: number }[] }> {
    try {
      const { folders, objects } = await listAllPages(this.#client, this.#options.bucket, prefix, '/');
      return { folders, objects: objects.map((object) => ({ key: object.Key!, etag: object.ETag ?? '', bytes: object.Size ?? 0 })) };
    } catch (error) {
      throw new SourceError(`cannot list s3://${this.#options.bucket}/${prefix}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Whether the folder `prefix` holds a `CloudTrail/` folder (depth 1), or one of its sub-folders does (depth 2). */
  async #holdsTrailFolder(prefix: string, depth: 1 | 2): Promise<boolean> {
    const { folders } = await this.#listFolder(prefix);
    if (folders.includes(TRAIL_FOLDER)) return true;
    if (depth === 1) return false;
    for (const folder of folders) if (await this.#holdsTrailFolder(`${prefix}${folder}/`, 1)) return true;
    return false;
  }

  /**
   * The account folders to read, discovered with delimited listings unless the config names them. As in the
   * local source, a folder that is no account or organization id but holds `CloudTrail/` folders is reported.
   */
  async #accountRoots(): Promise<{ roots: AccountRoot[]; skipped: SkippedFile[] }> {
    const { prefix, organizationId, accounts } = this.#options;
    const awsLogs = awsLogsPrefix({ prefix });
    const wanted = (account: string) => !accounts || accounts.includes(account);
    if (organizationId && accounts) return { roots: accounts.map((account) => ({ account, root: awsLogsPrefix({ prefix, organizationId }) })), skipped: [] };
    const roots: AccountRoot[] = [];
    const skipped: SkippedFile[] = [];
    // With an account filter, only the named accounts are in scope: a stray folder can't be one of them.
    const reportStray = async (folder: string, depth: 1 | 2) => {
      if (!accounts && (await this.#holdsTrailFolder(folder, depth))) skipped.push({ path: folder, reason: SKIP_REASONS.notAccountFolder });
    };
    const organizations: string[] = [];
    if (organizationId) organizations.push(organizationId);
    else {
      const top = await this.#listFolder(awsLogs);
      for (const name of top.folders) {
        if (ACCOUNT_ID.test(name)) {
          if (wanted(name)) roots.push({ account: name, root: awsLogs });
        } else if (ORGANIZATION_ID.test(name)) organizations.push(name);
        else await reportStray(`${awsLogs}${name}/`, 2);
      }
    }
    for (const organization of organizations) {
      const root = awsLogsPrefix({ prefix, organizationId: organization });
      for (const name of (await this.#listFolder(root)).folders) {
        if (!ACCOUNT_ID.test(name)) await reportStray(`${root}${name}/`, 1);
        else if (wanted(name)) roots.push({ account: name, root });
      }
    }
    if (roots.length === 0) {
      this.#options.log?.warn({ bucket: this.#options.bucket, prefix: awsLogs }, 'no CloudTrail account folders found in the bucket');
    }
    return { roots, skipped };
  }

  /** Whether one of the window's day folders under `regionFolder` holds anything. */
  async #holdsWindowDays(regionFolder: string, days: readonly string[]): Promise<boolean> {
    for (const day of days) {
      const { folders, objects } = await this.#listFolder(`${regionFolder}${day}/`);
      if (folders.length > 0 || objects.some((object) => object.key !== `${regionFolder}${day}/`)) return true;
    }
    return false;
  }

  async list(window: TimeWindow, options: ListOptions = {}): Promise<SourceListing> {
    const started = performance.now();
    const days = deliveryDaysFor(window);
    const { roots, skipped: strayFolders } = await this.#accountRoots();
    const regionFolders = await mapLimit(roots, this.#concurrency, async (root) => {
      if (this.#options.regions) return { folders: this.#options.regions.map((region) => ({ ...root, region })), skipped: [] };
      // Region-shaped folders only: a folder name becomes part of a cache path read by DuckDB, so `..` or a glob
      // pattern (`eu-[ab]-1`) is never followed; such a folder is reported when it holds files of the window.
      const trail = `${root.root}${trailFolder(root.account)}`;
      const folders: (AccountRoot & { region: string })[] = [];
      const skipped: SkippedFile[] = [];
      for (const name of (await this.#listFolder(trail)).folders) {
        if (REGION.test(name)) folders.push({ ...root, region: name });
        else if (await this.#holdsWindowDays(`${trail}${name}/`, days)) skipped.push({ path: `${trail}${name}/`, reason: SKIP_REASONS.notRegionFolder });
      }
      return { folders, skipped };
    });
    const dayFolders = regionFolders.flatMap((r) => r.folders).flatMap((folder) => days.map((day) => ({ ...folder, day })));

    // Only the window's day folders are listed, one delimited listing each: sub-folders are not descended into.
    const listed = await mapLimit(dayFolders, this.#concurrency, async ({ account, root, region, day }) => {
      const dayPrefix = `${root}${trailFolder(account, region, day)}`;
      const objects: ListedObject[] = [];
      const skipped: SkippedFile[] = [];
      const { folders, objects: listedObjects } = await this.#listFolder(dayPrefix);
      for (const folder of folders) skipped.push({ path: `${dayPrefix}${folder}/`, reason: SKIP_REASONS.folderInDayFolder });
      for (const object of listedObjects) {
        const name = object.key.slice(dayPrefix.length);
        if (name === '') continue; // a "folder" marker object made by a console or sync tool
        const reason = logFileSkipReason(name, object.bytes);
        if (reason) skipped.push({ path: object.key, reason });
        else objects.push({ ...object, account, region, day });
      }
      return { objects, skipped };
    });
    const objects = listed.flatMap((l) => l.objects).sort((a, b) => (a.key < b.key ? -1 : 1));
    const skipped = [...strayFolders, ...regionFolders.flatMap((r) => r.skipped), ...listed.flatMap((l) => l.skipped)].sort((a, b) =>
      a.path < b.path ? -1 : 1,
    );

    if (options.fetch === false) {
      this.#options.log?.debug(
        { bucket: this.#options.bucket, dayFolders: dayFolders.length, objects: objects.length, ms: Math.round(performance.now() - started) },
        'S3 log objects listed',
      );
      return {
        files: objects.map((o) => ({
          path: `s3://${this.#options.bucket}/${o.key}`,
          key: o.key,
          account: o.account,
          region: o.region,
          day: o.day,
          bytes: o.bytes,
          version: `etag:${o.etag}`,
        })),
        skipped,
      };
    }

    let downloaded = 0;
    let downloadedBytes = 0;
    const files = await mapLimit(objects, this.#concurrency, async (object): Promise<LogFile> => {
      const result = await this.#cached(object);
      if (result.downloaded) {
        downloaded += 1;
        downloadedBytes += result.bytes;
      }
      return {
        path: result.path,
        key: object.key,
        account: object.account,
        region: object.region,
        day: object.day,
        bytes: result.bytes,
        version: `etag:${object.etag}`,
      };
    });
    this.#options.log?.info(
      {
        bucket: this.#options.bucket,
        dayFolders: dayFolders.length,
        objects: files.length,
        downloaded,
        downloadedBytes,
        cached: files.length - downloaded,
        ms: Math.round(performance.now() - started),
      },
      'S3 log objects cached',
    );
    return { files, skipped };
  }

  /** Downloads `files` (listed with `fetch: false`) into the cache, as a fetching listing does; same order. */
  async fetch(files: readonly LogFile[]): Promise<LogFile[]> {
    return mapLimit(files, this.#concurrency, async (file): Promise<LogFile> => {
      const etag = file.version?.startsWith('etag:') ? file.version.slice('etag:'.length) : '';
      const result = await this.#cached({ key: file.key, etag, bytes: file.bytes, account: file.account, region: file.region, day: file.day });
      // The ETag of what was downloaded: a hash recorded for this copy must name the content it was computed from.
      return { ...file, path: result.path, bytes: result.bytes, version: `etag:${result.etag}` };
    });
  }

  /** Removes the cached copies of `files` and their ETag records: the store holds their events now. */
  async release(files: readonly LogFile[]): Promise<void> {
    for (const file of files) {
      await rm(this.#metaFile('etag', file.key), { force: true });
      await rm(this.#cacheFile(file.key), { force: true });
    }
  }

  #cacheFile(key: string): string {
    const root = path.resolve(this.#options.cachePath);
    const file = path.join(root, ...key.split('/'));
    // Keys come from the bucket: one that would land outside the cache (`..` in a configured prefix) is refused.
    if (!file.startsWith(`${root}${path.sep}`)) throw new SourceError(`s3://${this.#options.bucket}/${key}: this key would be cached outside ${root}`);
    // The layout admits no glob characters, but the cache path and the configured prefix may hold some.
    if (GLOB_CHARACTERS.test(file)) {
      throw new SourceError(
        `s3://${this.#options.bucket}/${key}: its cache path ${file} has one of * ? [ ] { }, which DuckDB would read as a glob pattern; choose a cache_path (and prefix) without these characters`,
      );
    }
    return file;
  }

  #metaFile(kind: 'etag' | 'partial', key: string): string {
    return path.join(path.resolve(this.#options.cachePath), META_DIR, kind, ...key.split('/'));
  }

  /**
   * The object's local copy: kept when its recorded ETag and size still match the listing, otherwise
   * downloaded again. Crash-safe by ordering: the ETag record is removed before the file is replaced and
   * written (atomically) only after it is complete, so a file without a matching record is never trusted.
   */
  async #cached(object: ListedObject): Promise<{ path: string; bytes: number; etag: string; downloaded: boolean }> {
    const file = this.#cacheFile(object.key);
    const etagFile = this.#metaFile('etag', object.key);
    const [recorded, info] = await Promise.all([readFile(etagFile, 'utf8').catch(() => undefined), stat(file).catch(() => undefined)]);
    if (recorded !== undefined && recorded === object.etag && info?.isFile() && info.size === object.bytes) {
      return { path: file, bytes: info.size, etag: recorded, downloaded: false };
    }

    const partial = this.#metaFile('partial', object.key);
    const where = `s3://${this.#options.bucket}/${object.key}`;
    let etag: string;
    let bytes: number;
    try {
      await Promise.all([
        mkdir(path.dirname(file), { recursive: true }),
        mkdir(path.dirname(partial), { recursive: true }),
        mkdir(path.dirname(etagFile), { recursive: true }),
      ]);
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#options.bucket, Key: object.key }));
      if (!response.Body) throw new Error('the response has no body');
      // A partial file left by an interrupted run is simply overwritten ('w').
      await pipeline(response.Body as Readable, createWriteStream(partial, { flags: 'w' }));
      bytes = (await stat(partial)).size;
      if (response.ContentLength !== undefined && bytes !== response.ContentLength) {
        throw new Error(`received ${bytes} bytes, expected ${response.ContentLength} (connection cut short)`);
      }
      // The ETag of what was actually downloaded: the object may have changed since it was listed.
      etag = response.ETag ?? object.etag;
    } catch (error) {
      await rm(partial, { force: true });
      throw new SourceError(`cannot download ${where}: ${describeError(error)}`, { cause: error });
    }
    try {
      await rm(etagFile, { force: true });
      await rename(partial, file);
      const temp = `${etagFile}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, etag);
      await rename(temp, etagFile);
    } catch (error) {
      throw new SourceError(`cannot store ${where} in the cache ${file}`, { cause: error });
    }
    return { path: file, bytes, etag, downloaded: true };
  }

  /**
   * The digest files of the day folders, read whole (an hour's digest is a few KB), with the `signature` and
   * `signature-algorithm` metadata CloudTrail puts on each.
   */
  async digests(days: readonly string[]): Promise<DigestObject[]> {
    const { roots } = await this.#accountRoots();
    const folders = await mapLimit(roots, this.#concurrency, async (root) => {
      const base = `${root.root}${root.account}/${DIGEST_FOLDER}/`;
      const regions = this.#options.regions ?? (await this.#listFolder(base)).folders.filter((name) => REGION.test(name));
      return regions.flatMap((region) => days.map((day) => ({ account: root.account, region, prefix: `${base}${region}/${day}/` })));
    });
    const listed = await mapLimit(folders.flat(), this.#concurrency, async (folder) =>
      (await this.#listFolder(folder.prefix)).objects.filter((o) => o.key.endsWith('.json.gz')).map((o) => ({ ...folder, key: o.key })),
    );
    const objects = listed.flat().sort((a, b) => (a.key < b.key ? -1 : 1));
    return mapLimit(objects, this.#concurrency, async (object): Promise<DigestObject> => {
      const where = `s3://${this.#options.bucket}/${object.key}`;
      try {
        const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#options.bucket, Key: object.key }));
        if (!response.Body) throw new Error('the response has no body');
        const body = Buffer.from(await response.Body.transformToByteArray());
        const metadata = response.Metadata ?? {};
        return {
          key: object.key,
          bucket: this.#options.bucket,
          account: object.account,
          region: object.region,
          body,
          signature: { value: metadata.signature, algorithm: metadata['signature-algorithm'] },
        };
      } catch (error) {
        throw new SourceError(`cannot read the digest ${where}: ${describeError(error)}`, { cause: error });
      }
    });
  }
}
