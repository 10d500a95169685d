import type { Command } from 'commander';
import { withBackends } from '../app.js';
import { loadSetup } from '../config/load.js';
import { setupAthena } from '../flows/setup-athena.js';
import { createLogger } from '../logger.js';
import { configOption, dayOption } from './options.js';

/** `trailwarden setup athena [--apply]`: what a backend needs before the first run. */
export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description('create what a backend needs before the first run')
    .command('athena')
    .description(
      'print (and with --apply run) the DDL of the CloudTrail table for engine athena: partition projection, or a partitioned table with every day folder found in the bucket',
    )
    .addOption(configOption())
    .option('--apply', 'run the statements in Athena (workgroup and output location from the config)')
    .option('--since <day>', 'partitioned layout: only add day folders on or after this day (YYYY/MM/DD), e.g. yesterday in a daily job', dayOption)
    .action(async (options: { config: string; apply?: boolean; since?: string }) => {
      const { config } = (await loadSetup(options.config)).loaded;
      await withBackends(config, createLogger(), (backends) =>
        setupAthena(backends, { apply: options.apply ?? false, since: options.since }, (text) => process.stdout.write(text)),
      );
    });
}
