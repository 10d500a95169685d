import type { Command } from 'commander';
import { withBackends } from '../app.js';
import { loadSetup } from '../config/load.js';
import { ArchiveError } from '../core/errors.js';
import { verifyChain } from '../flows/chain.js';
import { verifyRun } from '../flows/verify.js';
import { createLogger } from '../logger.js';
import { configOption } from './options.js';

/** `trailwarden verify <run-folder>`: a run folder, local or in S3, against its manifest. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'check a run folder (local, or s3://bucket/prefix/yyyy/mm/dd/<run-id>/) against its manifest: sizes and SHA-256 of every file; with --chain, every run of the configured archive and the chain of manifests linking them',
    )
    .argument('[run-folder]', 'e.g. out/archive/2026/11/23/<run-id> or s3://my-bucket/trailwarden/2026/11/23/<run-id>/')
    .option('--chain', "walk the archive's manifest chain, oldest run first, and name the first broken link")
    .option('--from <date>', 'with --chain: start at the first run generated on or after this day (YYYY-MM-DD)')
    .addOption(configOption())
    .action(async (folder: string | undefined, options: { config: string; chain?: boolean; from?: string }) => {
      // The config lends client settings (region, endpoint) when the folder is in S3, and names the archive for --chain.
      const { config } = (await loadSetup(options.config)).loaded;
      if (options.chain) {
        if (options.from !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.from))
          throw new ArchiveError(`--from: expected a day such as 2026-11-23, found "${options.from}"`);
        const chain = await withBackends(config, createLogger(), (backends) => verifyChain(backends.archive(), options.from));
        if (chain.broken) throw new ArchiveError(`the manifest chain is broken: ${chain.broken}`);
        const unlinked = chain.unlinked.length > 0 ? `; ${chain.unlinked.length} run(s) from before the chain are not linked` : '';
        process.stdout.write(`OK: ${chain.runs.length} run(s) and the manifest chain linking them are intact${unlinked}\n`);
        return;
      }
      if (!folder) throw new ArchiveError('verify: name a run folder, or pass --chain to verify the whole archive');
      const result = await withBackends(config, createLogger(), (backends) => verifyRun(backends.archivedRunAt(folder)));
      if (result.problems.length > 0) {
        process.stdout.write(`${result.problems.map((p) => `  ${p}`).join('\n')}\n`);
        throw new ArchiveError(`run ${result.runId}: ${result.problems.length} problem(s); ${result.verified.length} file(s) match the manifest`);
      }
      process.stdout.write(`OK: run ${result.runId} (as of ${result.asOf}): all ${result.verified.length} files match the manifest\n`);
    });
}
