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

/** Evidence could not be written, or would have overwritten earlier evidence. */
export class ArchiveError extends TrailwardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARCHIVE_FAILED', message, options);
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
