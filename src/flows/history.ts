/**
 * Finds, in the evidence archive, what a run compares itself with: the previous run of the same job, configuration
 * and suite (with its row keys, verified against its manifest), and the earlier runs of that suite for the trend.
 * The comparison itself is pure (core/changes.ts); this is its I/O.
 */
import type { Logger } from 'pino';
import { readManifest, sha256Hex } from '../archive/read-back.js';
import type { ArchivedRun, EvidenceArchive } from '../archive/types.js';
import { ROW_KEYS_FILE, RowKeysFile, type EarlierRun, type History } from '../core/changes.js';
import { describeError } from '../core/errors.js';
import type { StoredManifest } from '../core/manifest.js';
import { toCloudTrailTime } from '../core/time.js';

export interface HistoryRequest {
  /** The configured job, or null for a plain `trailwarden run`. */
  readonly job: string | null;
  /** SHA-256 (hex) of the configuration file, as the manifest records it (without `sha256:`). */
  readonly configDigest: string;
  /** The suite's digest (core/changes.ts suiteDigest). */
  readonly suiteSha256: string;
  /** This run's as-of: only runs strictly before it count, so a re-run of a past as-of compares as that run did. */
  readonly asOf: Date;
  /** Runs in the trend, this one included. */
  readonly trendRuns: number;
}

function earlierRun(run: ArchivedRun, manifest: StoredManifest): EarlierRun {
  const { stats } = manifest;
  return {
    runId: manifest.run_id,
    asOf: manifest.as_of,
    location: run.location,
    inputComplete: stats.files_skipped.length === 0 && stats.records_dropped.every((d) => d.count === 0) && stats.records_without_time === 0,
    checks: manifest.checks.map((check) => ({ id: check.id, status: check.status, observed: check.observed, digest: check.check_sha256 })),
  };
}

/** The run's row keys, read and checked against its manifest; a string says why they can't be trusted. */
async function verifiedRowKeys(run: ArchivedRun, manifest: StoredManifest): Promise<RowKeysFile | string> {
  const entry = manifest.files.find((file) => file.name === ROW_KEYS_FILE);
  if (!entry) return `${ROW_KEYS_FILE} is not in its manifest`;
  const stored = await run.read(ROW_KEYS_FILE);
  if (!stored) return `${run.locationOf(ROW_KEYS_FILE)} is missing`;
  if (sha256Hex(stored.bytes) !== entry.sha256) return `${run.locationOf(ROW_KEYS_FILE)} no longer matches its SHA-256 in the manifest`;
  let raw: unknown;
  try {
    raw = JSON.parse(stored.bytes.toString('utf8'));
  } catch {
    return `${run.locationOf(ROW_KEYS_FILE)} is not valid JSON`;
  }
  const parsed = RowKeysFile.safeParse(raw);
  if (!parsed.success || parsed.data.run_id !== manifest.run_id) return `${run.locationOf(ROW_KEYS_FILE)} is not the row keys of run ${manifest.run_id}`;
  return parsed.data;
}

const newestFirst = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

/**
 * Walks the archive back from this run's as-of, newest first: the first earlier run of the same job and
 * configuration decides the baseline (another suite, or files that don't verify: no baseline, and no older run is
 * taken instead); the trend then takes earlier runs of the same suite until one of another suite or `trendRuns`.
 * Among runs of one as-of the one generated last counts first. Runs whose manifest can't be read are skipped (logged).
 */
export async function readHistory(archive: EvidenceArchive, request: HistoryRequest, log: Logger): Promise<History> {
  const asOf = toCloudTrailTime(request.asOf);
  const config = `sha256:${request.configDigest}`;
  const trend: EarlierRun[] = [];
  let baseline: { previous: EarlierRun; rowKeys: RowKeysFile } | undefined;
  const done = (): History => (baseline ? { kind: 'baseline', ...baseline, trend } : { kind: 'none', trend: [] });

  for await (const day of archive.runsByDay(request.asOf)) {
    const runs: { run: ArchivedRun; manifest: StoredManifest }[] = [];
    for (const run of day) {
      try {
        runs.push({ run, manifest: await readManifest(run) });
      } catch (error) {
        log.warn({ run: run.location, err: describeError(error) }, 'archived run left out of the comparison: its manifest cannot be read');
      }
    }
    const candidates = runs
      .filter(({ manifest }) => manifest.as_of < asOf && (manifest.job ?? null) === request.job && manifest.config_digest === config)
      .sort(
        (a, b) =>
          newestFirst(a.manifest.as_of, b.manifest.as_of) ||
          newestFirst(a.manifest.generated_at, b.manifest.generated_at) ||
          newestFirst(a.manifest.run_id, b.manifest.run_id),
      );
    for (const { run, manifest } of candidates) {
      const earlier = earlierRun(run, manifest);
      const sameSuite = manifest.suite_sha256 === request.suiteSha256;
      if (!baseline) {
        if (!sameSuite) return { kind: 'other_suite', previous: earlier, recordedSuite: manifest.suite_sha256 !== undefined, trend: [] };
        const rowKeys = await verifiedRowKeys(run, manifest);
        if (typeof rowKeys === 'string') {
          log.warn({ run: run.location, problem: rowKeys }, 'previous run not used as a baseline: it does not verify against its manifest');
          return { kind: 'unverified', previous: earlier, problem: rowKeys, trend: [] };
        }
        baseline = { previous: earlier, rowKeys };
      } else if (!sameSuite) {
        return done();
      }
      trend.push(earlier);
      if (trend.length >= request.trendRuns - 1) return done();
    }
  }
  return done();
}
