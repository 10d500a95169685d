/**
 * The columnar store's record of log file hashes, pure: what `hashes.json` (beside a partition's `partition.json`)
 * holds, and when a recorded hash may stand for a log file listed now. Log file validation hashes each file of its
 * 30-day window; with this record a run hashes (and on S3 downloads) only the files it has not seen in this exact
 * state, so its cost grows with the new files, not with the window.
 *
 * A hash is reused only for the same key, size and identity: on S3 the ETag (computed by S3 from what was uploaded;
 * no writer can choose it), for a local file its modification time, change time and inode (`LogFile.identity`):
 * `touch -r` can set a rewritten file's mtime back, but not its change time, which the kernel sets on every write.
 */
import { z } from 'zod';

/** The format of `hashes.json`; a record of another format is not read (its files are hashed again). */
export const HASH_RECORD_FORMAT = 1;

export const RecordedHash = z
  .object({
    key: z.string().min(1),
    bytes: z.number().int().min(0),
    /** `hashIdentity` of the file when it was hashed. */
    identity: z.string().min(1),
    /** SHA-256 (hex) of its uncompressed content. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type RecordedHash = z.infer<typeof RecordedHash>;

/** `hashes.json`: the hashes of one partition's (account, region, delivery day) log files. */
export const HashRecordFile = z
  .object({
    format: z.literal(HASH_RECORD_FORMAT),
    account: z.string(),
    region: z.string(),
    day: z.string().regex(/^\d{4}\/\d\d\/\d\d$/),
    files: z.array(RecordedHash),
  })
  .strict();
export type HashRecordFile = z.infer<typeof HashRecordFile>;

/**
 * The identities a recorded hash may be reused on: an S3 ETag (`etag:`), a local file's mtime, ctime and inode
 * (`local:`). Anything else — a bare mtime, which `touch -r` sets — is never trusted: the file is hashed every run.
 */
const TRUSTED_IDENTITY = /^(?:etag|local):./;

/** What a log file's content is recognised by (its identity where the source gives one, else its version), if trusted. */
export function hashIdentity(file: { readonly version?: string; readonly identity?: string }): string | undefined {
  const identity = file.identity ?? file.version;
  return identity !== undefined && TRUSTED_IDENTITY.test(identity) ? identity : undefined;
}

/**
 * The recorded hash of `file`, when it was recorded for the same key, size and identity; undefined otherwise (and
 * always for a file without a trusted identity: size alone does not tell two contents apart).
 */
export function recordedHashOf(
  recorded: ReadonlyMap<string, RecordedHash>,
  file: { readonly key: string; readonly bytes: number; readonly version?: string; readonly identity?: string },
): string | undefined {
  const identity = hashIdentity(file);
  const entry = recorded.get(file.key);
  if (identity === undefined || entry === undefined) return undefined;
  return entry.bytes === file.bytes && entry.identity === identity ? entry.sha256 : undefined;
}

/** `current` with `added` merged in (an added entry replaces the one of its key), sorted by key. */
export function mergeRecorded(current: readonly RecordedHash[], added: readonly RecordedHash[]): RecordedHash[] {
  const byKey = new Map(current.map((entry) => [entry.key, entry]));
  for (const entry of added) byKey.set(entry.key, entry);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** In words, what a reused hash was matched on, from the identities of the files it was reused for. */
export function identityBasis(identities: readonly string[]): string {
  const kinds = new Set(identities.map((identity) => identity.slice(0, identity.indexOf(':'))));
  const words: string[] = [];
  if (kinds.has('etag')) words.push('same size and ETag');
  if (kinds.has('local')) words.push('same size, modification and change time, and inode');
  return words.length > 0 ? words.join('; ') : 'same size and version';
}
