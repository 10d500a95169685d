import path from 'node:path';

import { describe, expect, it } from 'vitest';
import { loadSetup } from '../../src/config/load.js';
import { buildJobs } from '../../src/daemon/jobs.js';
import { Scheduler } from '../../src/daemon/scheduler.js';
import { StateHandle } from '../../src/state/handle.js';
import { LocalStateStore } from '../../src/state/local.js';
import { ManualClock, readStateFile } from '../support/daemon.js';
import { silentLog, tempDir } from '../support/fixtures.js';
import { assumeRootPair, deliver, outboxMails, rootRecord, writeJobConfig } from '../support/root-alert.js';

const A = '111111111111';
const B = '222222222222';
const HOSTILE = '<img src=x onerror=alert(1)>';

describe('root-activity alert job: local logs → DuckDB → outbox, on the daemon clock', () => {
  it('mails each new root event within one job interval, one mail per account, never twice, AssumeRoot labelled', async () => {
    // Prepare: root use in A (hostile user agent), an AssumeRoot session of A into B, and events that are not
    // CIS 4.3 root use (a service acting for root, a service event).
    const dir = await tempDir();
    const logs = path.join(dir, 'logs');
    const session = assumeRootPair(A, B, '2026-11-23T10:00:00Z', '2026-11-23T10:04:00Z');
    await deliver(logs, A, [
      rootRecord(A, '2026-11-23T10:02:00Z', { userAgent: HOSTILE }),
      rootRecord(A, '2026-11-23T10:03:00Z', {}, { invokedBy: 'cloudformation.amazonaws.com' }),
      rootRecord(A, '2026-11-23T10:03:30Z', { eventType: 'AwsServiceEvent' }),
      session.call,
    ]);
    await deliver(logs, B, [session.use]);
    const configFile = await writeJobConfig(dir, ['root: { type: root_alert, schedule: "*/15 * * * *", overlap_minutes: 60 }']);
    const setup = await loadSetup(configFile);
    const store = new LocalStateStore({ path: path.join(dir, 'out', 'state', 'state.json') });
    const state = await StateHandle.open(store);
    const clock = new ManualClock('2026-11-23T10:05:00Z');
    const scheduler = new Scheduler({ jobs: await buildJobs({ configFile, setup, state, log: silentLog }), clock, state, log: silentLog });
    scheduler.start();
    const outbox = path.join(dir, 'out', 'outbox');

    // Act: the next slot.
    await clock.advanceTo('2026-11-23T10:15:00Z');
    await scheduler.idle();

    // Assess
    let mails = await outboxMails(outbox);
    expect(mails.map((m) => m.subject)).toEqual([`[trailwarden] ALERT root activity · ${A}`, `[trailwarden] ALERT root activity · ${B}`]);
    const [mailA, mailB] = mails;
    expect(mailA?.text).toContain(`user agent: ${HOSTILE}`);
    expect(mailA?.html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(mailA?.html).not.toContain('<img src=x');
    expect(mailA?.text).toContain('session:    root user credentials');
    expect(mailA?.text).not.toContain('10:03:');
    expect(mailB?.text).toContain('s3.amazonaws.com DeleteBucketPolicy');
    expect(mailB?.text).toContain('session:    centralized root access (sts:AssumeRoot session)');
    expect(mailB?.text).toMatch(/MFA: +no +access: API/);
    const saved = await readStateFile(path.join(dir, 'out', 'state', 'state.json'));
    expect(saved.jobs.root?.alert?.watermark).toBe('2026-11-23T10:15:00Z');
    expect(saved.jobs.root?.last_success?.scheduled_for).toBe('2026-11-23T10:15:00.000Z');

    // Act: a new root event becomes readable at 10:20 (with an old one re-delivered); the 10:30 run reads the overlap again.
    await deliver(logs, A, [rootRecord(A, '2026-11-23T10:19:00Z', { eventName: 'DeactivateMFADevice' })]);
    await clock.advanceTo('2026-11-23T10:30:00Z');
    await scheduler.idle();
    // And a quiet slot.
    await clock.advanceTo('2026-11-23T10:45:00Z');
    await scheduler.idle();

    // Assess: exactly one more mail, with only the new event.
    mails = await outboxMails(outbox);
    expect(mails).toHaveLength(3);
    const third = mails.find((m) => m.text?.includes('DeactivateMFADevice'));
    expect(third?.subject).toBe(`[trailwarden] ALERT root activity · ${A}`);
    expect(third?.text).toContain('1 event(s)');
    expect(third?.text).not.toContain('CreateAccessKey');
    expect(scheduler.health().healthy).toBe(true);
  });
});
