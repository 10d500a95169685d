import type { Logger } from 'pino';
import { newRunId, withBackends } from '../app.js';
import { distrustedWatermark, trustedProgress } from '../alert/model.js';
import { rootAlertSql, rootCheckFrom } from '../alert/query.js';
import { AlertRenderer } from '../alert/render.js';
import { runOnce } from '../flows/report.js';
import { runRootAlert } from '../flows/root-alert.js';
import type { Setup } from '../config/load.js';
import type { JobConfig } from '../config/schema.js';
import { ReportRenderer } from '../render/report.js';
import type { StateHandle } from '../state/handle.js';
import { VERSION } from '../version.js';
import { CronSchedule } from '../core/cron.js';
import type { DaemonJob } from './scheduler.js';
import { crashPoint, testGate } from './test-hooks.js';

export interface JobDependencies {
  readonly configFile: string;
  readonly setup: Setup;
  readonly state: StateHandle;
  readonly log: Logger;
}

/** A configured job (`jobs.<name>`) as something the scheduler (or `run --job`) can run. */
export async function buildJob(name: string, config: JobConfig, deps: JobDependencies): Promise<DaemonJob> {
  const schedule = new CronSchedule(config.schedule, config.timezone);
  const { setup, log } = deps;
  const settings = setup.loaded.config;
  if (config.type === 'report') {
    // Compiled once, like the alert's templates: a daemon runs for months.
    const renderer = await ReportRenderer.load();
    return {
      name,
      type: config.type,
      schedule,
      catchUp: true,
      async run(context) {
        await testGate();
        // As of the slot, not of the moment the timer fired: a caught-up report covers exactly the missed week.
        const outcome = await runOnce(
          { configFile: deps.configFile, setup, renderer, asOf: context.scheduledFor, now: context.now, job: name },
          log.child({ job: name }),
        );
        return { summary: `${outcome.report.subject} (evidence: ${outcome.evidenceLocation}; mail: ${outcome.mail.location})` };
      },
    };
  }
  const sql = rootAlertSql(rootCheckFrom(setup.catalog, `jobs.${name}`));
  const renderer = await AlertRenderer.load();
  return {
    name,
    type: config.type,
    schedule,
    catchUp: false,
    async run(context) {
      const jobLog = log.child({ job: name });
      // Built per run, like the report's: nothing (DuckDB memory, connections) is held between runs.
      return withBackends(settings, jobLog, async (backends) => {
        // Mail first: a missing SMTP credential variable is a configuration error before the engine starts.
        const mail = backends.mail();
        const engine = await backends.engine();
        const outcome = await runRootAlert(
          { source: backends.source(), engine, mail, renderer, state: deps.state, log: jobLog, checkpoint: crashPoint },
          {
            jobName: name,
            settings: config,
            sql,
            runId: newRunId(context.now),
            // As of the slot, like a report, but never past the clock (see alertWindows).
            asOf: context.scheduledFor,
            wallClock: context.now,
            mailFrom: settings.mail.from,
            mailTo: config.to ?? settings.mail.to,
            toolVersion: VERSION,
          },
        );
        const mails = outcome.mails.map((m) => `${m.account}: ${m.events} → ${m.location}`).join('; ');
        const distrusted = outcome.distrusted
          ? `; the stored watermark ${outcome.distrusted.stored} was ahead of the clock: looked back ${config.initial_lookback_hours} h instead`
          : '';
        return {
          summary: `${outcome.alerted} new root event(s) of ${outcome.rootEvents} in ${outcome.windowStart} → ${outcome.windowEnd}${mails ? ` (${mails})` : ''}${outcome.filesSkipped ? `; ${outcome.filesSkipped} file(s) unreadable` : ''}${distrusted}`,
        };
      });
    },
  };
}

/**
 * At the daemon's start: drops each root alert watermark that is ahead of the clock (written by a run "as of" the
 * future, or under a clock that has since gone back), with a warning, so the first run looks back
 * `initial_lookback_hours` and /health is not red until then. Alerted ids are kept (no re-alert of what they cover).
 */
export async function dropWatermarksAheadOfClock(deps: Pick<JobDependencies, 'setup' | 'state' | 'log'>, now: Date): Promise<void> {
  for (const [name, config] of Object.entries(deps.setup.loaded.config.jobs)) {
    if (config.type !== 'root_alert') continue;
    const distrusted = distrustedWatermark(deps.state.job(name).alert, now);
    if (!distrusted) continue;
    deps.log.warn(
      { job: name, storedWatermark: distrusted.stored, now: distrusted.now, lookbackHours: config.initial_lookback_hours },
      'the stored root alert watermark is ahead of the clock (a run "as of" the future, or the clock went back): dropped; the next run looks back initial_lookback_hours',
    );
    await deps.state.updateJob(name, (job) => ({ ...job, alert: trustedProgress(job.alert, now) }));
  }
}

/** Every job of the config. */
export async function buildJobs(deps: JobDependencies): Promise<DaemonJob[]> {
  const jobs: DaemonJob[] = [];
  for (const [name, config] of Object.entries(deps.setup.loaded.config.jobs)) jobs.push(await buildJob(name, config, deps));
  return jobs;
}
