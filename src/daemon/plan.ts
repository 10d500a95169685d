/**
 * The daemon's decisions, as pure functions of the schedule, the recorded runs and `now`: whether a job must
 * catch up on start, and whether each job is healthy.
 */
import { WATERMARK_CLOCK_TOLERANCE_MS } from '../alert/model.js';
import type { JobRunRecord } from '../state/types.js';
import type { CronSchedule } from '../core/cron.js';

/**
 * The slot a report job must catch up on when the daemon starts: its last slot at or before `now`, when the
 * job's last successful run was for an earlier slot — i.e. that slot passed while the daemon was down (or its
 * run failed). One run for the latest slot, however many were missed. A job that never ran successfully has
 * nothing to catch up on: it first runs at its next slot.
 */
export function catchUpSlot(schedule: CronSchedule, lastSuccessSlot: Date | undefined, now: Date): Date | undefined {
  if (!lastSuccessSlot) return undefined;
  const due = schedule.previous(now);
  if (!due || due.getTime() <= lastSuccessSlot.getTime()) return undefined;
  return due;
}

/** A job that should have started longer ago than this and hasn't is overdue (the clock and timers may lag a bit). */
export const OVERDUE_TOLERANCE_MS = 60_000;

/**
 * A root alert's watermark older than the slot this many slots before the latest one is behind. In step, the
 * watermark is the previous slot while the latest one runs; one more slot may pass while a run takes longer than
 * an interval (that slot is skipped and the job shows as overdue meanwhile). Three slots behind, the alert has
 * been blind for three whole intervals (45 minutes at every 15) although runs were recorded: that is a failure,
 * however green each run looked. Counted in slots, not minutes, so a schedule with gaps (weekdays only) is
 * judged on its own rhythm.
 */
export const ALERT_LAG_SLOTS = 3;

export interface JobStatusInput {
  readonly name: string;
  readonly type: string;
  readonly schedule: CronSchedule;
  readonly lastRun?: JobRunRecord;
  readonly lastSuccess?: JobRunRecord;
  /** The run in progress, if any. */
  readonly running?: { readonly scheduledFor: Date; readonly startedAt: Date };
  /** Since when this daemon has been responsible for the job (its start): slots before it are not "overdue". */
  readonly trackedSince: Date;
  /** A root alert's stored watermark. */
  readonly watermark?: string;
}

export type JobHealthStatus = 'ok' | 'failed' | 'overdue' | 'watermark_ahead' | 'watermark_behind' | 'waiting';

/** One job in the health endpoint's answer. */
export interface JobHealth {
  readonly name: string;
  readonly type: string;
  readonly schedule: string;
  readonly timezone: string;
  /**
   * `failed`: its last run failed; `overdue`: a slot passed without a run starting; `watermark_ahead` /
   * `watermark_behind`: a root alert whose watermark is ahead of the clock, or more than ALERT_LAG_SLOTS slots
   * behind it; `waiting`: no run yet.
   */
  readonly status: JobHealthStatus;
  /** Why the status is not `ok` or `waiting`, for people; null when it is. */
  readonly reason: string | null;
  readonly running: { readonly scheduled_for: string; readonly started_at: string } | null;
  readonly last_run: JobRunRecord | null;
  readonly last_success_at: string | null;
  readonly next_run: string | null;
  /** A root alert's watermark: every root event before it has been alerted. Null for other jobs, or before a first run. */
  readonly watermark: string | null;
}

export interface HealthReport {
  /** False when any job failed its last run, is overdue or has a watermark out of step: the endpoint answers 503. */
  readonly healthy: boolean;
  /** Every job's `reason`, prefixed with its name: what is wrong, in one place. */
  readonly problems: readonly string[];
  readonly now: string;
  readonly jobs: readonly JobHealth[];
}

/** How the state and the health endpoint write instants: ISO-8601 with milliseconds, UTC. */
export function iso(date: Date): string {
  return date.toISOString();
}

/** The slot `count` slots before `slot` (undefined when the schedule has none that early). */
function slotsBefore(schedule: CronSchedule, slot: Date, count: number): Date | undefined {
  let current: Date | undefined = slot;
  for (let i = 0; i < count && current; i += 1) current = schedule.previous(new Date(current.getTime() - 1));
  return current;
}

/** Why a root alert's watermark is out of step with the clock, if it is. */
function watermarkProblem(job: JobStatusInput, now: Date, due: Date | undefined): { status: JobHealthStatus; reason: string } | undefined {
  if (!job.watermark) return undefined;
  const watermark = Date.parse(job.watermark);
  if (watermark > now.getTime() + WATERMARK_CLOCK_TOLERANCE_MS) {
    return {
      status: 'watermark_ahead',
      reason: `the watermark ${job.watermark} is ahead of the clock (${iso(now)}): a run read into the future, or the clock went back; until the next run (which then looks back initial_lookback_hours) root events are not alerted`,
    };
  }
  const expected = due ? slotsBefore(job.schedule, due, ALERT_LAG_SLOTS) : undefined;
  // Slots from before this daemon started are not held against it (it catches up on its first run).
  if (expected && expected.getTime() >= job.trackedSince.getTime() && watermark < expected.getTime()) {
    return {
      status: 'watermark_behind',
      reason: `the watermark ${job.watermark} is more than ${ALERT_LAG_SLOTS} slots behind the clock (expected ${iso(expected)} or later): root events after it have not been alerted`,
    };
  }
  return undefined;
}

export function jobHealth(job: JobStatusInput, now: Date, toleranceMs = OVERDUE_TOLERANCE_MS): JobHealth {
  const due = job.schedule.previous(new Date(now.getTime() - toleranceMs));
  // The latest slot accounted for: the one running, else the last one run, and never before this daemon started.
  const accounted = Math.max(
    job.trackedSince.getTime(),
    job.running?.scheduledFor.getTime() ?? Number.NEGATIVE_INFINITY,
    job.lastRun ? Date.parse(job.lastRun.scheduled_for) : Number.NEGATIVE_INFINITY,
  );
  const overdue = due !== undefined && due.getTime() > accounted;
  const watermark = watermarkProblem(job, now, due);
  let status: JobHealthStatus;
  let reason: string | null = null;
  if (job.lastRun?.result === 'failure') {
    status = 'failed';
    reason = `the last run (for ${job.lastRun.scheduled_for}) failed: ${job.lastRun.summary}`;
  } else if (overdue) {
    status = 'overdue';
    reason = `the slot ${iso(due)} passed without a run starting${job.running ? ` (the run for ${iso(job.running.scheduledFor)} is still going)` : ''}`;
  } else if (watermark) {
    ({ status, reason } = watermark);
  } else {
    status = job.lastRun ? 'ok' : 'waiting';
  }
  const next = job.schedule.next(now);
  return {
    name: job.name,
    type: job.type,
    schedule: job.schedule.expression,
    timezone: job.schedule.timeZone,
    status,
    reason,
    running: job.running ? { scheduled_for: iso(job.running.scheduledFor), started_at: iso(job.running.startedAt) } : null,
    last_run: job.lastRun ?? null,
    last_success_at: job.lastSuccess?.finished_at ?? null,
    next_run: next ? iso(next) : null,
    watermark: job.watermark ?? null,
  };
}

export function healthReport(jobs: readonly JobStatusInput[], now: Date, toleranceMs = OVERDUE_TOLERANCE_MS): HealthReport {
  const health = jobs.map((job) => jobHealth(job, now, toleranceMs));
  return {
    healthy: health.every((j) => j.status === 'ok' || j.status === 'waiting'),
    problems: health.flatMap((j) => (j.reason ? [`${j.name}: ${j.reason}`] : [])),
    now: iso(now),
    jobs: health,
  };
}
