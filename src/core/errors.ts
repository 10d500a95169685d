/**
 * Errors a caller can catch broadly (`TrailwardenError`) or narrowly (by subclass or `code`).
 * Each keeps the underlying error as `cause`.
 */
export class TrailwardenError extends Error {
  /** A stable, machine-readable code; messages may change, codes do not. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The configuration file (or a CLI flag) is wrong. Carries every problem found, not just the first. */
export class ConfigError extends TrailwardenError {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super('CONFIG_INVALID', `${source}: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`, options);
    this.problems = problems;
  }
}

/** A check folder (check.yaml / query.sql) is wrong. */
export class CheckDefinitionError extends TrailwardenError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('CHECK_INVALID', `${problems.length} problem(s) in the check files:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** The CloudTrail logs could not be listed at all (a single unreadable file is not an error: it is skipped and counted). */
export class SourceError extends TrailwardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SOURCE_FAILED', message, options);
  }
}

/** The query engine failed outside a single check (start-up, loading the window). */
export class EngineError extends TrailwardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENGINE_FAILED', message, options);
  }
}

/** The window's log objects alone would scan more than the configured budget: the run stops before any query. */
export class ScanBudgetError extends EngineError {
  override readonly code = 'SCAN_BUDGET_EXCEEDED';
  readonly windowBytes: number;
  readonly budgetBytes: number;

  constructor(message: string, windowBytes: number, budgetBytes: number) {
    super(message);
    this.windowBytes = windowBytes;
    this.budgetBytes = budgetBytes;
  }
}

/** A query ended FAILED or CANCELLED (Athena's `StateChangeReason` is the message). Fails one check, not the run. */
export class QueryFailedError extends TrailwardenError {
  readonly queryExecutionId: string;
  readonly state: string;
  /** Athena's `AthenaError.ErrorType`, when given. */
  readonly errorType?: number;

  /** What Athena scanned before the query ended: billed when it was CANCELLED (a stopped query is still charged), not when it FAILED. */
  readonly scannedBytes?: number;

  constructor(message: string, details: { queryExecutionId: string; state: string; errorType?: number; scannedBytes?: number }, options?: { cause?: unknown }) {
    super('QUERY_FAILED', message, options);
    this.queryExecutionId = details.queryExecutionId;
    this.state = details.state;
    this.errorType = details.errorType;
    this.scannedBytes = details.scannedBytes;
  }
}

/** A query ran longer than the configured timeout and was stopped. */
export class QueryTimeoutError extends TrailwardenError {
  readonly queryExecutionId: string;

  /** What the query had scanned when it was stopped: Athena bills a cancelled query for it. */
  readonly scannedBytes?: number;

  constructor(message: string, queryExecutionId: string, scannedBytes?: number) {
    super('QUERY_TIMEOUT', message);
    this.queryExecutionId = queryExecutionId;
    this.scannedBytes = scannedBytes;
  }
}

/**
 * A value that Athena cannot take as an execution parameter (each is at most 1,024 characters; a list is split to fit,
 * a single string cannot be). Fails the check that binds it, naming the parameter.
 */
export class QueryParameterError extends TrailwardenError {
  constructor(message: string) {
    super('QUERY_PARAMETER_TOO_LONG', message);
  }
}

/** Evidence could not be written, or would have overwritten earlier evidence. */
export class ArchiveError extends TrailwardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARCHIVE_FAILED', message, options);
  }
}

/** A run's manifest.json is not a valid trailwarden manifest: every problem, each with its key. */
export class ManifestError extends ArchiveError {
  override readonly code = 'MANIFEST_INVALID';
  readonly problems: readonly string[];

  constructor(where: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`${where}: not a valid trailwarden manifest: ${problems.join('; ')}`, options);
    this.problems = problems;
  }
}

/** The report could not be handed to the mail transport. */
export class MailError extends TrailwardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MAIL_FAILED', message, options);
  }
}

/** One line for a human: the message, and the cause's message when it adds something. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message;
}

/** The daemon's state store could not be read or written (I/O, permissions, network). */
export class StateError extends TrailwardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STATE_FAILED', message, options);
  }
}

/** The state file exists but is not what trailwarden wrote (not JSON, or not the expected shape). */
export class StateCorruptError extends StateError {
  override readonly code = 'STATE_CORRUPT';
}

/**
 * The state changed since this process read it: another trailwarden (a second daemon, a `run --job`) wrote
 * it. The write was refused, so neither writer's state is corrupted; the loser reports this error.
 */
export class StateConflictError extends StateError {
  override readonly code = 'STATE_CONFLICT';
}

/** A `run --job` run failed (the failure is also recorded in the state, where the health endpoint reports it). */
export class JobFailedError extends TrailwardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOB_FAILED', message, options);
  }
}

/** The IAM inventory could not be read or is malformed: the run stops rather than judge roles on part of it. */
export class InventoryError extends TrailwardenError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super('INVENTORY_INVALID', `the IAM inventory: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`, options);
    this.problems = problems;
  }
}

/** A manifest could not be signed, or the signing key is unusable. */
export class SigningError extends TrailwardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SIGNING_FAILED', message, options);
  }
}
