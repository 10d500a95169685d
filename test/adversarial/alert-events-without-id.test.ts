import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSetup } from '../../src/config/load.js';
import { buildJobs } from '../../src/daemon/jobs.js';
import { Scheduler } from '../../src/daemon/scheduler.js';
import { StateHandle } from '../../src/state/handle.js';
import { LocalStateStore } from '../../src/state/local.js';
import { ManualClock } from '../support/daemon.js';
import { silentLog, tempDir } from '../support/fixtures.js';
import { assumeRootPair, deliver, outboxMails, rootRecord, writeJobConfig } from '../support/root-alert.js';

const A = '111111111111';
const B = '222222222222';

/** The record as CloudTrail sometimes logs it: without an eventID. */
function withoutEventId(record: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...record };
  delete copy.eventID;
  return copy;
}

describe('root events without an eventID', () => {
  it('are alerted, each exactly once across runs that re-read them, AssumeRoot sessions still labelled', async () => {
    // Prepare: root use without eventIDs — two calls in the same second that differ only in source IP, one
    // delivered twice (same content), an AssumeRoot session's call in B — and one event with an id.
    const dir = await tempDir();
    const logs = path.join(dir, 'logs');
    const twice = withoutEventId(rootRecord(A, '2026-11-23T10:04:00Z', { eventName: 'DeleteTrail', eventSource: 'cloudtrail.amazonaws.com' }));
    const session = assumeRootPair(A, B, '2026-11-23T10:00:00Z', '2026-11-23T10:05:00Z');
    await deliver(logs, A, [
      withoutEventId(rootRecord(A, '2026-11-23T10:03:00Z', { eventName: 'CreateLoginProfile', sourceIPAddress: '198.51.100.1' })),
      withoutEventId(rootRecord(A, '2026-11-23T10:03:00Z', { eventName: 'CreateLoginProfile', sourceIPAddress: '198.51.100.2' })),
      rootRecord(A, '2026-11-23T10:02:00Z', { eventName: 'CreateAccessKey' }),
      twice,
      session.call,
    ]);
    await deliver(logs, A, [twice]);
    await deliver(logs, B, [withoutEventId(session.use)]);
    const configFile = await writeJobConfig(dir, ['root: { type: root_alert, schedule: "*/15 * * * *", overlap_minutes: 60 }']);
    const setup = await loadSetup(configFile);
    const state = await StateHandle.open(new LocalStateStore({ path: path.join(dir, 'out', 'state', 'state.json') }));
    const clock = new ManualClock('2026-11-23T10:06:00Z');
    const scheduler = new Scheduler({ jobs: await buildJobs({ configFile, setup, state, log: silentLog }), clock, state, log: silentLog });
    scheduler.start();
    const outbox = path.join(dir, 'out', 'outbox');

    // Act: the 10:15 run, then the 10:30 run (which re-reads the same events in its overlap), then a new
    // event without an id and the 10:45 run.
    await clock.advanceTo('2026-11-23T10:15:00Z');
    await scheduler.idle();
    await clock.advanceTo('2026-11-23T10:30:00Z');
    await scheduler.idle();
    await deliver(logs, A, [withoutEventId(rootRecord(A, '2026-11-23T10:31:00Z', { eventName: 'DeactivateMFADevice' }))]);
    await clock.advanceTo('2026-11-23T10:45:00Z');
    await scheduler.idle();
    scheduler.stop();

    // Assess: one mail per account at 10:15, one more at 10:45; each event in exactly one mail, once.
    const mails = await outboxMails(outbox);
    expect(mails.map((m) => m.subject)).toEqual([
      `[trailwarden] ALERT root activity · ${A}`,
      `[trailwarden] ALERT root activity · ${B}`,
      `[trailwarden] ALERT root activity · ${A}`,
    ]);
    const all = mails.map((m) => m.text ?? '').join('\n');
    const count = (text: string) => all.split(text).length - 1;
    expect(count('source IP:  198.51.100.1\n')).toBe(1);
    expect(count('source IP:  198.51.100.2\n')).toBe(1);
    expect(count('cloudtrail.amazonaws.com DeleteTrail')).toBe(1);
    expect(count('iam.amazonaws.com CreateAccessKey')).toBe(1);
    expect(count('iam.amazonaws.com DeactivateMFADevice')).toBe(1);
    expect(mails[0]?.text).toContain('4 event(s)');
    expect(mails[0]?.text).toContain('event id:   not logged');
    expect(mails[1]?.text).toContain('s3.amazonaws.com DeleteBucketPolicy');
    expect(mails[1]?.text).toContain('session:    centralized root access (sts:AssumeRoot session)');
    expect(scheduler.health().healthy).toBe(true);
  });
});
