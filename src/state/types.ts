import { z } from 'zod';

const TIME_SHAPE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{3})?Z$/;

/** True when every field is in range (no month 13, no 30 February, no hour 24): `Date` would roll those over. */
function isRealInstant(text: string): boolean {
  const match = TIME_SHAPE.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
}

/**
 * An instant as the daemon writes it. The shape alone is not enough: `2026-13-45T99:99:99Z` has it, and would
 * fail much later as "Invalid time value", far from the file that holds it.
 */
const TIME = z.string().refine(isRealInstant, {
  error: (issue) => `expected a real UTC instant such as 2026-11-23T10:15:00Z (ISO-8601), found ${JSON.stringify(issue.input)}`,
});

/** One finished run of a job, as the health endpoint and the catch-up rule see it. */
export const JobRunRecord = z
  .object({
    /** The schedule slot the run was for (a catch-up run: the missed slot; `run --job`: when it was started). */
    scheduled_for: TIME,
    started_at: TIME,
    finished_at: TIME,
    result: z.enum(['success', 'failure']),
    /** One line for people: the run's summary, or the error. */
    summary: z.string(),
  })
  .strict();
export type JobRunRecord = z.infer<typeof JobRunRecord>;

/** The root-activity alert's progress: everything before the watermark has been alerted (or was not root use). */
export const AlertProgress = z
  .object({
    /** End of the last window whose every alert was accepted by the mail transport (absent before the first). */
    watermark: TIME.optional(),
    /**
     * Events already alerted, by eventID → eventTime, kept while they can still fall inside the overlap,
     * so a re-read never alerts them twice.
     */
    alerted: z.record(z.string(), z.string()).default({}),
  })
  .strict();
export type AlertProgress = z.infer<typeof AlertProgress>;

export const JobState = z
  .object({
    last_run: JobRunRecord.optional(),
    last_success: JobRunRecord.optional(),
    alert: AlertProgress.optional(),
  })
  .strict();
export type JobState = z.infer<typeof JobState>;

/** The whole state document: one per trailwarden deployment. */
export const DaemonState = z
  .object({
    schema: z.literal('trailwarden.state/v1'),
    jobs: z.record(z.string(), JobState).default({}),
  })
  .strict();
export type DaemonState = z.infer<typeof DaemonState>;

export function emptyState(): DaemonState {
  return { schema: 'trailwarden.state/v1', jobs: {} };
}

/** A state document and the version it was read at (an ETag, a content digest); `undefined` when none exists yet. */
export interface VersionedState {
  readonly state: DaemonState;
  readonly version: string | undefined;
}

/**
 * Where the daemon keeps each job's last run and the alert's watermark. Writes are compare-and-swap: a write
 * names the version it replaces and fails with StateConflictError when the stored document is another one, so
 * two processes writing by mistake can't silently overwrite each other.
 */
export interface StateStore {
  readonly kind: string;
  describe(): string;
  /** The stored document, or an empty one (version `undefined`) when nothing was written yet. */
  read(): Promise<VersionedState>;
  /**
   * Replaces the document stored at `expectedVersion` (`undefined`: only if none exists yet) and returns
   * the new version. Throws StateConflictError when the stored version is another one.
   */
  write(state: DaemonState, expectedVersion: string | undefined): Promise<string>;
}
