/**
 * `manifest.json`: what a run was and the SHA-256 of every file it archived, written last, so that its presence
 * means the run is complete. One schema serves the run that builds it and every reader after it (`resend`,
 * `verify`, an auditor's script): a manifest that doesn't match it is reported key by key, never half-read.
 */
import { z } from 'zod';
import { Severity, type Check } from './catalog.js';
import { checkDigest, suiteDigest, type ReportChanges } from './changes.js';
import type { Finding } from './evaluate.js';
import { ManifestError } from './errors.js';
import { issuesOf, ManifestSigning, parseJsonDocument, Sha256 } from './manifest-signature.js';
import type { WindowStats } from './model.js';
import { checkWindow } from './params.js';
import type { Report } from './report.js';
import { toCloudTrailTime, type TimeWindow } from './time.js';

/** The file name, in every run folder. */
export const MANIFEST_FILE = 'manifest.json';
/**
 * Bumped when a field changes meaning or goes away; readers refuse versions they don't know.
 * v2: a check's `status` and the `verdict` may be `incomplete`, and `pass` now means "within the limit on complete
 * input" (in v1 a pass could rest on a window with unreadable files); `stats` carries `records_dropped` and
 * `conflicts`. v1 manifests are still read (see parseManifest).
 */
export const MANIFEST_SCHEMA = 'trailwarden.manifest/v2';
/** The previous version, still read: runs archived before v2 must stay verifiable and re-sendable. */
export const MANIFEST_SCHEMA_V1 = 'trailwarden.manifest/v1';

const Time = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'expected a UTC time such as 2026-11-23T08:00:00Z');
const Window = z.object({ start: Time, end: Time }).strict();

/** A file of the run folder, as the archive stored it. */
export const ManifestFile = z
  .object({
    /** A plain file name inside the run folder. */
    name: z
      .string()
      .regex(/^[^/\\]+$/, 'expected a plain file name')
      .refine((name) => !name.startsWith('.'), 'expected a plain file name'),
    bytes: z.number().int().min(0),
    sha256: Sha256,
  })
  .strict();
export type ManifestFile = z.infer<typeof ManifestFile>;

const ManifestCheckV1 = z
  .object({
    id: z.string(),
    title: z.string(),
    severity: Severity,
    status: z.enum(['pass', 'fail', 'info', 'error']),
    observed: z.number().nullable(),
    threshold: z.string().nullable(),
    reason: z.string(),
    /** Result rows; null when the check errored (it has no result and no CSV). */
    rows: z.number().int().min(0).nullable(),
    window: Window,
    query_sha256: Sha256,
    scanned_bytes: z.number().nullable(),
    options: z.record(z.string(), z.unknown()),
    file: ManifestFile.nullable(),
  })
  .strict();

export const ManifestCheck = ManifestCheckV1.extend({
  status: z.enum(['pass', 'fail', 'incomplete', 'not_run', 'info', 'error']),
  /** What defines the check's result and judgement (core/changes.ts checkDigest); absent in runs before it existed. */
  check_sha256: Sha256.optional(),
}).strict();
export type ManifestCheck = z.infer<typeof ManifestCheck>;

const StatsV1 = z
  .object({
    events: z.number().int().min(0),
    duplicates_removed: z.number().int().min(0),
    files_read: z.number().int().min(0),
    files_skipped: z.array(z.object({ path: z.string(), reason: z.string() }).strict()),
    records_without_time: z.number().int().min(0),
    data_events: z.number().int().min(0),
    accounts: z.array(z.string()),
    regions: z.array(z.string()),
  })
  .strict();

const Stats = StatsV1.extend({
  /** Records of readable files that could not be used, per file and reason. */
  records_dropped: z.array(z.object({ path: z.string(), reason: z.string(), count: z.number().int().min(0) }).strict()),
  /** eventIDs shared by records of different content; all of them were kept. */
  conflicts: z.array(z.object({ event_id: z.string(), paths: z.array(z.string()), records: z.number().int().min(0) }).strict()),
}).strict();

/** A v1 manifest, as runs before v2 wrote it. */
const ManifestV1 = z
  .object({
    schema: z.literal(MANIFEST_SCHEMA_V1),
    run_id: z.string().min(1),
    tool: z.object({ name: z.literal('trailwarden'), version: z.string() }).strict(),
    as_of: Time,
    generated_at: Time,
    window: Window,
    config_digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex characters>'),
    source: z.string(),
    engine: z.string(),
    /** What the run's queries scanned, and its estimated price; null for engines that don't bill by scan. */
    scanned_bytes: z.number().nullable(),
    estimated_cost_usd: z.number().nullable(),
    verdict: z.enum(['fail', 'error', 'pass']),
    stats: StatsV1,
    checks: z.array(ManifestCheckV1),
    /** Every file of the run folder but the manifest itself. */
    files: z.array(ManifestFile),
  })
  .strict();

/** The IAM inventory a run judged roles and users on: each account's document is archived beside the CSVs. */
export const ManifestInventory = z
  .object({
    kind: z.string(),
    source: z.string(),
    /** The version of the IAM action catalogue wildcards were expanded against. */
    action_catalogue: z.string(),
    accounts: z.array(z.object({ account: z.string(), origin: z.string(), file: z.string(), sha256: Sha256 }).strict()),
  })
  .strict();
export type ManifestInventory = z.infer<typeof ManifestInventory>;

const Status = z.enum(['pass', 'fail', 'incomplete', 'not_run', 'info', 'error']);

/** What the run was compared with and what changed (the report's "changes since the previous run"), compact. */
export const ManifestComparison = z
  .object({
    outcome: z.enum(['compared', 'no_previous_run', 'other_suite', 'baseline_unverified']),
    /** The run compared with; null when there was no baseline (see `outcome` and `summary`). */
    compared_with: z.string().nullable(),
    /** The previous run of the job that was looked at, even when it could not serve as the baseline. */
    previous_run: z.string().nullable(),
    summary: z.string(),
    status_changes: z.array(z.object({ id: z.string(), from: Status, to: Status }).strict()),
    /** Rows new and gone by the check's key columns, for the checks with any. */
    row_deltas: z.array(z.object({ id: z.string(), added: z.number().int().min(0), removed: z.number().int().min(0) }).strict()),
    /** The earlier runs the trend shows, oldest first (this run follows them). */
    trend_runs: z.array(z.string()),
  })
  .strict();
export type ManifestComparison = z.infer<typeof ManifestComparison>;
/** The link to the same job's run before this one in the archive. */
export const ManifestPrevious = z.object({ run_id: z.string().min(1), manifest_sha256: Sha256 }).strict();
export type ManifestPrevious = z.infer<typeof ManifestPrevious>;

export const Manifest = ManifestV1.extend({
  schema: z.literal(MANIFEST_SCHEMA),
  /** The configured job (`jobs.<name>`) the run was, null for a plain `trailwarden run`; absent before it was recorded. */
  job: z.string().nullable().optional(),
  /** The suite's digest (core/changes.ts suiteDigest): runs of one suite are comparable. Absent before it was recorded. */
  suite_sha256: Sha256.optional(),
  comparison: ManifestComparison.optional(),
  verdict: z.enum(['fail', 'error', 'incomplete', 'pass']),
  stats: Stats,
  checks: z.array(ManifestCheck),
  /** Absent in runs before the inventory existed; null when the run had none. */
  inventory: ManifestInventory.nullable().optional(),
  /**
   * The previous run of the same job (`job`) and the SHA-256 of its `manifest.json` bytes: removing or editing a past
   * run breaks the chain (`trailwarden verify --chain`). Null for the job's first run; absent in runs before the chain.
   */
  previous: ManifestPrevious.nullable().optional(),
  /**
   * The key the manifest is signed with (the signature is the sidecar `manifest.sig.json`); absent when unsigned.
   * Recorded here so that deleting the sidecar of a signed run is detected.
   */
  signing: ManifestSigning.optional(),
}).strict();
export type Manifest = z.infer<typeof Manifest>;

/**
 * A manifest as read back: the current shape whatever version the file has, with `schema` saying which. A v1
 * manifest reads with no dropped records and no conflicts (v1 runs did not look for them), and its statuses as
 * they were: a v1 `pass` may rest on incomplete input (`stats.files_skipped` says whether it did).
 */
export type StoredManifest = Omit<Manifest, 'schema'> & { readonly schema: typeof MANIFEST_SCHEMA | typeof MANIFEST_SCHEMA_V1 };

/** What a finished run hands over to be recorded. */
export interface ManifestInput {
  readonly runId: string;
  readonly toolVersion: string;
  readonly asOf: Date;
  readonly generatedAt: Date;
  readonly window: TimeWindow;
  /** SHA-256 (hex) of the configuration file's bytes. */
  readonly configDigest: string;
  readonly source: string;
  readonly engine: string;
  readonly report: Pick<Report, 'verdict' | 'cost'>;
  readonly stats: WindowStats;
  readonly checks: readonly Check[];
  readonly findings: readonly Finding[];
  /** Every file already written to the run folder. */
  readonly files: readonly ManifestFile[];
  /** SHA-256 (hex) of a text, for the checks' query digests; the core has no crypto of its own. */
  readonly sha256: (text: string) => string;
  /** The IAM inventory of the run, when it had one. */
  readonly inventory?: ManifestInventory;
  /** The previous run of the same job in the archive (null: this is the job's first). */
  readonly previous?: ManifestPrevious | null;
  /** The key the manifest will be signed with, when signing is configured. */
  readonly signing?: ManifestSigning;
  /** The configured job the run was; null or absent for a plain run. */
  readonly job?: string | null;
  /** What the run was compared with, when it was. */
  readonly changes?: ReportChanges;
}

/** The compact form of a comparison, for the manifest. */
export function manifestComparison(changes: ReportChanges): ManifestComparison {
  return {
    outcome: changes.outcome,
    compared_with: changes.comparedWith?.runId ?? null,
    previous_run: changes.previousRunId,
    summary: changes.summary,
    status_changes: changes.statusChanges.map((c) => ({ id: c.id, from: c.from, to: c.to })),
    row_deltas: changes.rowDeltas.filter((d) => d.added > 0 || d.removed > 0).map((d) => ({ id: d.id, added: d.added, removed: d.removed })),
    trend_runs: changes.trend[0]?.points.filter((p) => !p.current).map((p) => p.runId) ?? [],
  };
}

/** The manifest of a finished run. Key order is the file's order: auditors diff manifests. */
export function buildManifest(input: ManifestInput): Manifest {
  const findingsById = new Map(input.findings.map((f) => [f.checkId, f]));
  const { stats, report } = input;
  const digests = input.checks.map((check) => ({ id: check.id, digest: checkDigest(check, input.sha256) }));
  return {
    schema: MANIFEST_SCHEMA,
    run_id: input.runId,
    tool: { name: 'trailwarden', version: input.toolVersion },
    as_of: toCloudTrailTime(input.asOf),
    generated_at: toCloudTrailTime(input.generatedAt),
    window: { start: toCloudTrailTime(input.window.start), end: toCloudTrailTime(input.window.end) },
    config_digest: `sha256:${input.configDigest}`,
    job: input.job ?? null,
    suite_sha256: suiteDigest(digests, input.sha256),
    source: input.source,
    engine: input.engine,
    scanned_bytes: report.cost?.scannedBytes ?? null,
    estimated_cost_usd: report.cost ? Number(report.cost.costUsd.toFixed(6)) : null,
    verdict: report.verdict,
    ...(input.changes ? { comparison: manifestComparison(input.changes) } : {}),
    stats: {
      events: stats.events,
      duplicates_removed: stats.duplicates,
      files_read: stats.filesRead,
      files_skipped: stats.filesSkipped.map((s) => ({ path: s.path, reason: s.reason })),
      records_without_time: stats.recordsWithoutTime,
      records_dropped: stats.recordsDropped.map((d) => ({ path: d.path, reason: d.reason, count: d.count })),
      conflicts: stats.conflicts.map((c) => ({ event_id: c.eventId, paths: [...c.paths], records: c.records })),
      data_events: stats.dataEvents,
      accounts: [...stats.accounts],
      regions: [...stats.regions],
    },
    checks: input.checks.map((check, index) => {
      const finding = findingsById.get(check.id);
      const window = checkWindow(check, input.asOf);
      const csv = input.files.find((file) => file.name === `${check.id}.csv`);
      return {
        id: check.id,
        title: check.title,
        severity: finding?.severity ?? check.severity,
        status: finding?.status ?? 'error',
        observed: finding?.observed ?? null,
        threshold: finding?.threshold ?? null,
        reason: finding?.reason ?? '',
        rows: finding?.result?.rows.length ?? null,
        window: { start: toCloudTrailTime(window.start), end: toCloudTrailTime(window.end) },
        query_sha256: input.sha256(check.sql),
        check_sha256: digests[index]!.digest,
        scanned_bytes: finding?.result?.scannedBytes ?? finding?.scannedBytes ?? null,
        options: { ...check.optionValues },
        file: csv ? { name: csv.name, bytes: csv.bytes, sha256: csv.sha256 } : null,
      };
    }),
    files: input.files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256 })),
    inventory: input.inventory ?? null,
    previous: input.previous ?? null,
    ...(input.signing ? { signing: input.signing } : {}),
  };
}

/** The manifest's bytes as archived: two-space JSON and a final newline. */
export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * Reads a manifest back, v2 or v1. `where` names it in errors (a path or an s3:// URL); every problem is listed
 * with its key. A manifest of another schema version is refused rather than guessed at.
 */
export function parseManifest(text: string, where: string): StoredManifest {
  const raw = parseJsonDocument(text, where);
  const schema = typeof raw === 'object' && raw !== null ? (raw as { schema?: unknown }).schema : undefined;
  if (schema === MANIFEST_SCHEMA_V1) {
    const v1 = ManifestV1.safeParse(raw);
    if (!v1.success) throw new ManifestError(where, issuesOf(v1.error));
    return { ...v1.data, stats: { ...v1.data.stats, records_dropped: [], conflicts: [] } };
  }
  const parsed = Manifest.safeParse(raw);
  if (parsed.success) return parsed.data;
  if (schema !== MANIFEST_SCHEMA) {
    throw new ManifestError(where, [
      `schema: expected "${MANIFEST_SCHEMA}" (or "${MANIFEST_SCHEMA_V1}"), found ${JSON.stringify(schema) ?? 'nothing'} (not a trailwarden manifest, or one this version does not know)`,
    ]);
  }
  throw new ManifestError(where, issuesOf(parsed.error));
}
