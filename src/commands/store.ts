import { InvalidArgumentError, type Command } from 'commander';
import { withBackends, withCliPaths } from '../app.js';
import { loadSetup } from '../config/load.js';
import { formatMegabytes } from '../core/cost.js';
import { isoDate } from '../core/time.js';
import { formatStatus, storePrune, storeRebuild, storeStatus } from '../flows/store.js';
import { createLogger } from '../logger.js';
import { configOption, dayOption } from './options.js';

function daysOption(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1) throw new InvalidArgumentError('expected a whole number of days, at least 1');
  return days;
}

interface StoreFlags {
  config: string;
  logs?: string;
  out?: string;
}

async function configFor(flags: StoreFlags) {
  return withCliPaths((await loadSetup(flags.config)).loaded, { logs: flags.logs, out: flags.out }).config;
}

/** `trailwarden store status|rebuild|prune`: the columnar store the DuckDB engine reads. */
export function registerStore(program: Command): void {
  const store = program.command('store').description('the columnar store of converted logs (DuckDB engine): status, rebuild, prune');
  const common = (command: Command) =>
    command
      .addOption(configOption())
      .option('--logs <dir>', 'a local CloudTrail tree (holding AWSLogs/), instead of the configured source')
      .option('--out <dir>', 'the store is <dir>/store, as for run --out');

  common(store.command('status').description('days, events, size and skipped delivery files per account and region')).action(async (flags: StoreFlags) => {
    const status = await withBackends(await configFor(flags), createLogger(), storeStatus);
    process.stdout.write(formatStatus(status));
  });

  common(store.command('rebuild').description('convert the days --from..--to again from the raw logs, whatever is stored'))
    .requiredOption('--from <day>', 'first delivery day (YYYY-MM-DD)', dayOption)
    .option('--to <day>', 'last delivery day (YYYY-MM-DD); default: today (UTC)', dayOption)
    .action(async (flags: StoreFlags & { from: string; to?: string }) => {
      const to = flags.to ?? isoDate(new Date()).replaceAll('-', '/');
      if (to < flags.from) throw new InvalidArgumentError(`--to ${to} is before --from ${flags.from}`);
      const result = await withBackends(await configFor(flags), createLogger(), (backends) => storeRebuild(backends, { from: flags.from, to }));
      process.stdout.write(`trailwarden: store rebuilt: ${result.partitions} partition(s) from ${result.files} delivery file(s), ${flags.from} to ${to}\n`);
    });

  common(store.command('prune').description('remove the partitions of delivery days older than --keep-days days'))
    .requiredOption('--keep-days <n>', 'keep this many days before today (UTC)', daysOption)
    .action(async (flags: StoreFlags & { keepDays: number }) => {
      const result = await withBackends(await configFor(flags), createLogger(), (backends) => storePrune(backends, flags.keepDays, new Date()));
      process.stdout.write(
        `trailwarden: store pruned: ${result.partitions} partition(s) of days before ${result.before} removed (${formatMegabytes(result.bytes)})\n`,
      );
    });
}
