import { createHash } from 'node:crypto';
import type { Command, Option } from 'commander';
import type { Logger } from 'pino';
import { closeBackends, withCliPaths } from '../app.js';
import { createArchive } from '../archive/index.js';
import type { ArchivedRun, EvidenceArchive } from '../archive/types.js';
import { loadSetup } from '../config/load.js';
import { ArchiveError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import { compactTime } from '../core/time.js';
import { createLogger } from '../logger.js';
import { createMailTransport } from '../mail/index.js';
import { buildReportMail, type EvidenceCsv } from '../mail/report-mail.js';
import type { MailTransport, SentMail } from '../mail/types.js';
import { ReportRenderer } from '../render/report.js';

/** The parts of manifest.json a re-send relies on. */
interface ManifestView {
  readonly run_id: string;
  readonly checks: readonly { readonly id: string; readonly file: { readonly name: string } | null }[];
  readonly files: readonly { readonly name: string; readonly sha256: string }[];
}

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

async function readManifest(run: ArchivedRun, runId: string): Promise<ManifestView> {
  let bytes: Buffer;
  try {
    bytes = await run.read('manifest.json');
  } catch (error) {
    // The manifest is written last: without it the run stopped before its evidence was complete.
    throw new ArchiveError(`run ${runId} is incomplete: ${run.location} has no manifest.json, so its evidence was never completely written and it cannot be re-sent; start a new run instead`, { cause: error });
  }
  try {
    const manifest = JSON.parse(bytes.toString('utf8')) as ManifestView;
    if (manifest.run_id !== runId || !Array.isArray(manifest.files) || !Array.isArray(manifest.checks)) throw new Error('not a manifest of this run');
    return manifest;
  } catch (error) {
    throw new ArchiveError(`run ${runId}: ${run.location}/manifest.json is not a valid trailwarden manifest`, { cause: error });
  }
}

/** Reads a file of the run and checks it against the manifest: a re-send never mails evidence that changed since. */
async function readVerified(run: ArchivedRun, manifest: ManifestView, name: string): Promise<Buffer> {
  const entry = manifest.files.find((file) => file.name === name);
  if (!entry) throw new ArchiveError(`run ${manifest.run_id}: ${name} is not in its manifest (a run from before re-sending existed cannot be re-sent)`);
  const bytes = await run.read(name);
  if (createHash('sha256').update(bytes).digest('hex') !== entry.sha256) {
    throw new ArchiveError(`run ${manifest.run_id}: ${name} no longer matches its SHA-256 in the manifest; not re-sending altered evidence (check the folder with trailwarden verify)`);
  }
  return bytes;
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
  const manifest = await readManifest(run, request.runId);
  const report = JSON.parse((await readVerified(run, manifest, 'report.json')).toString('utf8')) as Report;

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
  log.info({ evidence: run.location, location: sent.location, evidenceMode: sent.attachmentsDropped ? 'linked' : built.evidence, transport: mail.describe() }, 'report re-sent');
  return sent;
}

/** `trailwarden resend <run-id>`: registered on the CLI's program; `configOption` is the CLI's shared --config option. */
export function registerResend(program: Command, configOption: () => Option): void {
  program
    .command('resend')
    .description("re-send a finished run's report e-mail from its archived report.json and CSVs, without running the checks again")
    .argument('<run-id>', 'e.g. 20261124T080000Z-1a2b3c4d (named in the log when mail failed)')
    .addOption(configOption())
    .option('--out <dir>', 'the --out folder the run used (its archive/ and outbox/)')
    .action(async (runId: string, options: { config: string; out?: string }) => {
      const log = createLogger();
      const setup = await loadSetup(options.config);
      const { config } = withCliPaths(setup.loaded, { out: options.out });
      const mail = createMailTransport(config.mail);
      const archive = createArchive(config.archive, { log });
      let sent;
      try {
        sent = await resendRun(
          { archive, mail, renderer: await ReportRenderer.load(), log },
          { runId, mailFrom: config.mail.from, mailTo: config.mail.to, attachMaxBytes: config.mail.attach_max_bytes, now: new Date() },
        );
      } finally {
        await closeBackends(log, archive, mail);
      }
      process.stdout.write(`trailwarden: re-sent the report of run ${runId}: ${sent.location}\n`);
    });
}
