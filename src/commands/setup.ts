import { InvalidArgumentError, type Command } from 'commander';
import { withBackends } from '../app.js';
import { loadSetup } from '../config/load.js';
import { setupAthena } from '../flows/setup-athena.js';
import { createLogger } from '../logger.js';
import { configOption } from './options.js';

function sinceOption(value: string): string {
  const day = value.replaceAll('-', '/');
  if (!/^\d{4}\/\d{2}\/\d{2}$/.test(day)) throw new InvalidArgumentError('expected a day as YYYY/MM/DD (or YYYY-MM-DD)');
  return day;
}

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
    .option('--since <day>', 'partitioned layout: only add day folders on or after this day (YYYY/MM/DD), e.g. yesterday in a daily job', sinceOption)
    .action(async (options: { config: string; apply?: boolean; since?: string }) => {
      const { config } = (await loadSetup(options.config)).loaded;
      await withBackends(config, createLogger(), (backends) =>
        setupAthena(backends, { apply: options.apply ?? false, since: options.since }, (text) => process.stdout.write(text)),
      );
    });
}
