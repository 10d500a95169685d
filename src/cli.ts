/**
 * The command line: one `register…` per command (src/commands/), and `main`, which maps errors to exit codes.
 * Importing this module runs nothing; `bin/trailwarden.js` is the entry point that calls `main`.
 */
import { Command } from 'commander';
import { registerCatalog } from './commands/catalog.js';
import { registerDaemon } from './commands/daemon.js';
import { registerDemo } from './commands/demo.js';
import { registerResend } from './commands/resend.js';
import { registerRun } from './commands/run.js';
import { registerSetup } from './commands/setup.js';
import { registerStore } from './commands/store.js';
import { registerUsage } from './commands/usage.js';
import { registerVerify } from './commands/verify.js';
import { describeError, TrailwardenError } from './core/errors.js';
import { VERSION } from './version.js';

/** Exit codes: 0 the run completed (whatever it found); 1 it could not run; 2 `--fail-on` was triggered (commands/run.ts). */
const EXIT_FAILED = 1;

export function buildProgram(): Command {
  const program = new Command()
    .name('trailwarden')
    .description('Scheduled CloudTrail compliance checks: SQL over CloudTrail, HTML e-mail report, CSV evidence.')
    .version(VERSION)
    .showHelpAfterError();
  registerRun(program);
  registerCatalog(program);
  registerVerify(program);
  registerDemo(program);
  registerResend(program);
  registerDaemon(program);
  registerSetup(program);
  registerStore(program);
  registerUsage(program);
  return program;
}

/** Runs the command line `argv` (as `process.argv`); resolves with the exit code to leave with. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // One line for people; the configuration errors list each problem on its own line below it.
    const message = error instanceof TrailwardenError ? error.message : describeError(error);
    process.stderr.write(`trailwarden: ${message}\n`);
    if (!(error instanceof TrailwardenError) && process.env.TRAILWARDEN_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return EXIT_FAILED;
  }
}
