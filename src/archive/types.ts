/** A file written into a run's evidence folder, with its digest for the manifest. */
export interface StoredFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** One run's evidence folder. Files are written once; nothing is ever overwritten. */
export interface RunFolder {
  /** Where the folder is, for people (a path or an s3:// URL). */
  readonly location: string;
  /** Where a file of this folder is, for people. */
  locationOf(name: string): string;
  write(name: string, content: string | Uint8Array): Promise<StoredFile>;
  /** A link a mail reader can open (a presigned GET URL for S3); undefined where the archive has none (local). */
  link(name: string): Promise<string | undefined>;
}

/** A file read back from a run folder. */
export interface StoredBytes {
  readonly bytes: Buffer;
  /** The SHA-256 (hex) the store itself keeps for the object, where it keeps one (S3 with checksums). */
  readonly storedSha256?: string;
}

/**
 * A run folder, read back: the one interface `resend`, `verify` and any later reader use, whatever archive
 * holds it. What its files mean is the manifest's business (`core/manifest.ts`), not the store's.
 */
export interface ArchivedRun {
  /** Where the folder is, for people (a path or an s3:// URL). */
  readonly location: string;
  locationOf(name: string): string;
  /** The file's bytes; undefined when it is missing. */
  read(name: string): Promise<StoredBytes | undefined>;
  /** Every file name in the folder, sorted. */
  names(): Promise<string[]>;
  /** A link a mail reader can open (a presigned GET URL for S3); undefined where the archive has none (local). */
  link(name: string): Promise<string | undefined>;
}

/** Where each run's evidence (CSV per check, report, manifest) is kept for auditors. */
export interface EvidenceArchive {
  readonly kind: string;
  describe(): string;
  /** Creates `<yyyy>/<mm>/<dd>/<runId>/` for the report date; fails if that folder already exists. */
  openRun(runId: string, reportDate: Date): Promise<RunFolder>;
  /**
   * The finished run folder of `runId`, wherever its date puts it; undefined when there is none. A folder
   * without a manifest is an unfinished run: an error, never returned as a finished one.
   */
  findRun(runId: string): Promise<ArchivedRun | undefined>;
  /**
   * The finished runs whose folder date (their as-of date) is on or before `until`'s UTC date, one day folder at a
   * time, newest day first; the order within a day is the store's. Folders without a manifest (unfinished runs) are
   * left out. A reader that has what it needs stops iterating, and nothing further is listed.
   */
  runsByDay(until: Date): AsyncIterable<readonly ArchivedRun[]>;
  /** Releases what the backend holds (an SDK client it built itself, a connection); optional. */
  close?(): Promise<void>;
}
