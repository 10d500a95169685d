import type { Command } from 'commander';
import { withBackends } from '../app.js';
import { loadSetup } from '../config/load.js';
import { ArchiveError } from '../core/errors.js';
import { verifyRun } from '../flows/verify.js';
import { createLogger } from '../logger.js';
import { configOption } from './options.js';

/** `trailwarden verify <run-folder>`: a run folder, local or in S3, against its manifest. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check a run folder (local, or s3://bucket/prefix/yyyy/mm/dd/<run-id>/) against its manifest: sizes and SHA-256 of every file')
    .argument('<run-folder>', 'e.g. out/archive/2026/11/23/<run-id> or s3://my-bucket/trailwarden/2026/11/23/<run-id>/')
    .addOption(configOption())
    .action(async (folder: string, options: { config: string }) => {
      // The config lends client settings (region, endpoint) when the folder is in S3.
      const { config } = (await loadSetup(options.config)).loaded;
      const result = await withBackends(config, createLogger(), (backends) => verifyRun(backends.archivedRunAt(folder)));
      if (result.problems.length > 0) {
        process.stdout.write(`${result.problems.map((p) => `  ${p}`).join('\n')}\n`);
        throw new ArchiveError(`run ${result.runId}: ${result.problems.length} problem(s); ${result.verified.length} file(s) match the manifest`);
      }
      process.stdout.write(`OK: run ${result.runId} (as of ${result.asOf}): all ${result.verified.length} files match the manifest\n`);
    });
}
