import type { Logger } from 'pino';
import { Backends, withBackends } from '../app.js';
import { setLogger } from 'node-cron';
import { configuredJobs, loadSetup, type SetupDocument } from '../config/load.js';
import { JobFailedError } from '../core/errors.js';
import { floorToSecond, toCloudTrailTime } from '../core/time.js';
import { StateHandle } from '../state/handle.js';
import { systemClock, type Clock } from './clock.js';
import { startHealthServer } from './health-server.js';
import { buildJob, buildJobs, dropWatermarksAheadOfClock } from './jobs.js';
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
  const setup = await loadSetup(options.configFile, {
    check: (document) =>
      Object.keys(configuredJobs(document)).length > 0
        ? []
        : [
            'jobs: no jobs configured; add e.g. jobs.weekly: { type: report, schedule: "0 8 * * 1", timezone: Europe/Berlin } (see README.md, "Running on a schedule")',
          ],
  });
  const config = setup.loaded.config;
  // The state lives as long as the daemon; each job run opens (and closes) backends of its own.
  const lifetime = new Backends(config, log);
  const state = await StateHandle.open(lifetime.state());
  // The signing key is checked now, not at the first report hours later: an unreadable key file or a KMS key the
  // daemon may not use refuses the start. Each run fetches the key again (a re-pointed alias is then recorded).
  const signing = await lifetime.signer()?.identity();
  if (signing)
    log.info(
      { kind: signing.kind, keyId: signing.key_id, algorithm: signing.algorithm, publicKeySha256: signing.public_key_sha256 },
      'manifests will be signed',
    );
  await dropWatermarksAheadOfClock({ setup, state, log }, clock.now());
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
  /** Problems the command already found in its flags: reported together with the config's. */
  readonly problems?: readonly string[];
}

/** What `run --job` requires of its flags against the config: a configured job, and an alert never "as of" the future. */
function runJobProblems(document: SetupDocument, options: RunJobOptions, now: Date): string[] {
  const jobs = configuredJobs(document);
  if (!Object.hasOwn(jobs, options.job)) {
    const known = Object.keys(jobs);
    return [`--job: no job "${options.job}" in ${document.file} (configured: ${known.length > 0 ? known.join(', ') : 'none; add jobs.<name>'})`];
  }
  if (jobs[options.job]?.type === 'root_alert' && options.asOf && options.asOf.getTime() > now.getTime()) {
    return [
      `--as-of: ${toCloudTrailTime(options.asOf)} is in the future (now ${toCloudTrailTime(now)}): the root alert reads up to the time it runs, never ahead of it — a window that ends in the future would move its watermark there, and every later run would read nothing. Drop --as-of, or give a time in the past`,
    ];
  }
  return [];
}

/**
 * `trailwarden run --job <name>`: one run of one configured job, recorded in the state like a daemon's run,
 * for external schedulers (Kubernetes CronJob, ECS scheduled task, EventBridge). Throws when the run failed.
 */
export async function runJobOnce(options: RunJobOptions, log: Logger): Promise<string> {
  const clock = options.clock ?? systemClock;
  const now = clock.now();
  // Refused here, before anything is opened or recorded: flags, the config and the job name, all at once.
  const setup = await loadSetup(options.configFile, { problems: options.problems, check: (document) => runJobProblems(document, options, now) });
  const jobConfig = setup.loaded.config.jobs[options.job]!;
  const record = await withBackends(setup.loaded.config, log, async (lifetime) => {
    const state = await StateHandle.open(lifetime.state());
    const job = await buildJob(options.job, jobConfig, { configFile: options.configFile, setup, state, log });
    return runAndRecord(job, { scheduledFor: floorToSecond(options.asOf ?? now), now, reason: 'manual' }, state, clock, log);
  });
  if (record.result === 'failure') throw new JobFailedError(`job ${options.job} failed: ${record.summary}`);
  return record.summary;
}
