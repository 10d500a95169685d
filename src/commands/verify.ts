import { readFile } from 'node:fs/promises';
import { createPublicKey } from 'node:crypto';
import type { Command } from 'commander';
import { withBackends } from '../app.js';
import { loadSetup } from '../config/load.js';
import { ArchiveError, ConfigError, describeError } from '../core/errors.js';
import { verifyChain, type JobChain } from '../flows/chain.js';
import { describeSigner, verifyRun, type SignedBy } from '../flows/verify.js';
import { createLogger } from '../logger.js';
import { publicKeyFingerprint, spkiDer } from '../signing/public-key.js';
import { configOption } from './options.js';

interface VerifyFlags {
  config: string;
  chain?: boolean;
  from?: string;
  job?: string;
  trustedKey: string[];
}

/** The fingerprints (SHA-256 of SPKI DER) of the PEM public keys given with --trusted-key. */
async function trustedKeys(files: readonly string[]): Promise<Set<string> | undefined> {
  if (files.length === 0) return undefined;
  const fingerprints = new Set<string>();
  const problems: string[] = [];
  for (const file of files) {
    try {
      fingerprints.add(publicKeyFingerprint(spkiDer(createPublicKey({ key: await readFile(file), format: 'pem' }))));
    } catch (error) {
      problems.push(`${file}: expected a PEM public key (openssl pkey -pubout), ${describeError(error)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError('--trusted-key', problems);
  return fingerprints;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function signerLine(signer: SignedBy): string {
  return `signed by ${describeSigner(signer)}${signer.pinned === undefined ? ', signer not pinned' : ', trusted key'}`;
}

function jobLine(chain: JobChain): string {
  const name = chain.job === null ? 'plain runs' : `job ${chain.job}`;
  const unlinked = chain.unlinked.length > 0 ? `; ${chain.unlinked.length} run(s) from before the chain are not linked` : '';
  const signed =
    chain.signers.length > 0
      ? `; ${chain.signers.map(signerLine).join('; ')}${chain.unsigned > 0 ? `; ${chain.unsigned} run(s) not signed` : ''}`
      : chain.runs.length > 0
        ? '; not signed'
        : '';
  return `${name}: ${chain.runs.length} run(s) verified${chain.broken ? `, BROKEN: ${chain.broken}` : ', chain intact'}${unlinked}${signed}`;
}

/** `trailwarden verify <run-folder>`: a run folder, local or in S3, against its manifest and signature. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      "check a run folder (local, or s3://bucket/prefix/yyyy/mm/dd/<run-id>/) against its manifest: sizes and SHA-256 of every file, and the manifest's signature when it has one; with --chain, every run of the configured archive and each job's chain of manifests linking them",
    )
    .argument('[run-folder]', 'e.g. out/archive/2026/11/23/<run-id> or s3://my-bucket/trailwarden/2026/11/23/<run-id>/')
    .option('--chain', "walk each job's manifest chain in the archive, oldest run first, and name its first broken link")
    .option('--from <date>', 'with --chain: start at the first run generated on or after this day (YYYY-MM-DD)')
    .option('--job <name>', 'with --chain: only this job\'s chain ("-" for plain `trailwarden run` runs)')
    .option('--trusted-key <file>', 'a PEM public key signatures must be by (repeat for several); without it the signer is not pinned', collect, [])
    .addOption(configOption())
    .action(async (folder: string | undefined, options: VerifyFlags) => {
      // The config lends client settings (region, endpoint) when the folder is in S3, and names the archive for --chain.
      const { config } = (await loadSetup(options.config)).loaded;
      const trusted = await trustedKeys(options.trustedKey);
      if (options.chain) {
        if (options.from !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.from))
          throw new ArchiveError(`--from: expected a day such as 2026-11-23, found "${options.from}"`);
        const job = options.job === undefined ? undefined : options.job === '-' ? null : options.job;
        const result = await withBackends(config, createLogger(), (backends) =>
          verifyChain(backends.archive(), {
            ...(options.from !== undefined ? { from: options.from } : {}),
            ...(job !== undefined ? { job } : {}),
            ...(trusted ? { trustedKeys: trusted } : {}),
          }),
        );
        const lines = [
          ...result.jobs.map(jobLine),
          ...result.unreadable.map((u) => `unreadable: ${u}`),
          // Honest about the limit: nothing after a job's newest run vouches for it.
          'the newest run of each job has no later run to vouch for it: its removal cannot be seen in the chain (signed manifests and S3 Object Lock cover that)',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        const broken = [...result.jobs.flatMap((c) => (c.broken ? [c.broken] : [])), ...result.unreadable];
        if (broken.length > 0) throw new ArchiveError(`the manifest chain is broken: ${broken.join('; ')}`);
        if (result.jobs.length === 0 && job !== undefined)
          throw new ArchiveError(`no finished runs of ${job === null ? 'plain runs' : `job ${job}`} in the archive`);
        const runs = result.jobs.reduce((n, c) => n + c.runs.length, 0);
        process.stdout.write(`OK: ${runs} run(s) in ${result.jobs.length} chain(s) and the manifest chains linking them are intact\n`);
        return;
      }
      if (!folder) throw new ArchiveError('verify: name a run folder, or pass --chain to verify the whole archive');
      const result = await withBackends(config, createLogger(), (backends) =>
        verifyRun(backends.archivedRunAt(folder), trusted ? { trustedKeys: trusted } : {}),
      );
      if (result.problems.length > 0) {
        process.stdout.write(`${result.problems.map((p) => `  ${p}`).join('\n')}\n`);
        throw new ArchiveError(`run ${result.runId}: ${result.problems.length} problem(s); ${result.verified.length} file(s) match the manifest`);
      }
      const signed = result.signedBy ? `; ${signerLine(result.signedBy)}` : '; not signed';
      process.stdout.write(`OK: run ${result.runId} (as of ${result.asOf}): all ${result.verified.length} files match the manifest${signed}\n`);
    });
}
