import type { Command } from 'commander';
import { runDaemon } from '../daemon/run-daemon.js';
import { createLogger } from '../logger.js';
import { configOption } from './options.js';

/** `trailwarden daemon`. `run --job <name>` lives on the `run` command (see runJobOnce). */
export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('run the configured jobs (jobs.<name>) on their cron schedules until SIGTERM/SIGINT, with a health endpoint')
    .addOption(configOption())
    .action(async (options: { config: string }) => {
      const code = await runDaemon({ configFile: options.config }, createLogger());
      // An interrupted job (grace period over) may still hold the event loop: leave explicitly.
      process.exit(code);
    });
}
