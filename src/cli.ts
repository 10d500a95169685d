#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONFIG_FILE, runOnce } from './app.js';
import { loadSetup } from './config/load.js';
import { SEVERITY_ORDER, severityRank, type Severity } from './core/catalog.js';
import { ArchiveError, ConfigError, describeError, TrailwardenError } from './core/errors.js';
import { verifyRunFolder } from './archive/verify.js';
import { verifyS3Run } from './archive/verify-s3.js';
import { registerDaemon } from './commands/daemon.js';
import { registerResend } from './commands/resend.js';
import { registerSetupAthena } from './commands/setup-athena.js';
import { parseAsOf } from './core/time.js';
import { runJobOnce } from './daemon/run-daemon.js';
import { DEMO_AS_OF, generateDemo } from './demo/generate.js';
import { createLogger } from './logger.js';
import type { RunOutcome } from './run-report.js';
import { PACKAGE_ROOT, VERSION } from './version.js';

/** Exit codes: 0 the run completed (whatever it found); 1 it could not run; 2 `--fail-on` was triggered. */
const EXIT_FAILED = 1;
const EXIT_FINDINGS = 2;

const DEMO_LOGS = path.join(PACKAGE_ROOT, '.demo', 'logs');

function asOfOption(value: string): Date {
  const date = parseAsOf(value);
  if (!date) throw new InvalidArgumentError('expected an ISO-8601 time such as 2026-11-23T08:00:00Z (or a date, 2026-11-23)');
  return date;
}

function configOption(): Option {
  return new Option('-c, --config <file>', 'configuration file (YAML)').env('TRAILWARDEN_CONFIG').default(DEFAULT_CONFIG_FILE);
}

function printOutcome(outcome: RunOutcome): void {
  const { report } = outcome;
  const lines = [
    `trailwarden: ${report.subject.replace('[trailwarden] ', '')}`,
    `  events:   ${report.events} in ${report.windowStart} → ${report.windowEnd} from ${report.filesRead} files` +
      (report.filesSkipped.length > 0 ? `; ${report.filesSkipped.length} file(s) could not be read (see the report)` : ''),
    `  report:   ${outcome.reportLocation}`,
    `  evidence: ${outcome.evidenceLocation} (${Object.keys(outcome.csvLocations).length} CSV files, manifest.json)`,
    `  email:    ${outcome.mail.location}`,
    '',
    ...report.sections.map((s) => `  ${s.status.toUpperCase().padEnd(5)} ${s.severity.padEnd(8)} ${s.id}: ${s.reason}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `--fail-on high` → exit 2 when a check of severity high or above failed, or could not be evaluated (fail closed). */
function breaches(outcome: RunOutcome, failOn: Severity | undefined): string[] {
  if (!failOn) return [];
  return outcome.findings
    .filter((f) => (f.status === 'fail' || f.status === 'error') && severityRank(f.severity) >= severityRank(failOn))
    .map((f) => `${f.checkId} (${f.status}, ${f.severity})`);
}

async function ensureDemoLogs(log: ReturnType<typeof createLogger>): Promise<void> {
  if (existsSync(path.join(DEMO_LOGS, 'AWSLogs'))) return;
  const temp = `${DEMO_LOGS}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  const started = performance.now();
  const result = await generateDemo({ outDir: temp });
  // Rename into place only when complete, so an interrupted first run regenerates instead of using half a tree.
  await rename(temp, DEMO_LOGS);
  log.info({ files: result.files, events: result.events, ms: Math.round(performance.now() - started), dir: DEMO_LOGS }, 'demo logs generated');
}

export function buildProgram(): Command {
  const program = new Command()
    .name('trailwarden')
    .description('Scheduled CloudTrail compliance checks: SQL over CloudTrail, HTML e-mail report, CSV evidence.')
    .version(VERSION)
    .showHelpAfterError();

  program
    .command('run')
    .description('run the check suite once: read the logs, judge every check, archive the evidence, mail the report')
    .addOption(configOption())
    .option('--logs <dir>', 'a local CloudTrail tree (holding AWSLogs/), instead of the configured source')
    .option('--out <dir>', 'write archive/ and outbox/ here, instead of the configured folders')
    .option('--as-of <time>', 'end of the window (ISO-8601, UTC if no zone); re-reports a past period exactly', asOfOption)
    .addOption(new Option('--fail-on <severity>', 'exit 2 when a check at or above this severity fails or errors').choices(SEVERITY_ORDER))
    .option('--job <name>', 'run one configured job (jobs.<name>) once, as of --as-of or now, record it in the state, and exit (for external schedulers)')
    .action(async (options: { config: string; logs?: string; out?: string; asOf?: Date; failOn?: Severity; job?: string }) => {
      const log = createLogger();
      if (options.job) {
        // A job runs exactly as the daemon would run it: with the configured backends, recorded in the state.
        const ignored = (['logs', 'out', 'failOn'] as const).filter((name) => options[name] !== undefined);
        if (ignored.length > 0) {
          const flags = ignored.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
          throw new ConfigError('run --job', [`${flags.join(', ')}: not used with --job (a job runs with the backends configured for it); drop ${ignored.length === 1 ? 'it' : 'them'}`]);
        }
        process.stdout.write(`trailwarden: job ${options.job}: ${await runJobOnce({ configFile: options.config, job: options.job, asOf: options.asOf }, log)}\n`);
        return;
      }
      const outcome = await runOnce({ configFile: options.config, logs: options.logs, out: options.out, asOf: options.asOf }, log);
      printOutcome(outcome);
      const breached = breaches(outcome, options.failOn);
      if (breached.length > 0) {
        process.stderr.write(`trailwarden: --fail-on ${options.failOn}: ${breached.join(', ')}\n`);
        process.exitCode = EXIT_FINDINGS;
      }
    });

  program
    .command('checks')
    .description('list the check suite (id, severity, title), after config overrides')
    .addOption(configOption())
    .action(async (options: { config: string }) => {
      const { catalog, checks } = await loadSetup(options.config);
      const enabled = new Map(checks.map((c) => [c.id, c]));
      const width = Math.max(...catalog.map((c) => c.id.length));
      for (const check of catalog) {
        const effective = enabled.get(check.id);
        const severity = (effective ?? check).severity.padEnd(8);
        process.stdout.write(`${check.id.padEnd(width)}  ${severity}  ${check.title}${effective ? '' : '  (disabled)'}\n`);
      }
    });

  program
    .command('validate')
    .description('validate the configuration and every check file, reporting all problems at once')
    .addOption(configOption())
    .action(async (options: { config: string }) => {
      const { loaded, catalog, checks } = await loadSetup(options.config);
      process.stdout.write(`${loaded.file}: valid; ${catalog.length} checks (${checks.length} enabled)\n`);
    });

  program
    .command('verify')
    .description('check a run folder (local, or s3://bucket/prefix/yyyy/mm/dd/<run-id>/) against its manifest: sizes and SHA-256 of every file')
    .argument('<run-folder>', 'e.g. out/archive/2026/11/23/<run-id> or s3://my-bucket/trailwarden/2026/11/23/<run-id>/')
    .addOption(configOption())
    .action(async (folder: string, options: { config: string }) => {
      const result = folder.startsWith('s3://') ? await verifyS3Run(folder, options.config) : await verifyRunFolder(path.resolve(folder));
      if (result.problems.length > 0) {
        process.stdout.write(`${result.problems.map((p) => `  ${p}`).join('\n')}\n`);
        throw new ArchiveError(`run ${result.runId}: ${result.problems.length} problem(s); ${result.verified.length} file(s) match the manifest`);
      }
      process.stdout.write(`OK: run ${result.runId} (as of ${result.asOf}): all ${result.verified.length} files match the manifest\n`);
    });

  program
    .command('demo')
    .description('generate demo CloudTrail logs (once, into .demo/) and run the full job on them (what `npm start` does)')
    .option('--fresh', 'regenerate the demo logs first')
    .action(async (options: { fresh?: boolean }) => {
      const log = createLogger();
      if (options.fresh) await rm(DEMO_LOGS, { recursive: true, force: true });
      await ensureDemoLogs(log);
      const asOf = parseAsOf(DEMO_AS_OF);
      const outcome = await runOnce({ configFile: DEFAULT_CONFIG_FILE, asOf }, log);
      printOutcome(outcome);
      process.stdout.write(
        [
          '',
          `The demo logs are generated, deterministic CloudTrail files in ${DEMO_LOGS} (git-ignored), reported as of ${DEMO_AS_OF}.`,
          'Open the report in a browser, or the .eml file in a mail client. To run on your own logs:',
          '  aws s3 sync s3://<your-cloudtrail-bucket>/AWSLogs ./my-logs/AWSLogs',
          '  npx trailwarden run --logs ./my-logs --out ./out',
          'On a schedule: add jobs to the config and run `npx trailwarden daemon`; on AWS (Athena, S3, SES): config/examples/aws.yaml.',
          'Settings: config/trailwarden.yaml (see README.md).',
          '',
        ].join('\n'),
      );
    });

  registerResend(program, configOption);
  registerDaemon(program, configOption);
  registerSetupAthena(program, configOption);

  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  // One line for people; the configuration errors list each problem on its own line below it.
  const message = error instanceof TrailwardenError ? error.message : describeError(error);
  process.stderr.write(`trailwarden: ${message}\n`);
  if (!(error instanceof TrailwardenError) && process.env.TRAILWARDEN_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = EXIT_FAILED;
}
