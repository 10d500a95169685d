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

/** A finished run folder, read back (e.g. to re-send its e-mail). */
export interface ArchivedRun {
  readonly location: string;
  read(name: string): Promise<Buffer>;
  link(name: string): Promise<string | undefined>;
}

/** Where each run's evidence (CSV per check, report, manifest) is kept for auditors. */
export interface EvidenceArchive {
  readonly kind: string;
  describe(): string;
  /** Creates `<yyyy>/<mm>/<dd>/<runId>/` for the report date; fails if that folder already exists. */
  openRun(runId: string, reportDate: Date): Promise<RunFolder>;
  /** The run folder of `runId`, wherever its date puts it; undefined when there is none. */
  findRun(runId: string): Promise<ArchivedRun | undefined>;
  /** Releases what the backend holds (an SDK client it built itself, a connection); optional. */
  close?(): Promise<void>;
}
