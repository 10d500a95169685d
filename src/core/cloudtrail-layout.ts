/**
 * The CloudTrail bucket layout, in one place: the folder and file-name rules every source reads by (a local
 * tree and the bucket itself read, and skip, exactly the same files for the same reasons), the keys the Athena
 * setup points its table at, and the keys the demo generator writes.
 *
 * `[<prefix>]AWSLogs/[<o-id>/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<random>.json.gz`
 */

/** A 12-digit account id: an account folder under `AWSLogs/` (or under an organization folder). */
export const ACCOUNT_ID = /^\d{12}$/;
/** An organization id: an organization trail's folder, `AWSLogs/<o-id>/`. */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
/** A region as CloudTrail names its folders. */
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
/**
 * The only trail folder read: `CloudTrail-Digest` (integrity digests) and `CloudTrail-Insight` sit beside it
 * and hold no API events.
 */
export const TRAIL_FOLDER = 'CloudTrail';
/** Where CloudTrail delivers a trail's hourly integrity digests, beside `CloudTrail/`. */
export const DIGEST_FOLDER = 'CloudTrail-Digest';

/** Where a trail's account folders are: `<prefix>AWSLogs/` or, for an organization trail, `<prefix>AWSLogs/<o-id>/`. */
export function awsLogsPrefix(options: { readonly prefix?: string; readonly organizationId?: string } = {}): string {
  return `${options.prefix ?? ''}AWSLogs/${options.organizationId ? `${options.organizationId}/` : ''}`;
}

/** The part of a key below the account folders: `<account>/CloudTrail/[<region>/[<yyyy>/<mm>/<dd>/]]`. */
export function trailFolder(account: string, region?: string, day?: string): string {
  return `${account}/${TRAIL_FOLDER}/${region ? `${region}/${day ? `${day}/` : ''}` : ''}`;
}

/** One delivery file's place in the bucket. */
export interface LogKeyParts {
  readonly organizationId?: string;
  readonly account: string;
  readonly region: string;
  /** The delivery day folder, `yyyy/mm/dd`. */
  readonly day: string;
  /** The file name. */
  readonly name: string;
}

/** The file name CloudTrail gives a delivery: `<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<random>.json.gz`. */
export function logFileName(account: string, region: string, deliveredAt: Date, random: string, extension = '.json.gz'): string {
  const stamp = `${deliveredAt.toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`;
  return `${account}_${TRAIL_FOLDER}_${region}_${stamp}_${random}${extension}`;
}

/** The key of a delivery file, from `AWSLogs/` on (no bucket prefix). */
export function logKey(parts: LogKeyParts): string {
  return `${awsLogsPrefix({ organizationId: parts.organizationId })}${trailFolder(parts.account, parts.region, parts.day)}${parts.name}`;
}

/**
 * The key of a digest file, from `AWSLogs/` on:
 * `…/<account>/CloudTrail-Digest/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail-Digest_<region>_<trail>_<region>_<yyyymmddThhmmssZ>.json.gz`.
 */
export function digestKey(parts: Omit<LogKeyParts, 'day' | 'name'>, trailName: string, deliveredAt: Date): string {
  const iso = deliveredAt.toISOString();
  const stamp = `${iso.slice(0, 19).replace(/[-:]/g, '')}Z`;
  const day = iso.slice(0, 10).replaceAll('-', '/');
  return `${awsLogsPrefix(parts)}${parts.account}/${DIGEST_FOLDER}/${parts.region}/${day}/${parts.account}_${DIGEST_FOLDER}_${parts.region}_${trailName}_${parts.region}_${stamp}.json.gz`;
}

const LOG_KEY = /^AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/CloudTrail\/([a-z]{2}(?:-[a-z]+)+-\d)\/(\d{4}\/\d{2}\/\d{2})\/([^/]+)$/;

/** The parts of a key from `AWSLogs/` on; undefined for anything that is not a file in a trail's day folder. */
export function parseLogKey(key: string): LogKeyParts | undefined {
  const match = LOG_KEY.exec(key);
  if (!match) return undefined;
  const [, organizationId, account, region, day, name] = match;
  return { ...(organizationId ? { organizationId } : {}), account: account!, region: region!, day: day!, name: name! };
}

/**
 * CloudTrail's own file names use only these characters. Anything else is reported, not read: DuckDB would
 * expand `*`, `?` or `[` in a name as a glob.
 */
const LOG_FILE_NAME = /^[A-Za-z0-9_.-]+\.json(\.gz)?$/;

/**
 * Characters DuckDB (and most readers of file lists) expand as a glob pattern. No path handed to the engine may
 * contain one: `eu-[ab]-1/…` would read `eu-a-1/…` in its place. The layout patterns above admit none of them.
 */
export const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * Why something found in the window's folders is reported as skipped rather than read (stable texts: reports
 * show them). A folder is reported by its key with a trailing `/`.
 */
export const SKIP_REASONS = {
  notRegularFile: 'not a regular file (a dangling link, a socket…)',
  notLogFileName: 'not a CloudTrail log file name (expected letters, digits, _ . - and *.json.gz or *.json)',
  empty: 'empty file (0 bytes)',
  folderInDayFolder: 'a folder, not a log file (CloudTrail puts no folders in a day folder): its contents are not read',
  notRegionFolder: 'not a region folder name (such as eu-west-1), yet it holds files in day folders of the window: they are not read',
  notAccountFolder: 'not an account (12 digits) or organization (o-…) folder name, yet it holds CloudTrail folders: their logs are not read',
} as const;

/** Why the file `name` (`bytes` long) in a day folder can't be a delivery file, or undefined when it can. */
export function logFileSkipReason(name: string, bytes: number): string | undefined {
  if (!LOG_FILE_NAME.test(name)) return SKIP_REASONS.notLogFileName;
  if (bytes === 0) return SKIP_REASONS.empty;
  return undefined;
}
