import type { Logger } from 'pino';
import type { JobConfig } from '../config/schema.js';
import { fieldsUsedBy } from '../core/cloudtrail-table.js';
import { toCloudTrailTime } from '../core/time.js';
import type { QueryEngine } from '../engines/types.js';
import type { MailTransport } from '../mail/types.js';
import type { LogSource } from '../source/types.js';
import type { StateHandle } from '../state/handle.js';
import {
  advanceWatermark,
  alertSubject,
  alertWindows,
  batchesByAccount,
  distrustedWatermark,
  markAlerted,
  rootEventsFrom,
  unalerted,
  type DistrustedWatermark,
} from '../alert/model.js';
import { alertView, type AlertRenderer } from '../alert/render.js';

/** What an alert run uses, built by the composition root. */
export interface AlertBackends {
  readonly source: LogSource;
  readonly engine: QueryEngine;
  readonly mail: MailTransport;
  readonly renderer: AlertRenderer;
  readonly state: StateHandle;
  readonly log: Logger;
  /** Called at each step boundary (`after-query`, `after-send`, `after-save`); the crash tests kill the process there. */
  readonly checkpoint?: (step: string) => void;
}

export interface AlertRequest {
  readonly jobName: string;
  readonly settings: Pick<Extract<JobConfig, { type: 'root_alert' }>, 'overlap_minutes' | 'initial_lookback_hours'>;
  /** The alert query (see query.ts), bound to `[window_start, window_end]`. */
  readonly sql: string;
  readonly runId: string;
  /** The end of the window asked for: the daemon's slot, or `run --job --as-of`. */
  readonly asOf: Date;
  /** The machine's clock when the run starts: the window never ends (and the watermark never moves) past it. */
  readonly wallClock: Date;
  readonly mailFrom: string;
  readonly mailTo: readonly string[];
  readonly toolVersion: string;
}

export interface AlertOutcome {
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Root events in the window, alerted before or now. */
  readonly rootEvents: number;
  /** Events alerted by this run. */
  readonly alerted: number;
  readonly mails: readonly { readonly account: string; readonly events: number; readonly location: string }[];
  readonly filesSkipped: number;
  /** The stored watermark, when it was ahead of the clock and therefore not trusted. */
  readonly distrusted?: DistrustedWatermark;
}

/**
 * One root-activity alert run, in the order the data flows: window from the watermark → list the logs → load
 * → the CIS 4.3 query → drop events already alerted → one mail per account → save.
 *
 * At least once, never twice: a batch's event ids are saved only after its mail was accepted, and the watermark
 * moves only after every batch was. A crash between a send and its save repeats that alert on the next run;
 * nothing is saved before a send, so no crash can lose one.
 */
export async function runRootAlert(backends: AlertBackends, request: AlertRequest): Promise<AlertOutcome> {
  const { source, engine, mail, renderer, state } = backends;
  const checkpoint = backends.checkpoint ?? (() => undefined);
  const log = backends.log.child({ runId: request.runId, job: request.jobName });
  const progress = state.job(request.jobName).alert;
  const distrusted = distrustedWatermark(progress, request.wallClock);
  if (distrusted) {
    log.warn(
      { storedWatermark: distrusted.stored, now: distrusted.now, lookbackHours: request.settings.initial_lookback_hours },
      'the stored watermark is ahead of the clock (a run "as of" the future, or the clock went back): not trusted; looking back initial_lookback_hours as a first run does',
    );
  }
  const windows = alertWindows(progress, request.asOf, request.wallClock, request.settings);
  const windowStart = toCloudTrailTime(windows.events.start);
  const windowEnd = toCloudTrailTime(windows.events.end);

  const listing = await source.list(windows.load, { fetch: engine.readsLocalFiles && !engine.fetchesOnDemand });
  const stats = await engine.loadWindow({ runId: request.runId, window: windows.load, files: listing.files, columns: fieldsUsedBy([request.sql]), source });
  const skipped = [...listing.skipped, ...stats.filesSkipped];
  // Root events in an unreadable file can't be alerted: say so where someone will look.
  for (const file of skipped) log.warn({ file: file.path, reason: file.reason }, 'log file skipped: root events in it cannot be alerted');
  const result = await engine.query(request.sql, [windowStart, windowEnd], { runId: request.runId, checkId: request.jobName });
  const events = rootEventsFrom(result);
  const fresh = unalerted(events, progress);
  log.info(
    { windowStart, windowEnd, files: stats.filesRead, events: stats.events, rootEvents: events.length, newRootEvents: fresh.length },
    'root events read',
  );
  checkpoint('after-query');

  const mails: { account: string; events: number; location: string }[] = [];
  for (const batch of batchesByAccount(fresh)) {
    const view = alertView(batch, {
      windowStart,
      windowEnd,
      generatedAt: toCloudTrailTime(request.wallClock),
      jobName: request.jobName,
      toolVersion: request.toolVersion,
    });
    const body = renderer.render(view);
    const sent = await mail.send(
      {
        from: request.mailFrom,
        to: request.mailTo,
        subject: alertSubject(batch.account),
        html: body.html,
        text: body.text,
        headers: { 'X-Trailwarden-Run-Id': request.runId, 'X-Trailwarden-Job': request.jobName },
      },
      `${request.runId}-root-${batch.account}`,
    );
    checkpoint('after-send');
    await state.updateJob(request.jobName, (job) => ({ ...job, alert: markAlerted(job.alert, batch.events) }));
    mails.push({ account: batch.account, events: batch.events.length, location: sent.location });
    log.warn({ account: batch.account, events: batch.events.length, assumedRoot: view.assumedRootCount, location: sent.location }, 'root activity alert sent');
  }

  await state.updateJob(request.jobName, (job) => ({
    ...job,
    alert: advanceWatermark(job.alert, windows.events.end, request.settings.overlap_minutes, request.wallClock),
  }));
  checkpoint('after-save');
  return {
    windowStart,
    windowEnd,
    rootEvents: events.length,
    alerted: fresh.length,
    mails,
    filesSkipped: skipped.length,
    ...(distrusted ? { distrusted } : {}),
  };
}
