import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CronSchedule } from '../../src/core/cron.js';
import { healthReport } from '../../src/daemon/plan.js';
import { Scheduler, type DaemonJob, type JobContext } from '../../src/daemon/scheduler.js';
import { onShutdownSignals } from '../../src/daemon/signals.js';
import { StateHandle } from '../../src/state/handle.js';
import type { DaemonState, JobRunRecord } from '../../src/state/types.js';
import { deferred, ManualClock, MemoryStateStore } from '../support/daemon.js';
import { silentLog } from '../support/fixtures.js';

interface Run {
  readonly job: string;
  readonly scheduledFor: string;
  readonly startedAt: string;
  readonly reason: string;
}

/** A job that records every run; `hold` makes the run of one slot wait until the test releases it. */
function recordingJob(name: string, type: string, expression: string, timeZone: string, runs: Run[], hold = new Map<string, Promise<void>>()): DaemonJob {
  let concurrent = 0;
  return {
    name,
    type,
    schedule: new CronSchedule(expression, timeZone),
    catchUp: type === 'report',
    async run(context: JobContext) {
      concurrent += 1;
      if (concurrent > 1) throw new Error(`${name} overlapped itself`);
      runs.push({ job: name, scheduledFor: context.scheduledFor.toISOString(), startedAt: context.now.toISOString(), reason: context.reason });
      try {
        await hold.get(context.scheduledFor.toISOString());
        return { summary: `${name} ok` };
      } finally {
        concurrent -= 1;
      }
    },
  };
}

function success(slot: string): JobRunRecord {
  return { scheduled_for: slot, started_at: slot, finished_at: slot, result: 'success', summary: 'ok' };
}

async function startScheduler(clock: ManualClock, jobs: DaemonJob[], initial?: DaemonState) {
  const store = new MemoryStateStore(initial);
  const state = await StateHandle.open(store);
  const scheduler = new Scheduler({ jobs, clock, state, log: silentLog });
  scheduler.start();
  return { scheduler, store };
}

const of = (runs: Run[], job: string) => runs.filter((r) => r.job === job);

describe('the daemon through a week on a controlled clock', () => {
  it('runs exactly the slots of each schedule, in its own time zone, at the slot instant', async () => {
    // Prepare: Monday 16 Nov 2026 00:00 UTC; Berlin is UTC+1 and New York UTC-5 in November.
    const clock = new ManualClock('2026-11-16T00:00:00Z');
    const runs: Run[] = [];
    const { scheduler, store } = await startScheduler(clock, [
      recordingJob('weekly', 'report', '0 8 * * 1', 'Europe/Berlin', runs),
      recordingJob('daily', 'report', '30 6 * * *', 'America/New_York', runs),
      recordingJob('root', 'root_alert', '*/15 * * * *', 'UTC', runs),
    ]);

    // Act
    await clock.advanceTo('2026-11-23T00:00:00Z');

    // Assess
    expect(of(runs, 'weekly').map((r) => r.scheduledFor)).toEqual(['2026-11-16T07:00:00.000Z']);
    expect(of(runs, 'daily').map((r) => r.scheduledFor)).toEqual(['16', '17', '18', '19', '20', '21', '22'].map((d) => `2026-11-${d}T11:30:00.000Z`));
    const root = of(runs, 'root');
    expect(root).toHaveLength(7 * 96);
    expect(root[0]?.scheduledFor).toBe('2026-11-16T00:15:00.000Z');
    expect(root.at(-1)?.scheduledFor).toBe('2026-11-23T00:00:00.000Z');
    expect(root.every((r, i) => i === 0 || Date.parse(r.scheduledFor) - Date.parse(root[i - 1]!.scheduledFor) === 15 * 60_000)).toBe(true);
    expect(runs.every((r) => r.startedAt === r.scheduledFor && r.reason === 'schedule')).toBe(true);
    // Every run is recorded: the weekly report's last success is its slot.
    expect(store.state.jobs.weekly?.last_success?.scheduled_for).toBe('2026-11-16T07:00:00.000Z');
    expect(store.state.jobs.root?.last_run?.scheduled_for).toBe('2026-11-23T00:00:00.000Z');
    expect(scheduler.health().healthy).toBe(true);
  });

  it('never overlaps a job with itself: slots that come while it runs are skipped, and it is overdue meanwhile', async () => {
    // Prepare: the 10:00 run of the alert hangs until 10:40.
    const clock = new ManualClock('2026-11-16T09:50:00Z');
    const runs: Run[] = [];
    const slow = deferred();
    const { scheduler } = await startScheduler(clock, [
      recordingJob('root', 'root_alert', '*/15 * * * *', 'UTC', runs, new Map([['2026-11-16T10:00:00.000Z', slow.promise]])),
    ]);

    // Act
    await clock.advanceTo('2026-11-16T10:40:00Z');
    const during = scheduler.health();
    slow.resolve();
    await clock.advanceTo('2026-11-16T11:00:00Z');

    // Assess
    expect(runs.map((r) => r.scheduledFor)).toEqual(['2026-11-16T10:00:00.000Z', '2026-11-16T10:45:00.000Z', '2026-11-16T11:00:00.000Z']);
    expect(scheduler.skippedSlots()).toEqual({ root: 2 });
    expect(during.healthy).toBe(false);
    expect(during.jobs[0]).toMatchObject({ status: 'overdue', running: { scheduled_for: '2026-11-16T10:00:00.000Z' } });
    expect(scheduler.health().healthy).toBe(true);
  });

  it('catches up a report once for the latest slot missed while down, and not an alert', async () => {
    // Prepare: last successes three weeks back; the daemon comes back on Wednesday.
    const clock = new ManualClock('2026-11-18T12:00:00Z');
    const runs: Run[] = [];
    const initial: DaemonState = {
      schema: 'trailwarden.state/v1',
      jobs: {
        weekly: { last_run: success('2026-10-26T07:00:00.000Z'), last_success: success('2026-10-26T07:00:00.000Z') },
        root: { last_run: success('2026-10-26T07:00:00.000Z'), last_success: success('2026-10-26T07:00:00.000Z') },
      },
    };

    // Act
    await startScheduler(
      clock,
      [
        recordingJob('weekly', 'report', '0 8 * * 1', 'Europe/Berlin', runs),
        recordingJob('root', 'root_alert', '0 * * * *', 'UTC', runs),
        recordingJob('fresh', 'report', '0 8 * * 1', 'Europe/Berlin', runs),
      ],
      initial,
    );
    await clock.advanceTo('2026-11-18T12:30:00Z');

    // Assess: one catch-up run of "weekly" at start, for Monday's slot; the alert and the never-run job wait for their slots.
    expect(runs).toEqual([{ job: 'weekly', scheduledFor: '2026-11-16T07:00:00.000Z', startedAt: '2026-11-18T12:00:00.000Z', reason: 'catch-up' }]);

    // Act: the next week.
    await clock.advanceTo('2026-11-25T00:00:00Z');
    // Assess: then on schedule, once.
    expect(of(runs, 'weekly').map((r) => r.scheduledFor)).toEqual(['2026-11-16T07:00:00.000Z', '2026-11-23T07:00:00.000Z']);
    expect(of(runs, 'fresh').map((r) => r.scheduledFor)).toEqual(['2026-11-23T07:00:00.000Z']);
  });

  it('does not catch up when the last success is the latest slot', async () => {
    const clock = new ManualClock('2026-11-18T12:00:00Z');
    const runs: Run[] = [];
    await startScheduler(clock, [recordingJob('weekly', 'report', '0 8 * * 1', 'Europe/Berlin', runs)], {
      schema: 'trailwarden.state/v1',
      jobs: { weekly: { last_run: success('2026-11-16T07:00:00.000Z'), last_success: success('2026-11-16T07:00:00.000Z') } },
    });
    await clock.advanceTo('2026-11-22T00:00:00Z');
    expect(runs).toEqual([]);
  });

  it('catches up after a failed run (only successes count)', async () => {
    const clock = new ManualClock('2026-11-18T12:00:00Z');
    const runs: Run[] = [];
    await startScheduler(clock, [recordingJob('weekly', 'report', '0 8 * * 1', 'Europe/Berlin', runs)], {
      schema: 'trailwarden.state/v1',
      jobs: { weekly: { last_run: { ...success('2026-11-16T07:00:00.000Z'), result: 'failure' }, last_success: success('2026-11-09T07:00:00.000Z') } },
    });
    await clock.advanceTo('2026-11-18T12:01:00Z');
    expect(runs.map((r) => [r.scheduledFor, r.reason])).toEqual([['2026-11-16T07:00:00.000Z', 'catch-up']]);
  });
});

describe('graceful shutdown', () => {
  it('stops scheduling, waits for the running job within the grace period, and records it', async () => {
    // Prepare: the Monday report is running when the signal comes.
    const clock = new ManualClock('2026-11-23T06:59:00Z');
    const runs: Run[] = [];
    const report = deferred();
    const { scheduler, store } = await startScheduler(clock, [
      recordingJob('weekly', 'report', '0 8 * * 1', 'Europe/Berlin', runs, new Map([['2026-11-23T07:00:00.000Z', report.promise]])),
      recordingJob('root', 'root_alert', '*/15 * * * *', 'UTC', runs),
    ]);
    await clock.advanceTo('2026-11-23T07:00:00Z');
    expect(scheduler.running()).toEqual(['weekly']);

    // Act: stop, then the report finishes 30 s into a 120 s grace period.
    scheduler.stop();
    let interrupted: string[] | undefined;
    const draining = scheduler.drain(120_000).then((names) => {
      interrupted = names;
    });
    await clock.advanceBy(30_000);
    expect(interrupted).toBeUndefined();
    report.resolve();
    await clock.advanceBy(1_000);
    await draining;
    const runsAtStop = runs.length;
    await clock.advanceTo('2026-11-24T00:00:00Z');

    // Assess
    expect(interrupted).toEqual([]);
    expect(store.state.jobs.weekly?.last_success?.scheduled_for).toBe('2026-11-23T07:00:00.000Z');
    expect(runs.length).toBe(runsAtStop);
    expect(clock.pending()).toBe(0);
  });

  it('gives up after the grace period and names the job still running (not recorded as a success)', async () => {
    const clock = new ManualClock('2026-11-23T06:59:00Z');
    const runs: Run[] = [];
    const never = deferred();
    const { scheduler, store } = await startScheduler(clock, [
      recordingJob('weekly', 'report', '0 8 * * 1', 'Europe/Berlin', runs, new Map([['2026-11-23T07:00:00.000Z', never.promise]])),
    ]);
    await clock.advanceTo('2026-11-23T07:00:00Z');

    scheduler.stop();
    let interrupted: string[] | undefined;
    const draining = scheduler.drain(120_000).then((names) => {
      interrupted = names;
    });
    await clock.advanceBy(119_000);
    expect(interrupted).toBeUndefined();
    await clock.advanceBy(1_000);
    await draining;

    expect(interrupted).toEqual(['weekly']);
    expect(store.state.jobs.weekly?.last_success).toBeUndefined();
  });

  it('first signal is graceful, a second one is immediate', () => {
    const source = new EventEmitter();
    const seen: string[] = [];
    onShutdownSignals(source, { graceful: (s) => seen.push(`graceful ${s}`), immediate: (s) => seen.push(`immediate ${s}`) });
    source.emit('SIGTERM', 'SIGTERM');
    source.emit('SIGINT', 'SIGINT');
    expect(seen).toEqual(['graceful SIGTERM', 'immediate SIGINT']);
  });
});

describe('health status', () => {
  const schedule = new CronSchedule('*/15 * * * *', 'UTC');
  const since = new Date('2026-11-23T00:00:00Z');

  it('is healthy while every job ran fine and on time, and says when each runs next', () => {
    const report = healthReport(
      [
        {
          name: 'root',
          type: 'root_alert',
          schedule,
          trackedSince: since,
          lastRun: success('2026-11-23T10:00:00.000Z'),
          lastSuccess: success('2026-11-23T10:00:00.000Z'),
        },
      ],
      new Date('2026-11-23T10:05:00Z'),
    );
    expect(report).toMatchObject({
      healthy: true,
      jobs: [{ status: 'ok', next_run: '2026-11-23T10:15:00.000Z', last_success_at: '2026-11-23T10:00:00.000Z' }],
    });
  });

  it('is unhealthy when the last run failed, or a slot passed without a run', () => {
    const failed = healthReport(
      [{ name: 'root', type: 'root_alert', schedule, trackedSince: since, lastRun: { ...success('2026-11-23T10:00:00.000Z'), result: 'failure' } }],
      new Date('2026-11-23T10:05:00Z'),
    );
    expect(failed).toMatchObject({ healthy: false, jobs: [{ status: 'failed' }] });
    const overdue = healthReport(
      [{ name: 'root', type: 'root_alert', schedule, trackedSince: since, lastRun: success('2026-11-23T10:00:00.000Z') }],
      new Date('2026-11-23T10:16:01Z'),
    );
    expect(overdue).toMatchObject({ healthy: false, jobs: [{ status: 'overdue' }] });
    // Within the minute of tolerance, a slot that just passed is not overdue yet.
    expect(
      healthReport(
        [{ name: 'root', type: 'root_alert', schedule, trackedSince: since, lastRun: success('2026-11-23T10:00:00.000Z') }],
        new Date('2026-11-23T10:15:30Z'),
      ).healthy,
    ).toBe(true);
  });

  it('does not hold slots from before the daemon started against it', () => {
    const report = healthReport(
      [{ name: 'weekly', type: 'report', schedule: new CronSchedule('0 8 * * 1', 'Europe/Berlin'), trackedSince: new Date('2026-11-18T12:00:00Z') }],
      new Date('2026-11-18T12:10:00Z'),
    );
    expect(report).toMatchObject({ healthy: true, jobs: [{ status: 'waiting', last_run: null, next_run: '2026-11-23T07:00:00.000Z' }] });
  });
});
