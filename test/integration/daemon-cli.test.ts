import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDaemon } from '../../src/daemon/run-daemon.js';
import { CLI, runCli } from '../support/cli.js';
import { ManualClock, readStateFile } from '../support/daemon.js';
import { silentLog, tempDir } from '../support/fixtures.js';
import { deliver, outboxMails, rootRecord, writeJobConfig } from '../support/root-alert.js';

const A = '111111111111';

/** Runs the built CLI; resolves with its exit code or the signal that killed it. */
function runProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TRAILWARDEN_LOG_LEVEL: 'info', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Collects every JSON log line of `child` from the start; `find` resolves with the first one, already seen or
 * still to come, for which `match` is true. (Lines that arrive in one chunk together must not be lost between
 * two waits: the daemon logs "listening" and "job started" in the same tick.)
 */
function logLines(child: ChildProcess): { find(match: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> } {
  const seen: Record<string, unknown>[] = [];
  const waiting: { match: (entry: Record<string, unknown>) => boolean; resolve: (entry: Record<string, unknown>) => void; reject: (error: Error) => void }[] =
    [];
  let buffer = '';
  let closed = false;
  child.stderr!.on('data', (data: Buffer) => {
    buffer += data.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // not a log line
      }
      seen.push(entry);
      for (const w of waiting.filter((x) => x.match(entry))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(entry);
      }
    }
  });
  child.once('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w.reject(new Error('the daemon exited before the expected log line'));
  });
  return {
    find: (match) =>
      new Promise((resolve, reject) => {
        const found = seen.find(match);
        if (found) resolve(found);
        else if (closed) reject(new Error('the daemon exited before the expected log line'));
        else waiting.push({ match, resolve, reject });
      }),
  };
}

async function alertSetup() {
  const dir = await tempDir();
  await deliver(path.join(dir, 'logs'), A, [rootRecord(A, '2026-11-23T10:02:00Z', { eventName: 'CreateAccessKey' })]);
  const config = await writeJobConfig(dir, ['root: { type: root_alert, schedule: "*/15 * * * *", overlap_minutes: 60 }']);
  return { dir, config, outbox: path.join(dir, 'out', 'outbox') };
}

describe('root alert: at least once, never twice, when the process is killed at each step (SIGKILL)', () => {
  const firstRun = (config: string, step: string) =>
    runProcess(['run', '--job', 'root', '--config', config, '--as-of', '2026-11-23T10:15:00Z'], { NODE_ENV: 'test', TRAILWARDEN_TEST_CRASH_AT: step });
  const nextRun = (config: string) => runProcess(['run', '--job', 'root', '--config', config, '--as-of', '2026-11-23T10:30:00Z'], { NODE_ENV: 'test' });

  it('killed after the query, before sending: nothing sent; the next run sends it', async () => {
    const { config, outbox } = await alertSetup();
    const crashed = await firstRun(config, 'after-query');
    expect(crashed.signal).toBe('SIGKILL');
    expect(await outboxMails(outbox)).toHaveLength(0);
    expect((await nextRun(config)).code).toBe(0);
    const mails = await outboxMails(outbox);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.text).toContain('iam.amazonaws.com CreateAccessKey');
  });

  it('killed after the mail was accepted, before saving: the next run repeats the alert (never loses it)', async () => {
    const { config, outbox } = await alertSetup();
    const crashed = await firstRun(config, 'after-send');
    expect(crashed.signal).toBe('SIGKILL');
    expect(await outboxMails(outbox)).toHaveLength(1);
    expect((await nextRun(config)).code).toBe(0);
    const mails = await outboxMails(outbox);
    expect(mails).toHaveLength(2);
    expect(mails.every((m) => m.text?.includes('iam.amazonaws.com CreateAccessKey'))).toBe(true);
  });

  it('killed after saving: the next run sends nothing (never twice)', async () => {
    const { config, outbox, dir } = await alertSetup();
    const crashed = await firstRun(config, 'after-save');
    expect(crashed.signal).toBe('SIGKILL');
    expect(await outboxMails(outbox)).toHaveLength(1);
    const next = await nextRun(config);
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('0 new root event(s) of 1');
    expect(await outboxMails(outbox)).toHaveLength(1);
    const state = await readStateFile(path.join(dir, 'out', 'state', 'state.json'));
    expect(state.jobs.root?.alert?.watermark).toBe('2026-11-23T10:30:00Z');
  });

  it('ignores the crash hook outside NODE_ENV=test', async () => {
    const { config, outbox } = await alertSetup();
    const run = await runProcess(['run', '--job', 'root', '--config', config, '--as-of', '2026-11-23T10:15:00Z'], {
      NODE_ENV: 'production',
      TRAILWARDEN_TEST_CRASH_AT: 'after-query',
    });
    expect(run.code).toBe(0);
    expect(await outboxMails(outbox)).toHaveLength(1);
  });
});

describe('trailwarden run --job', () => {
  it('runs a report job once as of the given time, records it in the state, and names unknown jobs', async () => {
    // Prepare
    const { dir } = await alertSetup();
    const withReport = await writeJobConfig(dir, [
      'weekly: { type: report, schedule: "0 8 * * 1", timezone: Europe/Berlin }',
      'root: { type: root_alert, schedule: "*/15 * * * *" }',
    ]);
    // Act
    const run = await runCli(['run', '--job', 'weekly', '--config', withReport, '--as-of', '2026-11-23T11:00:00Z']);
    const unknown = await runCli(['run', '--job', 'monthly', '--config', withReport]);
    const withOut = await runCli(['run', '--job', 'weekly', '--config', withReport, '--out', path.join(dir, 'elsewhere')]);
    // Assess
    expect(run.code).toBe(0);
    // 1 incomplete: log_integrity_30d, on a tree without CloudTrail digests (validation off is never a pass).
    expect(run.stdout).toMatch(
      /^trailwarden: job weekly: \[trailwarden\] 1 failed, 1 incomplete, 3 not run · 111111111111 · 2026-08-25 → 2026-11-23 \(evidence: /,
    );
    const state = await readStateFile(path.join(dir, 'out', 'state', 'state.json'));
    expect(state.jobs.weekly?.last_success).toMatchObject({ scheduled_for: '2026-11-23T11:00:00.000Z', result: 'success' });
    const runFolders = await readdir(path.join(dir, 'out', 'archive', '2026', '11', '23'));
    expect(runFolders).toHaveLength(1);
    // The job's runs are compared with the job's own earlier runs: its manifest names it.
    const manifest = JSON.parse(await readFile(path.join(dir, 'out', 'archive', '2026', '11', '23', runFolders[0]!, 'manifest.json'), 'utf8')) as {
      job: string | null;
    };
    expect(manifest.job).toBe('weekly');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no job "monthly"');
    expect(unknown.stderr).toContain('configured: weekly, root');
    expect(withOut.code).toBe(1);
    expect(withOut.stderr).toContain('--out: not used with --job');
  });
});

describe('trailwarden daemon (a real process)', () => {
  it('catches up a missed report at start, serves health, and exits 0 on SIGTERM after the running job finished', async () => {
    // Prepare: the weekly report last succeeded two weeks ago, so it catches up on start.
    const { dir } = await alertSetup();
    const config = await writeJobConfig(dir, [
      'weekly: { type: report, schedule: "0 8 * * 1", timezone: Europe/Berlin }',
      'root: { type: root_alert, schedule: "0 0 1 1 *" }',
    ]);
    const t = '2020-01-06T07:00:00.000Z';
    await (await import('node:fs/promises')).mkdir(path.join(dir, 'out', 'state'), { recursive: true });
    await (
      await import('node:fs/promises')
    ).writeFile(
      path.join(dir, 'out', 'state', 'state.json'),
      JSON.stringify({
        schema: 'trailwarden.state/v1',
        jobs: { weekly: { last_success: { scheduled_for: t, started_at: t, finished_at: t, result: 'success', summary: 'old' } } },
      }),
    );
    // The catch-up run waits at its start until the gate file exists: it is certainly running while we look.
    const gate = path.join(dir, 'release-the-job');
    const child = spawn(process.execPath, [CLI, 'daemon'], {
      env: { ...process.env, TRAILWARDEN_CONFIG: config, TRAILWARDEN_LOG_LEVEL: 'info', NODE_ENV: 'test', TRAILWARDEN_TEST_JOB_GATE: gate },
    });
    const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });

    // Act: wait until it listens and the catch-up run has started; then SIGTERM while it runs.
    const logs = logLines(child);
    const listening = await logs.find((e) => e.msg === 'daemon started; health endpoint listening');
    const url = String(listening.url);
    await logs.find((e) => e.msg === 'job started' && e.job === 'weekly');
    const whileRunning = await fetch(url);
    const body = (await whileRunning.json()) as { jobs: { name: string; running: unknown; next_run: string }[] };
    const healthcheck = await runProcessScript(path.resolve('scripts/healthcheck.mjs'), { TRAILWARDEN_HEALTH_URL: url });
    // SIGTERM while the job is held, then let it go: the daemon must wait for it before exiting.
    child.kill('SIGTERM');
    const stopping = await logs.find((e) => typeof e.msg === 'string' && e.msg.startsWith('stopping'));
    await writeFile(gate, '');
    const { code, stderr } = await exited;

    // Assess
    expect(whileRunning.status).toBe(200);
    expect(body.jobs.find((j) => j.name === 'weekly')?.running).toMatchObject({ scheduled_for: expect.stringMatching(/T07:00:00.000Z$/) as string });
    expect(body.jobs.find((j) => j.name === 'root')?.next_run).toMatch(/-01-01T00:00:00.000Z$/);
    expect(healthcheck).toBe(0);
    expect(JSON.stringify(stopping.running)).toContain('weekly');
    expect(code).toBe(0);
    expect(stderr).toContain('daemon stopped');
    const state = await readStateFile(path.join(dir, 'out', 'state', 'state.json'));
    expect(state.jobs.weekly?.last_success?.scheduled_for).not.toBe(t);
    expect(await outboxMails(path.join(dir, 'out', 'outbox'))).toHaveLength(1);
  });

  it('a second signal exits at once (143 for SIGTERM); the first still lets the running job finish and resolves 0', async () => {
    // Prepare: a report that catches up on start, signals from an emitter, and exit() recorded instead of done.
    const { dir } = await alertSetup();
    const config = await writeJobConfig(dir, ['weekly: { type: report, schedule: "0 8 * * 1", timezone: Europe/Berlin }']);
    const t = '2026-11-09T07:00:00.000Z';
    await mkdir(path.join(dir, 'out', 'state'), { recursive: true });
    await writeFile(
      path.join(dir, 'out', 'state', 'state.json'),
      JSON.stringify({
        schema: 'trailwarden.state/v1',
        jobs: { weekly: { last_success: { scheduled_for: t, started_at: t, finished_at: t, result: 'success', summary: 'old' } } },
      }),
    );
    const signals = new EventEmitter();
    const listening = new Promise<void>((resolve) => signals.on('newListener', (event) => event === 'SIGINT' && resolve()));
    const exits: number[] = [];
    const daemon = runDaemon({ configFile: config, clock: new ManualClock('2026-11-23T12:00:00Z'), signals, exit: (code) => exits.push(code) }, silentLog);

    // Act: the daemon is up (its catch-up run started with it); two signals in a row.
    await listening;
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGTERM', 'SIGTERM');
    const exitsRightAway = [...exits];
    const code = await daemon;

    // Assess
    expect(exitsRightAway).toEqual([143]);
    expect(code).toBe(0);
    const state = await readStateFile(path.join(dir, 'out', 'state', 'state.json'));
    expect(state.jobs.weekly?.last_success?.scheduled_for).toBe('2026-11-23T07:00:00.000Z');
  });

  it('refuses to start with a bad schedule, naming the key', async () => {
    const dir = await tempDir();
    const config = await writeJobConfig(dir, ['weekly: { type: report, schedule: "0 25 * * 1" }']);
    const run = await runCli(['daemon', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/jobs\.weekly\.schedule: "0 25 \* \* 1" is not a valid cron expression \(hour: /);
  });
});

function runProcessScript(script: string, env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: 'ignore' }).on('close', (code) => resolve(code));
  });
}
