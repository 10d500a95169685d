import type { Command } from 'commander';
import { loadSetup } from '../config/load.js';
import { Severity, SEVERITY_ORDER, severityRank } from '../core/catalog.js';
import type { Status } from '../core/evaluate.js';
import { parseAsOf } from '../core/time.js';
import { runJobOnce } from '../daemon/run-daemon.js';
import { runOnce, type RunOutcome } from '../flows/report.js';
import { createLogger } from '../logger.js';
import { AS_OF_EXPECTED, configOption, printOutcome } from './options.js';

/** Exit code when `--fail-on` was triggered. */
export const EXIT_FINDINGS = 2;

/** Statuses that trigger `--fail-on`: anything but a pass on complete input (fail closed). `not_run` judged nothing and does not. */
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

/** The flags as given, before they are judged (so that their problems are reported with the config's). */
interface RunFlags {
  config: string;
  logs?: string;
  out?: string;
  /** false with --no-store */
  store?: boolean;
  inventory?: string;
  rehash?: boolean;
  asOf?: string;
  failOn?: string;
  job?: string;
}

/** `--as-of` and `--fail-on` read, and every problem with the flags, each naming its flag. */
function readFlags(flags: RunFlags): { asOf?: Date; failOn?: Severity; problems: string[] } {
  const problems: string[] = [];
  const asOf = flags.asOf === undefined ? undefined : parseAsOf(flags.asOf);
  if (flags.asOf !== undefined && !asOf) problems.push(`--as-of: ${JSON.stringify(flags.asOf)}: ${AS_OF_EXPECTED}`);
  const failOn = Severity.safeParse(flags.failOn);
  if (flags.failOn !== undefined && !failOn.success) problems.push(`--fail-on: ${JSON.stringify(flags.failOn)}: expected one of ${SEVERITY_ORDER.join(', ')}`);
  if (flags.job) {
    // A job runs exactly as the daemon would run it: with the configured backends, recorded in the state.
    const ignored: string[] = (['logs', 'out', 'inventory', 'failOn', 'rehash'] as const).filter((name) => flags[name] !== undefined);
    if (flags.store === false) ignored.push('noStore');
    if (ignored.length > 0) {
      const names = ignored.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      problems.push(`${names.join(', ')}: not used with --job (a job runs with the backends configured for it); drop ${ignored.length === 1 ? 'it' : 'them'}`);
    }
  }
  return { asOf, failOn: failOn.success ? failOn.data : undefined, problems };
}

/** `trailwarden run`: one report run, or with `--job` one configured job. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the check suite once: read the logs, judge every check, archive the evidence, mail the report')
    .addOption(configOption())
    .option('--logs <dir>', 'a local CloudTrail tree (holding AWSLogs/), instead of the configured source')
    .option('--out <dir>', 'write archive/, outbox/ and store/ here, instead of the configured folders')
    .option('--no-store', 'read the raw logs of the window, not the columnar store (as without store: in the config)')
    .option('--inventory <dir>', 'a folder of `aws iam get-account-authorization-details` outputs (one per account), instead of the configured inventory')
    .option('--rehash', 'hash every log file again for log file validation, not only those changed since the store recorded their hashes')
    // Both read in the action, not by commander, so that their problems are reported with the config's.
    .option('--as-of <time>', 'end of the window (ISO-8601, UTC if no zone); re-reports a past period exactly')
    .option('--fail-on <severity>', `exit 2 when a check at or above this severity fails, errors or is incomplete (${SEVERITY_ORDER.join(', ')})`)
    .option('--job <name>', 'run one configured job (jobs.<name>) once, as of --as-of or now, record it in the state, and exit (for external schedulers)')
    .action(async (flags: RunFlags) => {
      const log = createLogger();
      const { asOf, failOn, problems } = readFlags(flags);
      if (flags.job) {
        process.stdout.write(`trailwarden: job ${flags.job}: ${await runJobOnce({ configFile: flags.config, job: flags.job, asOf, problems }, log)}\n`);
        return;
      }
      const setup = await loadSetup(flags.config, { problems });
      const outcome = await runOnce(
        {
          configFile: flags.config,
          setup,
          logs: flags.logs,
          out: flags.out,
          noStore: flags.store === false,
          inventory: flags.inventory,
          rehash: flags.rehash,
          asOf,
        },
        log,
      );
      printOutcome(outcome);
      const breached = breaches(outcome, failOn);
      if (breached.length > 0) {
        process.stderr.write(`trailwarden: --fail-on ${failOn}: ${breached.join(', ')}\n`);
        process.exitCode = EXIT_FINDINGS;
      }
    });
}
