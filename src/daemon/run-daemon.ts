import type { Logger } from 'pino';
import { Backends, withBackends } from '../app.js';
import { setLogger } from 'node-cron';
import { loadSetup } from '../config/load.js';
import { ConfigError, JobFailedError } from '../core/errors.js';
import { floorToSecond } from '../core/time.js';
import { StateHandle } from '../state/handle.js';
import { systemClock, type Clock } from './clock.js';
import { startHealthServer } from './health-server.js';
import { buildJob, buildJobs } from './jobs.js';
import { runAndRecord, Scheduler } from './scheduler.js';
import { onShutdownSignals, signalExitCode, type SignalSource } from './signals.js';

/** node-cron prints coloured warnings to stderr by default; its messages go to our JSON log instead. */
function routeNodeCronLogs(log: Logger): void {
  const cronLog = log.child({ component: 'node-cron' });
  setLogger({
    info: (message) => cronLog.info(message),
    warn: (message) => cronLog.warn(message),
    error: (message, err) =>
      cronLog.error({ err: err ?? (message instanceof Error ? message : undefined) }, String(message instanceof Error ? message.message : message)),
    debug: (message, err) => cronLog.debug({ err }, String(message instanceof Error ? message.message : message)),
  });
}

export interface DaemonOptions {
  readonly configFile: string;
  readonly clock?: Clock;
  readonly signals?: SignalSource;
  /** Called when a second signal asks to exit at once (default: process.exit). */
  readonly exit?: (code: number) => void;
}

/**
 * `trailwarden daemon`: loads and validates the config once, opens the state, serves the health endpoint and
 * runs every job on its schedule until SIGTERM/SIGINT; then stops scheduling, gives a running job
 * `daemon.shutdown_grace_seconds` to finish, and resolves with the exit code (0). A second signal exits at once.
 */
export async function runDaemon(options: DaemonOptions, log: Logger): Promise<number> {
  routeNodeCronLogs(log);
  const clock = options.clock ?? systemClock;
  const setup = await loadSetup(options.configFile);
  const config = setup.loaded.config;
  if (Object.keys(config.jobs).length === 0) {
    throw new ConfigError(setup.loaded.file, [
      'jobs: no jobs configured; add e.g. jobs.weekly: { type: report, schedule: "0 8 * * 1", timezone: Europe/Berlin } (see README.md, "Running on a schedule")',
    ]);
  }
  // The state lives as long as the daemon; each job run opens (and closes) backends of its own.
  const lifetime = new Backends(config, log);
  const state = await StateHandle.open(lifetime.state());
  const jobs = await buildJobs({ configFile: options.configFile, setup, state, log });
  const scheduler = new Scheduler({ jobs, clock, state, log });
  const health = await startHealthServer({ host: config.daemon.health.host, port: config.daemon.health.port, report: () => scheduler.health() });
  log.info({ url: health.url, port: health.port, state: state.store.describe(), jobs: jobs.map((j) => j.name) }, 'daemon started; health endpoint listening');

  const signals = options.signals ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    onShutdownSignals(signals, {
      graceful: resolve,
      immediate: (signal) => {
        log.warn({ signal, running: scheduler.running() }, 'second signal: exiting at once; running jobs are interrupted');
        exit(signalExitCode(signal));
      },
    });
  });
  scheduler.start();

  const signal = await stopped;
  scheduler.stop();
  const graceMs = config.daemon.shutdown_grace_seconds * 1000;
  log.info({ signal, running: scheduler.running(), graceSeconds: config.daemon.shutdown_grace_seconds }, 'stopping: no new runs; waiting for running jobs');
  const interrupted = await scheduler.drain(graceMs);
  if (interrupted.length > 0)
    log.warn({ interrupted }, 'grace period over: exiting with these jobs still running (not recorded as successful; a report catches up on the next start)');
  await health.close();
  await lifetime.close();
  log.info({}, 'daemon stopped');
  return 0;
}

export interface RunJobOptions {
  readonly configFile: string;
  readonly job: string;
  /** The slot to run for (a report's as-of, the alert's window end); default: now. */
  readonly asOf?: Date;
  readonly clock?: Clock;
}

/**
 * `trailwarden run --job <name>`: one run of one configured job, recorded in the state like a daemon's run,
 * for external schedulers (Kubernetes CronJob, ECS scheduled task, EventBridge). Throws when the run failed.
 */
export async function runJobOnce(options: RunJobOptions, log: Logger): Promise<string> {
  const clock = options.clock ?? systemClock;
  const setup = await loadSetup(options.configFile);
  const jobConfig = setup.loaded.config.jobs[options.job];
  if (!jobConfig) {
    const known = Object.keys(setup.loaded.config.jobs);
    throw new ConfigError('--job', [
      `no job "${options.job}" in ${setup.loaded.file} (configured: ${known.length > 0 ? known.join(', ') : 'none; add jobs.<name>'})`,
    ]);
  }
  const record = await withBackends(setup.loaded.config, log, async (lifetime) => {
    const state = await StateHandle.open(lifetime.state());
    const job = await buildJob(options.job, jobConfig, { configFile: options.configFile, setup, state, log });
    const now = clock.now();
    return runAndRecord(job, { scheduledFor: floorToSecond(options.asOf ?? now), now, reason: 'manual' }, state, clock, log);
  });
  if (record.result === 'failure') throw new JobFailedError(`job ${options.job} failed: ${record.summary}`);
  return record.summary;
}
