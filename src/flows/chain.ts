/**
 * The archive's manifest chains, one per job: each run's manifest records the same job's run before it (`job`: the
 * configured job's name, null for a plain `trailwarden run`) and the SHA-256 of that run's `manifest.json` bytes, so
 * removing a past run, or editing one (a CSV and its hash in the manifest), breaks the link the job's next run holds.
 * Two jobs sharing an archive (a weekly report, a daily one) never link to each other's runs.
 * `trailwarden verify --chain` walks each job's chain oldest first and names its first broken link.
 *
 * What a chain cannot show: the removal of a job's newest run (no later run vouches for it). Signed manifests
 * and S3 Object Lock cover that.
 *
 * Runs whose manifest has no `job` key (archived before it was recorded) count as plain runs (job null), as the
 * comparison with the previous run (history.ts) counts them.
 */
import { readManifest, readManifestWithBytes, sha256Hex } from '../archive/read-back.js';
import type { ArchivedRun, EvidenceArchive } from '../archive/types.js';
import { describeError } from '../core/errors.js';
import { MANIFEST_FILE, type ManifestPrevious, type StoredManifest } from '../core/manifest.js';
import { describeSigner, verifyRun, type SignedBy, type VerifyOptions } from './verify.js';

/** Past any as-of date an archive holds a folder for. */
const LAST_DAY = new Date('9999-12-31T00:00:00Z');

interface ListedRun {
  readonly runId: string;
  readonly run: ArchivedRun;
}

/**
 * Every finished run (with a manifest) of the archive, oldest first by run id (ids start with their generation
 * time): the order the chain links them in, whatever their as-of date. The run id is the run folder's name.
 */
async function runsById(archive: EvidenceArchive): Promise<ListedRun[]> {
  const runs: ListedRun[] = [];
  for await (const day of archive.runsByDay(LAST_DAY)) {
    for (const run of day)
      runs.push({
        runId: run.location
          .replace(/[\\/]+$/, '')
          .split(/[\\/]/)
          .pop()!,
        run,
      });
  }
  return runs.sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
}

const jobOf = (manifest: StoredManifest): string | null => manifest.job ?? null;

/**
 * The link a new run of `job` records: the job's newest finished run and its manifest's hash; null for the job's
 * first run. Manifests are read newest run first until one of the job: usually one or two reads, not the archive.
 * A manifest that cannot be read is passed over here; `verify --chain` names it.
 */
export async function previousLink(archive: EvidenceArchive, job: string | null): Promise<ManifestPrevious | null> {
  const runs = await runsById(archive);
  for (let i = runs.length - 1; i >= 0; i--) {
    const { runId, run } = runs[i]!;
    let read: { manifest: StoredManifest; bytes: Buffer };
    try {
      read = await readManifestWithBytes(run);
    } catch {
      continue;
    }
    if (jobOf(read.manifest) === job) return { run_id: runId, manifest_sha256: sha256Hex(read.bytes) };
  }
  return null;
}

/** One job's chain, as walked. */
export interface JobChain {
  /** The configured job, null for plain runs. */
  readonly job: string | null;
  /** Runs walked (from `from` on), oldest first. */
  readonly runs: readonly string[];
  /** The first broken link or altered run, in words naming the run; undefined when the chain holds. */
  readonly broken?: string;
  /** Runs archived before the chain existed (no `previous` key): their links cannot be checked. */
  readonly unlinked: readonly string[];
  /** The keys the walked runs were signed by (first seen first); runs without a signature are counted apart. */
  readonly signers: readonly SignedBy[];
  readonly unsigned: number;
}

export interface ChainResult {
  /** One per job found (or the one asked for), plain runs (null) first, then by name. */
  readonly jobs: readonly JobChain[];
  /** Runs whose manifest cannot be read: no job can be told, and each is a problem. */
  readonly unreadable: readonly string[];
}

export interface ChainOptions extends VerifyOptions {
  /** Start at the first run generated on or after this day (YYYY-MM-DD). */
  readonly from?: string;
  /** Only this job's chain (null: plain runs); absent: every job's. */
  readonly job?: string | null;
}

/** The run id's generation day, `YYYY-MM-DD` (ids start with `yyyymmddThhmmssZ`). */
function runDay(runId: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T/.exec(runId);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/**
 * Walks every job's chain (or one job's) oldest first from the first run generated on or after `from`: every run's
 * files and signature against its manifest, every manifest's `previous` against the job's run before it, and the
 * signing key against the one of the run before (a change of key, or signing stopped, is a broken link unless both
 * keys are trusted).
 */
export async function verifyChain(archive: EvidenceArchive, options: ChainOptions = {}): Promise<ChainResult> {
  const listed = await runsById(archive);
  const unreadable: string[] = [];
  const byJob = new Map<string | null, (ListedRun & { readonly manifest: StoredManifest })[]>();
  for (const entry of listed) {
    let manifest: StoredManifest;
    try {
      manifest = await readManifest(entry.run);
    } catch (error) {
      unreadable.push(`run ${entry.runId}: ${describeError(error)}`);
      continue;
    }
    const job = jobOf(manifest);
    if (options.job !== undefined && job !== options.job) continue;
    byJob.set(job, [...(byJob.get(job) ?? []), { ...entry, manifest }]);
  }
  const jobs = [...byJob.keys()].sort((a, b) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const chains: JobChain[] = [];
  for (const job of jobs) chains.push(await walkJob(job, byJob.get(job)!, listed, options));
  return { jobs: chains, unreadable };
}

async function walkJob(
  job: string | null,
  all: readonly (ListedRun & { readonly manifest: StoredManifest })[],
  archive: readonly ListedRun[],
  options: ChainOptions,
): Promise<JobChain> {
  const from = options.from;
  const start = from === undefined ? 0 : all.findIndex((r) => (runDay(r.runId) ?? '') >= from);
  const walked = start < 0 ? [] : all.slice(start);
  const unlinked: string[] = [];
  const names: string[] = [];
  const signers: SignedBy[] = [];
  let unsigned = 0;
  let signedBefore: SignedBy | undefined;
  const result = (broken?: string): JobChain => ({ job, runs: names, unlinked, signers, unsigned, ...(broken ? { broken } : {}) });
  for (let i = 0; i < walked.length; i++) {
    const { runId, run, manifest } = walked[i]!;
    names.push(runId);
    const fail = (why: string): JobChain => result(`run ${runId}: ${why}`);
    let files;
    try {
      files = await verifyRun(run, options);
    } catch (error) {
      return fail(describeError(error));
    }
    if (files.problems.length > 0) return fail(`it does not verify against its manifest (${files.problems.join('; ')})`);
    const signedBy = files.signedBy;
    if (signedBy) {
      if (!signers.some((s) => s.publicKeySha256 === signedBy.publicKeySha256)) signers.push(signedBy);
    } else unsigned++;
    if (i > 0 && signedBefore) {
      const before = walked[i - 1]!.runId;
      if (!signedBy) return fail(`it is not signed, but the run before it, ${before}, was signed by ${describeSigner(signedBefore)}`);
      if (signedBy.publicKeySha256 !== signedBefore.publicKeySha256 && !(signedBy.pinned && signedBefore.pinned)) {
        return fail(
          `it is signed by ${describeSigner(signedBy)}, but the run before it, ${before}, by ${describeSigner(signedBefore)}: the signing key changed (if the new key is yours, pass both with --trusted-key)`,
        );
      }
    }
    signedBefore = signedBy;
    const before = all[start + i - 1];
    if (manifest.schema !== 'trailwarden.manifest/v2' || (manifest as { previous?: unknown }).previous === undefined) {
      unlinked.push(runId);
      continue;
    }
    const link = manifest.previous ?? null;
    const named = link && archive.find((r) => r.runId === link.run_id);
    const notThisJob = named ? `, a run of another job (or one whose manifest cannot be read)` : ', which is not in the archive (removed?)';
    if (!before) {
      // The job's first run records none; a walk from --from starts past a run it cannot see.
      if (link !== null && start === 0) return fail(`its manifest names ${link.run_id} as the previous run${notThisJob}`);
      continue;
    }
    if (link === null) return fail(`its manifest names no previous run, but ${before.runId} comes before it`);
    if (link.run_id !== before.runId) {
      const sameJob = all.some((r) => r.runId === link.run_id);
      return fail(
        sameJob
          ? `its manifest names ${link.run_id} as the previous run, not ${before.runId}: ${before.runId} was added to the archive later`
          : `its manifest names ${link.run_id} as the previous run${notThisJob}`,
      );
    }
    const bytes = await before.run.read(MANIFEST_FILE);
    const sha = bytes ? sha256Hex(bytes.bytes) : undefined;
    if (sha !== link.manifest_sha256) {
      return result(
        `run ${before.runId}: its manifest was changed after run ${runId} recorded it (SHA-256 ${sha ?? 'missing'}, recorded ${link.manifest_sha256})`,
      );
    }
  }
  return result();
}
