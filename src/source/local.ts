import { readdirSync, statSync, type BigIntStats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SourceError } from '../core/errors.js';
import type { SkippedFile } from '../core/model.js';
import { deliveryDaysFor, type TimeWindow } from '../core/time.js';
import {
  ACCOUNT_ID,
  awsLogsPrefix,
  DIGEST_FOLDER,
  GLOB_CHARACTERS,
  logFileSkipReason,
  logKey,
  ORGANIZATION_ID,
  REGION,
  SKIP_REASONS,
  TRAIL_FOLDER,
  trailFolder,
} from '../core/cloudtrail-layout.js';
import type { DigestObject, LogFile, LogSource, SourceListing } from './types.js';
import { readSmallFiles, takingTurns } from '../fs/read-small-files.js';

export interface LocalSourceOptions {
  /** A folder holding `AWSLogs/`, or the `AWSLogs` folder itself. */
  readonly path: string;
  /** Only these accounts / regions, when given. */
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
}

/** Sub-folders, following symbolic links (a synced tree may use them). */
async function listDir(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SourceError(`cannot list ${dir}`, { cause: error });
  }
  const folders: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) folders.push(entry.name);
    else if (entry.isSymbolicLink() && (await stat(path.join(dir, entry.name)).catch(() => undefined))?.isDirectory()) folders.push(entry.name);
  }
  return folders.sort();
}

/**
 * A local file's identity for the store's record of hashes: mtime, change time (nanoseconds) and inode. The change
 * time is set by the kernel on every write, rename and `utimes`, so a file rewritten and given its old mtime back has
 * another identity; a file replaced by another (a restored copy) has another inode.
 */
export function localIdentity(info: BigIntStats): string {
  return `local:mtime=${info.mtimeNs},ctime=${info.ctimeNs},ino=${info.ino}`;
}

/** Whether `dir` is a folder (following links) with at least one entry. */
async function holdsEntries(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}

/** An account folder to read. */
interface AccountFolder {
  readonly dir: string;
  readonly account: string;
  readonly organizationId: string | undefined;
}

/**
 * Whether `dir` holds a `CloudTrail/` folder (depth 1), or one of its sub-folders does (depth 2). A folder that
 * can't be listed counts as not holding one: a stray `lost+found` of a mounted volume must not stop the run.
 */
async function holdsTrailFolder(dir: string, depth: 1 | 2): Promise<boolean> {
  const names = await listDir(dir).catch((): string[] => []);
  if (names.includes(TRAIL_FOLDER)) return true;
  if (depth === 1) return false;
  for (const name of names) if (await holdsTrailFolder(path.join(dir, name), 1)) return true;
  return false;
}

/** A file's status, following symbolic links; undefined when it can't be had (a dangling link, no permission). */
function statOrUndefined(file: string): BigIntStats | undefined {
  try {
    return statSync(file, { bigint: true });
  } catch {
    return undefined;
  }
}

/**
 * A CloudTrail tree on local disk, laid out as in the S3 bucket:
 * `AWSLogs/[<o-id>/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/*.json.gz`.
 * Only the `CloudTrail` folder of each account is read: `CloudTrail-Digest` and `CloudTrail-Insight`
 * hold no API events.
 */
export class LocalLogSource implements LogSource {
  readonly kind = 'local';
  readonly #options: LocalSourceOptions;

  constructor(options: LocalSourceOptions) {
    this.#options = options;
  }

  describe(): string {
    return `local folder ${this.#options.path}`;
  }

  async #awsLogsRoot(): Promise<string> {
    const root = path.resolve(this.#options.path);
    const candidates = path.basename(root) === 'AWSLogs' ? [root] : [path.join(root, 'AWSLogs')];
    for (const candidate of candidates) {
      try {
        if ((await stat(candidate)).isDirectory()) return candidate;
      } catch {
        // fall through to the error below
      }
    }
    throw new SourceError(
      `no CloudTrail logs at ${root}: expected a folder AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/ (or AWSLogs/<o-id>/<account>/…) there`,
    );
  }

  /**
   * The account folders to read, for both the plain and the organization-trail layouts. A folder that is no
   * account or organization id but holds `CloudTrail/` folders (a copy, a typo, a name with glob characters)
   * is reported, not read and not silently passed over; other services' folders (VPC flow logs…) are left alone.
   */
  async #accountFolders(awsLogs: string, skipped: SkippedFile[]): Promise<AccountFolder[]> {
    const { accounts } = this.#options;
    const wanted = (account: string) => !accounts || accounts.includes(account);
    const found: AccountFolder[] = [];
    // With an account filter, only the named accounts are in scope: a stray folder can't be one of them.
    const reportStray = async (dir: string, key: string, depth: 1 | 2) => {
      if (!accounts && (await holdsTrailFolder(dir, depth))) skipped.push({ path: key, reason: SKIP_REASONS.notAccountFolder });
    };
    for (const name of await listDir(awsLogs)) {
      const dir = path.join(awsLogs, name);
      if (ACCOUNT_ID.test(name)) {
        if (wanted(name)) found.push({ dir, account: name, organizationId: undefined });
      } else if (ORGANIZATION_ID.test(name)) {
        for (const account of await listDir(dir)) {
          if (!ACCOUNT_ID.test(account)) await reportStray(path.join(dir, account), `${awsLogsPrefix({ organizationId: name })}${account}/`, 1);
          else if (wanted(account)) found.push({ dir: path.join(dir, account), account, organizationId: name });
        }
      } else {
        await reportStray(dir, `${awsLogsPrefix()}${name}/`, 2);
      }
    }
    return found;
  }

  async list(window: TimeWindow): Promise<SourceListing> {
    const awsLogs = await this.#awsLogsRoot();
    if (GLOB_CHARACTERS.test(awsLogs)) {
      throw new SourceError(
        `the log folder ${awsLogs} has one of * ? [ ] { } in its path: DuckDB would read every file path under it as a glob pattern and could read other files in their place; move or link the logs to a path without these characters`,
      );
    }
    const days = deliveryDaysFor(window);
    const files: LogFile[] = [];
    const skipped: SkippedFile[] = [];
    // Thousands of day folders and files over 90 days: listed and stat'ed synchronously, in turns (see takingTurns;
    // 6,643 files one promise at a time took ~0.5 s).
    const turn = takingTurns();
    for (const { dir: accountDir, account, organizationId } of await this.#accountFolders(awsLogs, skipped)) {
      const trailDir = path.join(accountDir, TRAIL_FOLDER);
      for (const region of await listDir(trailDir)) {
        if (this.#options.regions && !this.#options.regions.includes(region)) continue;
        if (!REGION.test(region)) {
          // Not read (its name could be a glob pattern), but reported when it holds files of the window.
          const dayDirs = days.map((day) => path.join(trailDir, region, ...day.split('/')));
          if ((await Promise.all(dayDirs.map(holdsEntries))).some(Boolean)) {
            skipped.push({ path: `${awsLogsPrefix({ organizationId })}${trailFolder(account)}${region}/`, reason: SKIP_REASONS.notRegionFolder });
          }
          continue;
        }
        for (const day of days) {
          const dayDir = path.join(trailDir, region, ...day.split('/'));
          await turn();
          let entries;
          try {
            entries = readdirSync(dayDir, { withFileTypes: true });
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
            throw new SourceError(`cannot list ${dayDir}`, { cause: error });
          }
          for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
            const key = logKey({ organizationId, account, region, day, name: entry.name });
            const filePath = path.join(dayDir, entry.name);
            // stat follows symbolic links; a dangling link or a special file is reported, not ignored.
            const info = statOrUndefined(filePath);
            await turn();
            if (info?.isDirectory()) {
              skipped.push({ path: `${key}/`, reason: SKIP_REASONS.folderInDayFolder });
              continue;
            }
            if (!info?.isFile()) {
              skipped.push({ path: key, reason: SKIP_REASONS.notRegularFile });
              continue;
            }
            const reason = logFileSkipReason(entry.name, Number(info.size));
            if (reason) {
              skipped.push({ path: key, reason });
              continue;
            }
            files.push({
              path: filePath,
              key,
              account,
              region,
              day,
              bytes: Number(info.size),
              version: `mtime:${info.mtimeMs}`,
              identity: localIdentity(info),
            });
          }
        }
      }
    }
    skipped.sort((a, b) => (a.path < b.path ? -1 : 1));
    return { files, skipped };
  }

  /**
   * The digest files of the day folders: `<account>/CloudTrail-Digest/<region>/<yyyy>/<mm>/<dd>/*.json.gz`. A local
   * copy (`aws s3 sync`) keeps no S3 metadata, so no signature comes with them.
   */
  async digests(days: readonly string[]): Promise<DigestObject[]> {
    const awsLogs = await this.#awsLogsRoot();
    const found: { key: string; account: string; region: string; file: string }[] = [];
    for (const { dir: accountDir, account, organizationId } of await this.#accountFolders(awsLogs, [])) {
      const digestDir = path.join(accountDir, DIGEST_FOLDER);
      for (const region of await listDir(digestDir)) {
        if (!REGION.test(region) || (this.#options.regions && !this.#options.regions.includes(region))) continue;
        for (const day of days) {
          const dayDir = path.join(digestDir, region, ...day.split('/'));
          const names = await readdir(dayDir).catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return [] as string[];
            throw new SourceError(`cannot list ${dayDir}`, { cause: error });
          });
          for (const name of names.filter((n) => n.endsWith('.json.gz')).sort()) {
            found.push({
              key: `${awsLogsPrefix({ organizationId })}${account}/${DIGEST_FOLDER}/${region}/${day}/${name}`,
              account,
              region,
              file: path.join(dayDir, name),
            });
          }
        }
      }
    }
    // Thousands of small files over 90 days (one promise read at a time took ~1 s for 4,807; see readSmallFiles).
    const bodies = await readSmallFiles(found.map((digest) => digest.file));
    return found.map((digest, i) => ({ key: digest.key, account: digest.account, region: digest.region, body: bodies[i]! }));
  }
}
