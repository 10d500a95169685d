import { EventEmitter } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadSetup } from '../../src/config/load.js';
import { CronSchedule } from '../../src/core/cron.js';
import { startHealthServer } from '../../src/daemon/health-server.js';
import { buildJobs } from '../../src/daemon/jobs.js';
import { healthReport, type JobStatusInput } from '../../src/daemon/plan.js';
import { runDaemon } from '../../src/daemon/run-daemon.js';
import { Scheduler } from '../../src/daemon/scheduler.js';
import { StateHandle } from '../../src/state/handle.js';
import { LocalStateStore } from '../../src/state/local.js';
import { ManualClock, readStateFile, settle } from '../support/daemon.js';
import { silentLog, tempDir } from '../support/fixtures.js';
import { deliver, outboxMails, rootRecord, writeJobConfig } from '../support/root-alert.js';

const A = '111111111111';

interface HealthBody {
  healthy: boolean;
  problems: string[];
  jobs: { name: string; status: string; reason: string | null; watermark: string | null }[];
}

async function alertDaemonSetup(start: string) {
  const dir = await tempDir();
  const logs = path.join(dir, 'logs');
  const config = await writeJobConfig(dir, ['root: { type: root_alert, schedule: "*/15 * * * *", overlap_minutes: 60, initial_lookback_hours: 24 }']);
  const stateFile = path.join(dir, 'out', 'state', 'state.json');
  return { dir, logs, config, stateFile, outbox: path.join(dir, 'out', 'outbox'), clock: new ManualClock(start) };
}

/** A logger whose JSON lines the test reads. */
function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

async function waitFor<T>(find: () => T | undefined): Promise<T> {
  for (let i = 0; i < 2000; i += 1) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}

describe('the root alert when the clock jumps', () => {
  it('forward and back: /health answers 503 with the reason, the job re-arms on the corrected clock, and a later root event is alerted', async () => {
    // Prepare: the daemon runs the alert every 15 minutes; a root event at 10:02 is alerted at 10:15.
    const { logs, config, stateFile, outbox, clock } = await alertDaemonSetup('2026-11-23T10:05:00Z');
    await deliver(logs, A, [rootRecord(A, '2026-11-23T10:02:00Z', { eventName: 'CreateAccessKey' })]);
    const setup = await loadSetup(config);
    const state = await StateHandle.open(new LocalStateStore({ path: stateFile }));
    const scheduler = new Scheduler({ jobs: await buildJobs({ configFile: config, setup, state, log: silentLog }), clock, state, log: silentLog });
    scheduler.start();
    const health = await startHealthServer({ host: '127.0.0.1', port: 0, report: () => scheduler.health() });
    await clock.advanceTo('2026-11-23T10:15:00Z');
    await scheduler.idle();

    // Act: the clock jumps half a year ahead, a slot runs there, then NTP steps it back.
    clock.jumpTo('2027-06-01T00:00:00Z');
    await clock.advanceTo('2027-06-01T00:00:00Z'); // the 10:30 timer fires late: its run reads up to its slot
    await scheduler.idle();
    await clock.advanceTo('2027-06-01T00:15:00Z'); // a slot on the wrong clock: its run reads up to "now"
    await scheduler.idle();
    clock.jumpTo('2026-11-23T10:20:00Z');
    const during = await fetch(health.url);
    const duringBody = (await during.json()) as HealthBody;
    // A root event after the jump back, then the next slots on the corrected clock.
    await deliver(logs, A, [rootRecord(A, '2026-11-23T10:21:00Z', { eventName: 'DeactivateMFADevice' })]);
    await clock.advanceTo('2026-11-23T10:31:00Z');
    await scheduler.idle();
    const after = await fetch(health.url);
    scheduler.stop();
    await health.close();

    // Assess: the watermark ahead of the clock is reported, not hidden.
    expect(during.status).toBe(503);
    expect(duringBody.healthy).toBe(false);
    expect(duringBody.jobs[0]).toMatchObject({ name: 'root', status: 'watermark_ahead', watermark: '2027-06-01T00:15:00Z' });
    expect(duringBody.jobs[0]?.reason).toContain('ahead of the clock');
    expect(duringBody.problems.join('\n')).toContain('root: ');
    // The root event after the jump is alerted, once; the one before it at least once (never lost).
    const mails = await outboxMails(outbox);
    expect(mails.filter((m) => m.text?.includes('DeactivateMFADevice'))).toHaveLength(1);
    expect(mails.filter((m) => m.text?.includes('CreateAccessKey')).length).toBeGreaterThanOrEqual(1);
    // Back to normal: the watermark is the 10:30 slot and health is green.
    expect((await readStateFile(stateFile)).jobs.root?.alert?.watermark).toBe('2026-11-23T10:30:00Z');
    expect(after.status).toBe(200);
  });

  it('at start, a stored watermark ahead of the clock is dropped with a warning; health is green and the next slot alerts', async () => {
    // Prepare: the state the old bug left (watermark half a year ahead), and a root event at 10:02.
    const { logs, config, stateFile, outbox, clock } = await alertDaemonSetup('2026-11-23T10:05:00Z');
    await mkdir(path.dirname(stateFile), { recursive: true });
    await writeFile(
      stateFile,
      JSON.stringify({
        schema: 'trailwarden.state/v1',
        jobs: { root: { alert: { watermark: '2027-06-01T00:00:00Z', alerted: { 'e-old': '2026-11-23T09:30:00Z' } } } },
      }),
    );
    await deliver(logs, A, [rootRecord(A, '2026-11-23T10:02:00Z', { eventName: 'CreateAccessKey' })]);
    const { log, lines } = capturingLog();
    const signals = new EventEmitter();

    // Act: start the daemon, ask for health, let the 10:15 slot run, stop.
    const daemon = runDaemon({ configFile: config, clock, signals, exit: () => undefined }, log);
    const url = await waitFor(() => lines.find((l) => l.msg === 'daemon started; health endpoint listening')?.url as string | undefined);
    const atStart = await fetch(url);
    const repaired = await readStateFile(stateFile);
    await clock.advanceTo('2026-11-23T10:15:00Z');
    await waitFor(() => lines.find((l) => l.msg === 'job finished' || l.msg === 'job failed'));
    await settle();
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await daemon).toBe(0);

    // Assess
    const warning = lines.find((l) => typeof l.msg === 'string' && l.msg.includes('ahead of the clock'));
    expect(warning).toMatchObject({ level: 40, job: 'root', storedWatermark: '2027-06-01T00:00:00Z' });
    expect(atStart.status).toBe(200);
    expect(repaired.jobs.root?.alert).toEqual({ alerted: { 'e-old': '2026-11-23T09:30:00Z' } });
    const mails = await outboxMails(outbox);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.text).toContain('iam.amazonaws.com CreateAccessKey');
    expect((await readStateFile(stateFile)).jobs.root?.alert?.watermark).toBe('2026-11-23T10:15:00Z');
  });
});

describe('/health judges the root alert watermark against the clock', () => {
  const schedule = new CronSchedule('*/15 * * * *', 'UTC');
  const ok = (slot: string) => ({ scheduled_for: slot, started_at: slot, finished_at: slot, result: 'success' as const, summary: 'ok' });
  const job = (watermark: string, trackedSince = '2026-11-23T00:00:00Z'): JobStatusInput => ({
    name: 'root',
    type: 'root_alert',
    schedule,
    trackedSince: new Date(trackedSince),
    lastRun: ok('2026-11-23T10:00:00.000Z'),
    lastSuccess: ok('2026-11-23T10:00:00.000Z'),
    watermark,
  });

  it.each([
    // [case, watermark, now, trackedSince, healthy, status]
    ['in step: the previous slot', '2026-11-23T10:00:00Z', '2026-11-23T10:05:00Z', undefined, true, 'ok'],
    ['within the clock tolerance ahead', '2026-11-23T10:05:30Z', '2026-11-23T10:05:00Z', undefined, true, 'ok'],
    ['ahead of the clock', '2027-06-01T00:00:00Z', '2026-11-23T10:05:00Z', undefined, false, 'watermark_ahead'],
    ['three slots behind the latest (10:00 due, 09:15 watermark)', '2026-11-23T09:15:00Z', '2026-11-23T10:05:00Z', undefined, true, 'ok'],
    ['more than three slots behind', '2026-11-23T09:14:59Z', '2026-11-23T10:05:00Z', undefined, false, 'watermark_behind'],
    ['far behind, but the daemon has not watched three slots yet', '2026-11-20T00:00:00Z', '2026-11-23T10:05:00Z', '2026-11-23T09:20:00Z', true, 'ok'],
  ])('%s', (_case, watermark, now, trackedSince, healthy, status) => {
    const report = healthReport([job(watermark, trackedSince)], new Date(now));
    expect(report.healthy).toBe(healthy);
    expect(report.jobs[0]?.status).toBe(status);
    if (!healthy) {
      expect(report.jobs[0]?.reason).toContain(watermark);
      expect(report.problems).toHaveLength(1);
    }
  });
});
