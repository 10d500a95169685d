import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SourceError } from '../core/errors.js';
import type { SkippedFile } from '../core/model.js';
import { deliveryDaysFor, type TimeWindow } from '../core/time.js';
import { ACCOUNT_ID, logFileSkipReason, logKey, ORGANIZATION_ID, SKIP_REASONS, TRAIL_FOLDER } from '../core/cloudtrail-layout.js';
import type { LogFile, LogSource, SourceListing } from './types.js';

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
  return folders;
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

  /** `[accountFolder, account, organizationId]` for both the plain and the organization-trail layouts. */
  async #accountFolders(awsLogs: string): Promise<[string, string, string | undefined][]> {
    const found: [string, string, string | undefined][] = [];
    for (const name of await listDir(awsLogs)) {
      if (ACCOUNT_ID.test(name)) found.push([path.join(awsLogs, name), name, undefined]);
      else if (ORGANIZATION_ID.test(name)) {
        for (const account of await listDir(path.join(awsLogs, name))) {
          if (ACCOUNT_ID.test(account)) found.push([path.join(awsLogs, name, account), account, name]);
        }
      }
    }
    return found.filter(([, account]) => !this.#options.accounts || this.#options.accounts.includes(account));
  }

  async list(window: TimeWindow): Promise<SourceListing> {
    const awsLogs = await this.#awsLogsRoot();
    const days = deliveryDaysFor(window);
    const files: LogFile[] = [];
    const skipped: SkippedFile[] = [];
    for (const [accountDir, account, organizationId] of await this.#accountFolders(awsLogs)) {
      const trailDir = path.join(accountDir, TRAIL_FOLDER);
      for (const region of await listDir(trailDir)) {
        if (this.#options.regions && !this.#options.regions.includes(region)) continue;
        for (const day of days) {
          const dayDir = path.join(trailDir, region, ...day.split('/'));
          let entries;
          try {
            entries = await readdir(dayDir, { withFileTypes: true });
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
            throw new SourceError(`cannot list ${dayDir}`, { cause: error });
          }
          for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
            const key = logKey({ organizationId, account, region, day, name: entry.name });
            const filePath = path.join(dayDir, entry.name);
            // stat follows symbolic links; a dangling link or a special file is reported, not ignored.
            const info = await stat(filePath).catch(() => undefined);
            if (info?.isDirectory()) continue;
            if (!info?.isFile()) {
              skipped.push({ path: key, reason: SKIP_REASONS.notRegularFile });
              continue;
            }
            const reason = logFileSkipReason(entry.name, info.size);
            if (reason) {
              skipped.push({ path: key, reason });
              continue;
            }
            files.push({ path: filePath, key, account, region, day, bytes: info.size });
          }
        }
      }
    }
    return { files, skipped };
  }
}
