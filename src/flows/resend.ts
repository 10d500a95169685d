import path from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_CONFIG_FILE } from '../app.js';
import { readManifest, readVerified } from '../archive/read-back.js';
import type { EvidenceArchive } from '../archive/types.js';
import { ArchiveError } from '../core/errors.js';
import { reportFromJson } from '../core/report.js';
import { compactTime } from '../core/time.js';
import { buildReportMail, type EvidenceCsv } from '../mail/report-mail.js';
import type { MailTransport, SentMail } from '../mail/types.js';
import type { ReportRenderer } from '../render/report.js';

/** What a re-send needs: where the run is, how to send, who gets it. */
export interface ResendRequest {
  readonly runId: string;
  readonly mailFrom: string;
  readonly mailTo: readonly string[];
  readonly attachMaxBytes: number;
  /** When the re-send happens: names the outbox file, so the original `<run-id>.eml` is never overwritten. */
  readonly now: Date;
}

export interface ResendBackends {
  readonly archive: EvidenceArchive;
  readonly mail: MailTransport;
  readonly renderer: ReportRenderer;
  readonly log: Logger;
}

/** A path as one shell word. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The exact command that re-sends a run's e-mail with the same configuration and `--out`. */
export function resendCommand(runId: string, options: { readonly configFile: string; readonly out?: string }): string {
  const words = ['trailwarden', 'resend', runId];
  if (path.resolve(options.configFile) !== DEFAULT_CONFIG_FILE) words.push('--config', shellWord(path.resolve(options.configFile)));
  if (options.out) words.push('--out', shellWord(path.resolve(options.out)));
  return words.join(' ');
}

/**
 * Re-sends a finished run's report e-mail from its archive: report.json and the CSVs (verified against the
 * manifest), with fresh links, through the configured transport. The checks are not run again.
 */
export async function resendRun(backends: ResendBackends, request: ResendRequest): Promise<SentMail> {
  const { archive, mail, renderer } = backends;
  const log = backends.log.child({ runId: request.runId });
  const run = await archive.findRun(request.runId);
  if (!run) throw new ArchiveError(`no run ${request.runId} in the archive (${archive.describe()})`);
  const manifest = await readManifest(run);
  if (manifest.run_id !== request.runId) throw new ArchiveError(`${run.location}: its manifest is of run ${manifest.run_id}, not ${request.runId}`);
  const report = reportFromJson(JSON.parse((await readVerified(run, manifest, 'report.json')).toString('utf8')));

  const csvs: EvidenceCsv[] = [];
  for (const check of manifest.checks) {
    if (check.file) csvs.push({ checkId: check.id, name: check.file.name, content: await readVerified(run, manifest, check.file.name) });
  }
  const built = await buildReportMail({
    report,
    renderer,
    from: request.mailFrom,
    to: request.mailTo,
    csvs,
    attachMaxBytes: request.attachMaxBytes,
    link: (name) => run.link(name),
    resent: true,
  });
  const sent = await mail.send(built.message, `${request.runId}.resent-${compactTime(request.now)}`);
  log.info(
    { evidence: run.location, location: sent.location, evidenceMode: sent.attachmentsDropped ? 'linked' : built.evidence, transport: mail.describe() },
    'report re-sent',
  );
  return sent;
}
