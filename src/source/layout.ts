/**
 * The CloudTrail bucket layout and file-name rules, shared by every source (a local tree and the bucket
 * itself), so both read, and skip, exactly the same files for the same reasons:
 * `AWSLogs/[<o-id>/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<time>_<random>.json.gz`.
 */

/** An account folder under `AWSLogs/` (or under an organization folder). */
export const ACCOUNT_FOLDER = /^\d{12}$/;
/** An organization trail's folder, `AWSLogs/<o-id>/`. */
export const ORGANIZATION_FOLDER = /^o-[a-z0-9]{10,32}$/;
/**
 * The only trail folder read: `CloudTrail-Digest` (integrity digests) and `CloudTrail-Insight` sit beside it
 * and hold no API events.
 */
export const TRAIL_FOLDER = 'CloudTrail';
/** A region folder as CloudTrail names them. */
export const REGION_FOLDER = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * CloudTrail's own file names use only these characters. Anything else is reported, not read: DuckDB would
 * expand `*`, `?` or `[` in a name as a glob.
 */
const LOG_FILE_NAME = /^[A-Za-z0-9_.-]+\.json(\.gz)?$/;

/** Why a file found in a day folder is reported as skipped rather than read (stable texts: reports show them). */
export const SKIP_REASONS = {
  notRegularFile: 'not a regular file (a dangling link, a socket…)',
  notLogFileName: 'not a CloudTrail log file name (expected letters, digits, _ . - and *.json.gz or *.json)',
  empty: 'empty file (0 bytes)',
} as const;

/** Why the file `name` (`bytes` long) in a day folder can't be a delivery file, or undefined when it can. */
export function logFileSkipReason(name: string, bytes: number): string | undefined {
  if (!LOG_FILE_NAME.test(name)) return SKIP_REASONS.notLogFileName;
  if (bytes === 0) return SKIP_REASONS.empty;
  return undefined;
}
