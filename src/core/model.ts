/** Shapes shared by the core and the backends. */

/** A value bound to a `?` placeholder. Lists are bound as SQL arrays. */
export type ParamValue = string | readonly string[];

/** A query result with every value as text (SQL NULL as `null`), as Athena returns it and CSV stores it. */
export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | null)[])[];
  /** Bytes the engine scanned for this query, where it bills by scan (Athena); absent otherwise. */
  readonly scannedBytes?: number;
  /** The engine answered with an earlier execution's result (Athena result reuse): nothing scanned, nothing billed. */
  readonly reused?: boolean;
}

/** One query of a run on an engine that bills by scan: what it scanned, and whether it is charged. */
export interface ScanCharge {
  readonly label: string;
  readonly scannedBytes: number;
  /** False for a reused result: Athena charges nothing for it, not even the per-query minimum. */
  readonly billed: boolean;
}

/** A log file that could not be used, and why. */
export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
}

/** Records of a file that was read, but that could not be used: counted per file and reason, never silently lost. */
export interface DroppedRecords {
  /** The file's key, as in `SkippedFile.path`. */
  readonly path: string;
  readonly reason: string;
  /**
   * Records dropped for the reason. 0 marks damage where no record could be counted (a file cut between two records,
   * bytes after its JSON): records after it, if there were any, are unknown.
   */
  readonly count: number;
}

/**
 * Records that share one eventID but differ in content: not a second delivery of one event (which is identical and
 * removed), so every one of them stays in the window, and the report lists the conflict.
 */
export interface EventIdConflict {
  readonly eventId: string;
  /** The keys of the files the records came from. */
  readonly paths: readonly string[];
  /** How many distinct records share the id. */
  readonly records: number;
}

/** What loading the window found: the facts the report's summary is built from. */
export interface WindowStats {
  /** Log files read successfully. */
  readonly filesRead: number;
  /** Files that could not be read (corrupt, not JSON, no Records array…): skipped, never silently. */
  readonly filesSkipped: readonly SkippedFile[];
  /** Distinct events (by eventID) inside the window. */
  readonly events: number;
  /** Records dropped as second deliveries of an eventID already loaded. */
  readonly duplicates: number;
  /** Records without an eventTime, which no window can place. */
  readonly recordsWithoutTime: number;
  /** Records of readable files that could not be used (malformed, unparseable time…), per file and reason. */
  readonly recordsDropped: readonly DroppedRecords[];
  /** eventIDs shared by records of different content; all of them are kept. */
  readonly conflicts: readonly EventIdConflict[];
  /** Data events (S3 object-level, Lambda invoke…) in the window; 0 means data-plane use is unknown. */
  readonly dataEvents: number;
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  /** Bytes scanned to load the window, where the engine bills by scan (Athena); absent otherwise. */
  readonly scannedBytes?: number;
  /** The load's queries one by one (each billed on its own, so each with its own minimum); absent: one query of `scannedBytes`. */
  readonly scanCharges?: readonly ScanCharge[];
}
