import type { SkippedFile } from '../core/model.js';
import type { TimeWindow } from '../core/time.js';

/** One CloudTrail delivery file, as the engine needs it. */
export interface LogFile {
  /** Where the engine reads it: a local path, or `s3://bucket/key` when the source was listed without fetching. */
  readonly path: string;
  /** Its key as in the bucket, `AWSLogs/...`: how reports and logs name it. */
  readonly key: string;
  /** From the path, like Athena's partition columns. */
  readonly account: string;
  readonly region: string;
  /** The delivery day folder, `YYYY/MM/DD`. */
  readonly day: string;
  readonly bytes: number;
  /** What tells this content from an earlier one under the same key: the S3 ETag, or a local file's mtime. */
  readonly version?: string;
  /**
   * A stronger identity where `version` can be forged, for the store's record of verified hashes: a local file's
   * mtime can be set back after a rewrite (`touch -r`), its change time and inode cannot. Absent: `version` is it.
   */
  readonly identity?: string;
}

export interface SourceListing {
  readonly files: readonly LogFile[];
  /** Files found in the window's folders that can't be log files (empty, wrong name): skipped and reported. */
  readonly skipped: readonly SkippedFile[];
}

/** A CloudTrail digest file (`CloudTrail-Digest/`), read whole, with the signature its S3 object carries. */
export interface DigestObject {
  /** Its key where it was found: in the bucket (with the trail's prefix), or from `AWSLogs/` on in a local tree. */
  readonly key: string;
  /** The bucket it was read from; absent for a local tree. */
  readonly bucket?: string;
  readonly account: string;
  readonly region: string;
  /** The gzip bytes as stored. */
  readonly body: Buffer;
  /** The object's `signature` and `signature-algorithm` metadata; absent where there is none (a local copy). */
  readonly signature?: { readonly value?: string; readonly algorithm?: string };
}

export interface ListOptions {
  readonly fetch?: boolean;
}

/** Where CloudTrail delivery files come from. */
export interface LogSource {
  readonly kind: string;
  /** A short human description, for the report ("local folder /x/y"). */
  describe(): string;
  /**
   * The delivery files that may hold events of the window (day folders from a day before its start).
   * `fetch: false` only lists them (Athena reads the bucket itself); by default a remote source makes
   * each file available locally first (the DuckDB engine reads local paths).
   */
  list(window: TimeWindow, options?: ListOptions): Promise<SourceListing>;
  /**
   * Makes files listed with `fetch: false` readable on local disk; returns them in the same order, with local paths.
   * Absent: they already are (a local folder).
   */
  fetch?(files: readonly LogFile[]): Promise<LogFile[]>;
  /**
   * The digest files of the given delivery day folders (`YYYY/MM/DD`), for log file validation. Absent: the source
   * cannot tell, and the integrity check is not run.
   */
  digests?(days: readonly string[]): Promise<DigestObject[]>;
  /** Says that the local copies of `files` are no longer needed (the columnar store holds them now). */
  release?(files: readonly LogFile[]): Promise<void>;
  /** Releases what the backend holds (an SDK client it built itself, a connection); optional. */
  close?(): Promise<void>;
}
