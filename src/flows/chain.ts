/**
 * The archive's manifest chain: each run's manifest records the run before it and the SHA-256 of that run's
 * `manifest.json` bytes, so removing a past run, or editing one (a CSV and its hash in the manifest), breaks the link
 * that the next run holds. `trailwarden verify --chain` walks it oldest first and names the first broken link.
 */
import { readManifest, sha256Hex } from '../archive/read-back.js';
import type { ArchivedRun, EvidenceArchive } from '../archive/types.js';
import { describeError } from '../core/errors.js';
import { MANIFEST_FILE, type ManifestPrevious } from '../core/manifest.js';
import { verifyRun } from './verify.js';

/** Past any as-of date an archive holds a folder for. */
const LAST_DAY = new Date('9999-12-31T00:00:00Z');

/**
 * Every finished run (with a manifest) of the archive, oldest first by run id (ids start with their generation
 * time): the order the chain links them in. The run id is the run folder's name, the last part of its location.
 */
async function runsById(archive: EvidenceArchive): Promise<{ readonly runId: string; readonly run: ArchivedRun }[]> {
  const runs: { runId: string; run: ArchivedRun }[] = [];
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

/** The link a new run records: the archive's newest finished run and its manifest's hash; null for the first run. */
export async function previousLink(archive: EvidenceArchive): Promise<ManifestPrevious | null> {
  const runs = await runsById(archive);
  const last = runs[runs.length - 1];
  if (!last) return null;
  const stored = await last.run.read(MANIFEST_FILE);
  if (!stored) return null;
  return { run_id: last.runId, manifest_sha256: sha256Hex(stored.bytes) };
}

export interface ChainResult {
  /** Runs walked (from `from` on), oldest first. */
  readonly runs: readonly string[];
  /** The first broken link or altered run, in words naming the run; undefined when the chain holds. */
  readonly broken?: string;
  /** Runs archived before the chain existed (no `previous` key): their links cannot be checked. */
  readonly unlinked: readonly string[];
}

/** The run id's generation day, `YYYY-MM-DD` (ids start with `yyyymmddThhmmssZ`). */
function runDay(runId: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T/.exec(runId);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/**
 * Walks the chain oldest first from the first run generated on or after `from` (YYYY-MM-DD): every run's files
 * against its manifest, and every manifest's `previous` against the run before it.
 */
export async function verifyChain(archive: EvidenceArchive, from?: string): Promise<ChainResult> {
  const all = await runsById(archive);
  const start =
    from === undefined
      ? 0
      : Math.max(
          0,
          all.findIndex((r) => (runDay(r.runId) ?? '') >= from),
        );
  const walked = from !== undefined && all.every((r) => (runDay(r.runId) ?? '') < from) ? [] : all.slice(start);
  const unlinked: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < walked.length; i++) {
    const { runId, run } = walked[i]!;
    names.push(runId);
    const fail = (why: string): ChainResult => ({ runs: names, broken: `run ${runId}: ${why}`, unlinked });
    let manifest;
    try {
      manifest = await readManifest(run);
    } catch (error) {
      return fail(describeError(error));
    }
    const files = await verifyRun(run);
    if (files.problems.length > 0) return fail(`its files do not match its manifest (${files.problems.join('; ')})`);
    const before = all[start + i - 1];
    if (manifest.schema !== 'trailwarden.manifest/v2' || (manifest as { previous?: unknown }).previous === undefined) {
      unlinked.push(runId);
      continue;
    }
    const link = manifest.previous ?? null;
    if (!before) {
      // The archive's first run records none; a walk from --from starts past a run it cannot see.
      if (link !== null && start === 0) return fail(`its manifest names ${link.run_id} as the previous run, which is not in the archive (removed?)`);
      continue;
    }
    if (link === null) return fail(`its manifest names no previous run, but ${before.runId} comes before it`);
    if (link.run_id !== before.runId) {
      const named = all.find((r) => r.runId === link.run_id);
      return fail(
        named
          ? `its manifest names ${link.run_id} as the previous run, not ${before.runId}: ${before.runId} was added to the archive later`
          : `its manifest names ${link.run_id} as the previous run, which is not in the archive (removed?)`,
      );
    }
    const bytes = await before.run.read(MANIFEST_FILE);
    const sha = bytes ? sha256Hex(bytes.bytes) : undefined;
    if (sha !== link.manifest_sha256) {
      return {
        runs: names,
        broken: `run ${before.runId}: its manifest was changed after run ${runId} recorded it (SHA-256 ${sha ?? 'missing'}, recorded ${link.manifest_sha256})`,
        unlinked,
      };
    }
  }
  return { runs: names, unlinked };
}
