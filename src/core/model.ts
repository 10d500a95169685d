/** Shapes shared by the core and the backends. */

/** A value bound to a `?` placeholder. Lists are bound as SQL arrays. */
export type ParamValue = string | readonly string[];

/** A query result with every value as text (SQL NULL as `null`), as Athena returns it and CSV stores it. */
export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | null)[])[];
  /** Bytes the engine scanned for this query, where it bills by scan (Athena); absent otherwise. */
  readonly scannedBytes?: number;
}

/** A log file that could not be used, and why. */
export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
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
  /** Data events (S3 object-level, Lambda invoke…) in the window; 0 means data-plane use is unknown. */
  readonly dataEvents: number;
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  /** Bytes scanned to load the window, where the engine bills by scan (Athena); absent otherwise. */
  readonly scannedBytes?: number;
}
