/**
 * The daemon's decisions, as pure functions of the schedule, the recorded runs and `now`: whether a job must
 * catch up on start, and whether each job is healthy.
 */
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
}

export type JobHealthStatus = 'ok' | 'failed' | 'overdue' | 'waiting';

/** One job in the health endpoint's answer. */
export interface JobHealth {
  readonly name: string;
  readonly type: string;
  readonly schedule: string;
  readonly timezone: string;
  /** `failed`: its last run failed; `overdue`: a slot passed without a run starting; `waiting`: no run yet. */
  readonly status: JobHealthStatus;
  readonly running: { readonly scheduled_for: string; readonly started_at: string } | null;
  readonly last_run: JobRunRecord | null;
  readonly last_success_at: string | null;
  readonly next_run: string | null;
}

export interface HealthReport {
  /** False when any job failed its last run or is overdue: the endpoint answers 503. */
  readonly healthy: boolean;
  readonly now: string;
  readonly jobs: readonly JobHealth[];
}

/** How the state and the health endpoint write instants: ISO-8601 with milliseconds, UTC. */
export function iso(date: Date): string {
  return date.toISOString();
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
  let status: JobHealthStatus;
  if (job.lastRun?.result === 'failure') status = 'failed';
  else if (overdue) status = 'overdue';
  else status = job.lastRun ? 'ok' : 'waiting';
  const next = job.schedule.next(now);
  return {
    name: job.name,
    type: job.type,
    schedule: job.schedule.expression,
    timezone: job.schedule.timeZone,
    status,
    running: job.running ? { scheduled_for: iso(job.running.scheduledFor), started_at: iso(job.running.startedAt) } : null,
    last_run: job.lastRun ?? null,
    last_success_at: job.lastSuccess?.finished_at ?? null,
    next_run: next ? iso(next) : null,
  };
}

export function healthReport(jobs: readonly JobStatusInput[], now: Date, toleranceMs = OVERDUE_TOLERANCE_MS): HealthReport {
  const health = jobs.map((job) => jobHealth(job, now, toleranceMs));
  return { healthy: health.every((j) => j.status === 'ok' || j.status === 'waiting'), now: iso(now), jobs: health };
}
