import { Option, type Command } from 'commander';
import { ConfigError } from '../core/errors.js';
import { SEVERITY_ORDER, severityRank, type Severity } from '../core/catalog.js';
import type { Status } from '../core/evaluate.js';
import { runJobOnce } from '../daemon/run-daemon.js';
import { runOnce, type RunOutcome } from '../flows/report.js';
import { createLogger } from '../logger.js';
import { asOfOption, configOption, printOutcome } from './options.js';

/** Exit code when `--fail-on` was triggered. */
export const EXIT_FINDINGS = 2;

/** Statuses that trigger `--fail-on`: anything but a pass on complete input (fail closed). */
const BREACHING: ReadonlySet<Status> = new Set<Status>(['fail', 'error', 'incomplete']);

/**
 * `--fail-on high` → the checks of severity high or above that failed, could not be evaluated, or were within
 * their limit on incomplete input (fail closed: none of them is a pass).
 */
function breaches(outcome: RunOutcome, failOn: Severity | undefined): string[] {
  if (!failOn) return [];
  return outcome.findings
    .filter((f) => BREACHING.has(f.status) && severityRank(f.severity) >= severityRank(failOn))
    .map((f) => `${f.checkId} (${f.status}, ${f.severity})`);
}

/** `trailwarden run`: one report run, or with `--job` one configured job. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the check suite once: read the logs, judge every check, archive the evidence, mail the report')
    .addOption(configOption())
    .option('--logs <dir>', 'a local CloudTrail tree (holding AWSLogs/), instead of the configured source')
    .option('--out <dir>', 'write archive/ and outbox/ here, instead of the configured folders')
    .option('--as-of <time>', 'end of the window (ISO-8601, UTC if no zone); re-reports a past period exactly', asOfOption)
    .addOption(new Option('--fail-on <severity>', 'exit 2 when a check at or above this severity fails, errors or is incomplete').choices(SEVERITY_ORDER))
    .option('--job <name>', 'run one configured job (jobs.<name>) once, as of --as-of or now, record it in the state, and exit (for external schedulers)')
    .action(async (options: { config: string; logs?: string; out?: string; asOf?: Date; failOn?: Severity; job?: string }) => {
      const log = createLogger();
      if (options.job) {
        // A job runs exactly as the daemon would run it: with the configured backends, recorded in the state.
        const ignored = (['logs', 'out', 'failOn'] as const).filter((name) => options[name] !== undefined);
        if (ignored.length > 0) {
          const flags = ignored.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
          throw new ConfigError('run --job', [
            `${flags.join(', ')}: not used with --job (a job runs with the backends configured for it); drop ${ignored.length === 1 ? 'it' : 'them'}`,
          ]);
        }
        process.stdout.write(
          `trailwarden: job ${options.job}: ${await runJobOnce({ configFile: options.config, job: options.job, asOf: options.asOf }, log)}\n`,
        );
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
}
