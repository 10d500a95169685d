import type { Logger } from 'pino';
import { describeError, StateError } from '../core/errors.js';
import type { StateHandle } from '../state/handle.js';
import type { JobRunRecord } from '../state/types.js';
import type { Clock } from './clock.js';
import type { CronSchedule } from '../core/cron.js';
import { catchUpSlot, healthReport, iso, type HealthReport } from './plan.js';

/** Why a job runs. */
export type RunReason = 'schedule' | 'catch-up' | 'manual';

/** What a job is told about its run. */
export interface JobContext {
  /** The slot this run is for: the report's as-of. */
  readonly scheduledFor: Date;
  /** When the run starts. */
  readonly now: Date;
  readonly reason: RunReason;
}

export interface JobOutcome {
  /** One line for the log and the health endpoint. */
  readonly summary: string;
}

/** A configured job, ready to run: its schedule and what it does. */
export interface DaemonJob {
  readonly name: string;
  readonly type: string;
  readonly schedule: CronSchedule;
  /** Report jobs catch up on a slot missed while the daemon was down; the root alert's watermark covers gaps itself. */
  readonly catchUp: boolean;
  run(context: JobContext): Promise<JobOutcome>;
}

/**
 * Runs one job once and records the run (last run; last success) in the state. Never throws for a failing
 * job: the failure is recorded and returned. The daemon and `run --job` both go through here.
 */
export async function runAndRecord(job: DaemonJob, context: JobContext, state: StateHandle, clock: Clock, log: Logger): Promise<JobRunRecord> {
  const jobLog = log.child({ job: job.name });
  jobLog.info({ scheduledFor: iso(context.scheduledFor), reason: context.reason }, 'job started');
  let record: JobRunRecord;
  try {
    const outcome = await job.run(context);
    record = {
      scheduled_for: iso(context.scheduledFor),
      started_at: iso(context.now),
      finished_at: iso(clock.now()),
      result: 'success',
      summary: outcome.summary,
    };
    jobLog.info(
      { scheduledFor: record.scheduled_for, ms: Date.parse(record.finished_at) - Date.parse(record.started_at), summary: outcome.summary },
      'job finished',
    );
  } catch (error) {
    record = {
      scheduled_for: iso(context.scheduledFor),
      started_at: iso(context.now),
      finished_at: iso(clock.now()),
      result: 'failure',
      summary: describeError(error).split('\n')[0] ?? 'failed',
    };
    jobLog.error({ scheduledFor: record.scheduled_for, err: error }, 'job failed');
  }
  try {
    await state.updateJob(job.name, (s) => ({ ...s, last_run: record, ...(record.result === 'success' ? { last_success: record } : {}) }));
  } catch (error) {
    // The run happened, but nothing remembers it: a report will be caught up again, so say so loudly.
    jobLog.error({ err: error, state: state.store.describe() }, 'job run not recorded in the state store');
    if (record.result === 'success') record = { ...record, result: 'failure', summary: `ran, but the state was not saved: ${describeError(error)}` };
    if (!(error instanceof StateError)) throw error;
  }
  return record;
}

/**
 * How often the scheduler looks whether the clock went back. A timer waits for a wall-clock instant: after the
 * clock is put back (an NTP step after a jump ahead, a VM resumed with a corrected clock) the next slot would
 * otherwise come at the old, later time — a job silent for as long as the clock had jumped.
 */
export const CLOCK_CHECK_MS = 60_000;

interface JobSlot {
  readonly job: DaemonJob;
  cancelTimer?: () => void;
  /** The slot the timer is armed for. */
  armedFor?: Date;
  running?: { readonly scheduledFor: Date; readonly startedAt: Date; readonly done: Promise<void> };
  lastRun?: JobRunRecord;
  lastSuccess?: JobRunRecord;
  skipped: number;
}

export interface SchedulerOptions {
  readonly jobs: readonly DaemonJob[];
  readonly clock: Clock;
  readonly state: StateHandle;
  readonly log: Logger;
}

/**
 * The daemon's core: fires each job at its cron slots (computed from the schedule and the clock, so tests
 * control time), never two runs of one job at once (a slot that comes while the previous run is still going
 * is skipped and logged), catches up report jobs on start, and stops cleanly.
 */
export class Scheduler {
  readonly #clock: Clock;
  readonly #state: StateHandle;
  readonly #log: Logger;
  readonly #slots: JobSlot[];
  #trackedSince: Date | undefined;
  #stopped = false;
  #cancelClockCheck?: () => void;

  constructor(options: SchedulerOptions) {
    this.#clock = options.clock;
    this.#state = options.state;
    this.#log = options.log;
    this.#slots = options.jobs.map((job) => {
      const recorded = options.state.job(job.name);
      return { job, lastRun: recorded.last_run, lastSuccess: recorded.last_success, skipped: 0 };
    });
  }

  /** Starts the timers; report jobs whose last slot passed while the daemon was down run once now. */
  start(): void {
    const now = this.#clock.now();
    this.#trackedSince = now;
    for (const slot of this.#slots) {
      const missed = slot.job.catchUp
        ? catchUpSlot(slot.job.schedule, slot.lastSuccess ? new Date(slot.lastSuccess.scheduled_for) : undefined, now)
        : undefined;
      if (missed) {
        this.#log.info({ job: slot.job.name, missedSlot: iso(missed), lastSuccessSlot: slot.lastSuccess?.scheduled_for }, 'catching up on a missed run');
        this.#start(slot, missed, 'catch-up');
      }
      this.#arm(slot, now);
      const next = slot.job.schedule.next(now);
      this.#log.info(
        {
          job: slot.job.name,
          type: slot.job.type,
          schedule: slot.job.schedule.expression,
          timezone: slot.job.schedule.timeZone,
          nextRun: next ? iso(next) : null,
        },
        'job scheduled',
      );
    }
    this.#watchClock();
  }

  #arm(slot: JobSlot, after: Date): void {
    if (this.#stopped) return;
    const next = slot.job.schedule.next(after);
    if (!next) return;
    slot.armedFor = next;
    slot.cancelTimer = this.#clock.at(next, () => this.#fire(slot, next));
  }

  /**
   * Every CLOCK_CHECK_MS of elapsed time: when the clock now reads earlier than at the previous check, each timer
   * is re-armed for the next slot on the corrected clock.
   */
  #watchClock(previous: Date = this.#clock.now()): void {
    if (this.#stopped) return;
    this.#cancelClockCheck = this.#clock.after(CLOCK_CHECK_MS, () => {
      const now = this.#clock.now();
      if (now.getTime() < previous.getTime()) this.#rearm(now, previous);
      this.#watchClock(now);
    });
  }

  #rearm(now: Date, previous: Date): void {
    for (const slot of this.#slots) {
      const next = slot.job.schedule.next(now);
      if (!slot.cancelTimer || !slot.armedFor || !next || next.getTime() >= slot.armedFor.getTime()) continue;
      this.#log.warn(
        { job: slot.job.name, now: iso(now), clockBefore: iso(previous), armedFor: iso(slot.armedFor), nextRun: iso(next) },
        'the clock went back: the job is re-armed for its next slot on the corrected clock',
      );
      slot.cancelTimer();
      this.#arm(slot, now);
    }
  }

  #fire(slot: JobSlot, scheduledFor: Date): void {
    slot.cancelTimer = undefined;
    slot.armedFor = undefined;
    if (this.#stopped) return;
    // From the later of the slot and now: a timer that fired late must not replay the slots it slept through.
    const now = this.#clock.now();
    this.#arm(slot, now.getTime() > scheduledFor.getTime() ? now : scheduledFor);
    if (slot.running) {
      slot.skipped += 1;
      this.#log.warn(
        { job: slot.job.name, slot: iso(scheduledFor), runningSince: iso(slot.running.startedAt), runningFor: iso(slot.running.scheduledFor) },
        'slot skipped: the previous run of this job is still going',
      );
      return;
    }
    this.#start(slot, scheduledFor, 'schedule');
  }

  #start(slot: JobSlot, scheduledFor: Date, reason: RunReason): void {
    const startedAt = this.#clock.now();
    const done = runAndRecord(slot.job, { scheduledFor, now: startedAt, reason }, this.#state, this.#clock, this.#log)
      .then((record) => {
        slot.lastRun = record;
        if (record.result === 'success') slot.lastSuccess = record;
      })
      .catch((error: unknown) => {
        this.#log.error({ job: slot.job.name, err: error }, 'job bookkeeping failed');
      })
      .finally(() => {
        slot.running = undefined;
      });
    slot.running = { scheduledFor, startedAt, done };
  }

  /** Stops scheduling: no new run starts; runs in progress go on. */
  stop(): void {
    this.#stopped = true;
    this.#cancelClockCheck?.();
    this.#cancelClockCheck = undefined;
    for (const slot of this.#slots) {
      slot.cancelTimer?.();
      slot.cancelTimer = undefined;
      slot.armedFor = undefined;
    }
  }

  /** Resolves once no job is running (runs started meanwhile included). */
  async idle(): Promise<void> {
    for (;;) {
      const pending = this.#slots.map((s) => s.running?.done).filter((p): p is Promise<void> => p !== undefined);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  /** Names of the jobs running now. */
  running(): string[] {
    return this.#slots.filter((s) => s.running).map((s) => s.job.name);
  }

  /**
   * Waits for the runs in progress, at most `graceMs`; returns the jobs still running then (their runs are not
   * recorded as successful, so a report will be caught up on the next start).
   */
  async drain(graceMs: number): Promise<string[]> {
    const pending = this.#slots.map((s) => s.running?.done).filter((p): p is Promise<void> => p !== undefined);
    if (pending.length === 0) return [];
    let cancel: (() => void) | undefined;
    const timeout = new Promise<void>((resolve) => {
      // Elapsed time, not a wall-clock instant: a clock put back meanwhile must not stretch the grace period.
      cancel = this.#clock.after(graceMs, resolve);
    });
    await Promise.race([Promise.all(pending), timeout]);
    cancel?.();
    return this.running();
  }

  /** What the health endpoint answers. */
  health(): HealthReport {
    const now = this.#clock.now();
    return healthReport(
      this.#slots.map((s) => ({
        name: s.job.name,
        type: s.job.type,
        schedule: s.job.schedule,
        lastRun: s.lastRun,
        lastSuccess: s.lastSuccess,
        running: s.running,
        trackedSince: this.#trackedSince ?? now,
        watermark: this.#state.job(s.job.name).alert?.watermark,
      })),
      now,
    );
  }

  /** Slots skipped per job because the previous run was still going. */
  skippedSlots(): Record<string, number> {
    return Object.fromEntries(this.#slots.map((s) => [s.job.name, s.skipped]));
  }
}
