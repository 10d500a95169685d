import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/fixtures.js';
import { outboxMails, writeJobConfig } from '../support/root-alert.js';

const RUN = {
  scheduled_for: '2026-11-23T10:15:00.000Z',
  started_at: '2026-11-23T10:15:00.000Z',
  finished_at: '2026-11-23T10:15:02.000Z',
  result: 'success',
  summary: 'ok',
};

describe('a state file whose times have the right shape but impossible values', () => {
  it.each([
    ['the alert watermark', 'jobs.root.alert.watermark', { alert: { watermark: '2026-13-45T99:99:99Z', alerted: {} } }, ['run', '--job', 'root']],
    ['a 30 February', 'jobs.root.alert.watermark', { alert: { watermark: '2026-02-30T10:00:00Z', alerted: {} } }, ['run', '--job', 'root']],
    ['a last run', 'jobs.root.last_run.started_at', { last_run: { ...RUN, started_at: '2026-11-23T24:00:00.000Z' } }, ['run', '--job', 'root']],
    [
      'a last success, seen by the daemon',
      'jobs.root.last_success.scheduled_for',
      { last_success: { ...RUN, scheduled_for: '2026-00-10T10:15:00.000Z' } },
      ['daemon'],
    ],
  ])('%s: exit 1 naming the file, the key and what was expected; nothing sent or overwritten', async (_case, key, job, command) => {
    // Prepare
    const dir = await tempDir();
    const config = await writeJobConfig(dir, ['root: { type: root_alert, schedule: "*/15 * * * *" }']);
    const stateFile = path.join(dir, 'out', 'state', 'state.json');
    await mkdir(path.dirname(stateFile), { recursive: true });
    const stored = JSON.stringify({ schema: 'trailwarden.state/v1', jobs: { root: job } });
    await writeFile(stateFile, stored);

    // Act
    const run = await runCli([...command, '--config', config]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(stateFile);
    expect(run.stderr).toContain(`${key}: expected`);
    expect(run.stderr).toMatch(/a real UTC instant/);
    expect(run.stderr).not.toMatch(/RangeError|\n\s+at /);
    expect(await readFile(stateFile, 'utf8')).toBe(stored);
    expect(await outboxMails(path.join(dir, 'out', 'outbox'))).toHaveLength(0);
  });
});
