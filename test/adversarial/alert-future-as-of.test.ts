import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { readStateFile } from '../support/daemon.js';
import { tempDir } from '../support/fixtures.js';
import { deliver, outboxMails, rootRecord, writeJobConfig } from '../support/root-alert.js';

/**
 * These run the built CLI on the real clock (as a CronJob would), so the root events are placed relative to
 * the time the test runs, in the delivery folder of their own day.
 */
const A = '111111111111';
const MINUTE = 60_000;

function minutesAgo(minutes: number): string {
  return new Date(Date.now() - minutes * MINUTE).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function deliverRoot(logs: string, eventTime: string, eventName: string): Promise<void> {
  await deliver(logs, A, [rootRecord(A, eventTime, { eventName })], eventTime.slice(0, 10).replaceAll('-', '/'));
}

async function alertSetup() {
  const dir = await tempDir();
  const config = await writeJobConfig(dir, ['root: { type: root_alert, schedule: "*/15 * * * *", overlap_minutes: 60, initial_lookback_hours: 24 }']);
  return { dir, config, logs: path.join(dir, 'logs'), stateFile: path.join(dir, 'out', 'state', 'state.json'), outbox: path.join(dir, 'out', 'outbox') };
}

describe('a future --as-of cannot switch the root alert off', () => {
  it('refuses "run --job <alert> --as-of <future>" (exit 1, nothing recorded); later runs still alert every root event', async () => {
    // Prepare: a root event 90 minutes ago; a time half a year ahead.
    const { config, logs, stateFile, outbox } = await alertSetup();
    await deliverRoot(logs, minutesAgo(90), 'CreateAccessKey');
    const future = new Date(Date.now() + 180 * 24 * 60 * MINUTE).toISOString().slice(0, 10);

    // Act
    const refused = await runCli(['run', '--job', 'root', '--config', config, '--as-of', future]);

    // Assess: a clear one-line reason, exit 1, no state written, no mail.
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`--as-of: ${future}T00:00:00Z is in the future`));
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(stateFile)).toBe(false);
    expect(await outboxMails(outbox)).toHaveLength(0);

    // Act: the scheduler's next runs (no --as-of), with a new root event between them.
    const first = await runCli(['run', '--job', 'root', '--config', config]);
    await deliverRoot(logs, minutesAgo(1), 'DeactivateMFADevice');
    const second = await runCli(['run', '--job', 'root', '--config', config]);

    // Assess: both events alerted, each exactly once; the watermark is not ahead of the clock.
    expect([first.code, second.code]).toEqual([0, 0]);
    const mails = await outboxMails(outbox);
    expect(mails).toHaveLength(2);
    expect(mails.filter((m) => m.text?.includes('CreateAccessKey'))).toHaveLength(1);
    expect(mails.filter((m) => m.text?.includes('DeactivateMFADevice'))).toHaveLength(1);
    const watermark = (await readStateFile(stateFile)).jobs.root?.alert?.watermark;
    expect(Date.parse(watermark ?? '')).toBeLessThanOrEqual(Date.now());
  });

  it('a watermark already stored in the future (written by the old bug) is not trusted: the run looks back initial_lookback_hours and says so', async () => {
    // Prepare: the state a run "as of" half a year ahead left behind, and a root event 90 minutes ago.
    const { config, logs, stateFile, outbox } = await alertSetup();
    const stored = new Date(Date.now() + 180 * 24 * 60 * MINUTE).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await mkdir(path.dirname(stateFile), { recursive: true });
    await writeFile(stateFile, JSON.stringify({ schema: 'trailwarden.state/v1', jobs: { root: { alert: { watermark: stored, alerted: {} } } } }));
    await deliverRoot(logs, minutesAgo(90), 'CreateAccessKey');

    // Act
    const run = await runCli(['run', '--job', 'root', '--config', config]);

    // Assess: the event is alerted, a warning names the stored watermark, and the saved one is not in the future.
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1 new root event(s) of 1');
    expect(run.stdout).toContain(`watermark ${stored} was ahead of the clock`);
    expect(run.stderr).toContain('ahead of the clock');
    const mails = await outboxMails(outbox);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.text).toContain('iam.amazonaws.com CreateAccessKey');
    const watermark = (await readStateFile(stateFile)).jobs.root?.alert?.watermark;
    expect(Date.parse(watermark ?? '')).toBeLessThanOrEqual(Date.now());
  });
});
