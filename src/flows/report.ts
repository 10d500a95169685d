import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { newRunId, withBackends, withCliPaths, type CliPaths } from '../app.js';
import { loadSetup, type Setup } from '../config/load.js';
import { VERSION } from '../version.js';
import { previousLink } from './chain.js';
import { sha256Hex } from '../archive/read-back.js';
import { resendCommand } from './resend.js';
import type { EvidenceArchive, StoredFile } from '../archive/types.js';
import { SIGNATURE_FILE, SIGNATURE_SCHEMA, serializeSignature } from '../core/manifest-signature.js';
import type { ManifestSigner } from '../signing/types.js';
import type { Check } from '../core/catalog.js';
import { columnsSince, columnsWhere, fieldsUsedBy, type WindowReader } from '../core/cloudtrail-table.js';
import { describeError, MailError, SigningError } from '../core/errors.js';
import { checkError, evaluate, incompleteInput, notRun, unjudgeableReason, type Finding, type InputFacts } from '../core/evaluate.js';
import type { WindowStats } from '../core/model.js';
import { checkWindow, resolveParameters, runWindow } from '../core/params.js';
import { buildManifest, MANIFEST_FILE, serializeManifest, type ManifestInventory } from '../core/manifest.js';
import { buildReport, type Report, type ReportInventory } from '../core/report.js';
import { buildChanges, buildRowKeys, checkDigest, ROW_KEYS_FILE, suiteDigest } from '../core/changes.js';
import { readHistory } from './history.js';
import { floorToSecond, toCloudTrailTime, type TimeWindow } from '../core/time.js';
import type { QueryEngine } from '../engines/types.js';
import { buildReportMail, type EvidenceCsv } from '../mail/report-mail.js';
import type { MailTransport, SentMail } from '../mail/types.js';
import { toCsv } from '../render/csv.js';
import { ReportRenderer } from '../render/report.js';
import type { LogFile, LogSource } from '../source/types.js';
import { formatBytes } from '../core/cost.js';
import { queryProblems } from '../integrity/problems-table.js';
import type { PublicKeys } from '../integrity/public-keys.js';
import { hashIdentity, type RecordedHash } from '../core/hash-record.js';
import { checkLogIntegrity, validationScope, type HashRecordAccess, type IntegrityRun } from '../integrity/validate.js';
import { InventoryError } from '../core/errors.js';
import { loadActionCatalogue, type ActionCatalogue } from '../inventory/action-catalogue.js';
import { ACTIVITY_ROWS, activitySql } from '../inventory/activity.js';
import type { InventoryQueries } from '../inventory/engine-input.js';
import { buildInventoryTables, type BuiltInventory } from '../inventory/tables.js';
import type { IamInventorySource, InventorySnapshot } from '../inventory/types.js';

/** Why an inventory check is not run without one: what the report says, and what to do. */
export const NEEDS_INVENTORY = 'needs an IAM inventory: set `inventory:` in the config or pass `--inventory <dir>`';

/** A check that reads the IAM inventory (check.yaml `requires: [iam_inventory]`). */
export const needsInventory = (check: Check): boolean => check.requires?.includes('iam_inventory') ?? false;

/** A check computed from CloudTrail log file validation (check.yaml `requires: [log_integrity]`). */
export const needsIntegrity = (check: Check): boolean => check.requires?.includes('log_integrity') ?? false;

/** Input facts for a check whose input is not the window's events: its own completeness is judged apart. */
const NO_MISSING_INPUT: InputFacts = { filesSkipped: [], recordsDropped: [], recordsWithoutTime: 0 };

/** The backends a run uses, built by the composition root (app.ts). */
export interface RunBackends {
  readonly source: LogSource;
  readonly engine: QueryEngine;
  readonly archive: EvidenceArchive;
  readonly mail: MailTransport;
  readonly renderer: ReportRenderer;
  readonly log: Logger;
  /** The IAM inventory; without one, the checks that need it are "not run". */
  readonly inventory?: IamInventorySource;
  /** The public keys to verify digest signatures with, for a window; absent or undefined: signatures not verifiable. */
  readonly publicKeys?: (window: TimeWindow) => Promise<PublicKeys | undefined>;
  /** The columnar store's record of log file hashes, when a store is in use: validation hashes only what changed. */
  readonly hashRecord?: HashRecordAccess;
  /** Signs the manifest (config `signing:`); absent: manifests are not signed. */
  readonly signer?: ManifestSigner;
}

export interface RunRequest {
  readonly runId: string;
  /** The end of the window ("now" for a scheduled run; a past time to re-report it exactly). */
  readonly asOf: Date;
  /** When the run happens, for the report's "generated" line. */
  readonly now: Date;
  readonly checks: readonly Check[];
  readonly configDigest: string;
  readonly toolVersion: string;
  readonly previewRows: number;
  /** Group the report's check sections under this framework's controls (config `report.group_by: framework`). */
  readonly groupBy?: { readonly framework: string };
  readonly mailFrom: string;
  readonly mailTo: readonly string[];
  /** CSVs are attached while their total stays at or under this many bytes; above it the e-mail links to them. */
  readonly attachMaxBytes: number;
  /** The command that re-sends this run's e-mail, for the log when mail fails (default: `trailwarden resend <run-id>`). */
  readonly resendCommand?: string;
  /** The configured job this run is (`jobs.<name>`), or null/absent for a plain run: runs compare with their own job's. */
  readonly job?: string | null;
  /** Runs in each check's trend, this one included (`report.trend_runs`). */
  readonly trendRuns: number;
  /** New and gone row keys shown per check (`report.change_examples`). */
  readonly changeExamples: number;
}

export interface RunOutcome {
  readonly report: Report;
  readonly findings: readonly Finding[];
  readonly stats: WindowStats;
  readonly evidenceLocation: string;
  readonly reportLocation: string;
  readonly manifestLocation: string;
  readonly csvLocations: Readonly<Record<string, string>>;
  readonly mail: SentMail;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Times one phase and logs one line with its counts and duration. */
async function phase<T>(log: Logger, name: string, work: () => Promise<T>, counts: (result: T) => object): Promise<T> {
  const started = performance.now();
  const result = await work();
  log.info({ phase: name, ms: Math.round(performance.now() - started), ...counts(result) }, name);
  return result;
}

/**
 * Runs and judges one check; a failing query becomes an `error` finding, never an exception. `input` says what of
 * the window could not be read: a check within its limit passes only when nothing is missing.
 */
async function judge(
  engine: Pick<QueryEngine, 'query'>,
  check: Check,
  asOf: Date,
  input: InputFacts,
  blind: string | undefined,
  log: Logger,
  runId: string,
  inventory: InventoryQueries | undefined,
  integrity: IntegrityRuns | undefined,
): Promise<Finding> {
  if (needsIntegrity(check)) return judgeIntegrity(check, asOf, integrity, log);
  // An inventory check on a window without events would call every role unused: nothing to judge either.
  if (blind && (check.evaluation.kind === 'threshold' || needsInventory(check))) return checkError(check, blind);
  if (needsInventory(check) && !inventory) return notRun(check, NEEDS_INVENTORY);
  try {
    const answering = needsInventory(check) ? inventory! : engine;
    return evaluate(
      check,
      await answering.query(check.sql, resolveParameters(check, asOf), {
        runId,
        checkId: check.id,
        windowStart: toCloudTrailTime(checkWindow(check, asOf).start),
      }),
      input,
    );
  } catch (error) {
    // Engines echo the SQL after the first line; the report keeps the reason, the log keeps it all.
    log.warn({ check: check.id, err: error }, 'check query failed');
    const failed = checkError(check, `the query failed: ${describeError(error).split('\n')[0]?.trim()}`);
    // A cancelled query still costs what it scanned: keep it for the report's cost.
    const scanned = typeof error === 'object' && error !== null ? (error as { scannedBytes?: unknown }).scannedBytes : undefined;
    return typeof scanned === 'number' ? { ...failed, scannedBytes: scanned } : failed;
  }
}

/** Log file validation per check window (by its start): its outcome, or why it failed. */
type IntegrityRuns = ReadonlyMap<string, IntegrityRun | { readonly failed: string }>;

/**
 * Judges a `log_integrity` check: its SQL over the validation's problems. Its input is the digests and log files, not
 * the window's events, so the window's gaps don't make it incomplete; no digests do (nothing was proven).
 */
async function judgeIntegrity(check: Check, asOf: Date, runs: IntegrityRuns | undefined, log: Logger): Promise<Finding> {
  if (!runs) return notRun(check, 'the log source cannot list CloudTrail digest files');
  const run = runs.get(toCloudTrailTime(checkWindow(check, asOf).start));
  if (!run) return checkError(check, 'log file validation did not run');
  if ('failed' in run) return checkError(check, `log file validation failed: ${run.failed}`);
  try {
    const finding = evaluate(check, await queryProblems(check.sql, resolveParameters(check, asOf), run.result.problems, log), NO_MISSING_INPUT);
    if (finding.status !== 'pass' || !run.result.incomplete) return finding;
    const consequence = check.on_incomplete === 'fail' ? 'this check fails on incomplete input (on_incomplete: fail)' : 'a pass needs digests';
    return { ...finding, status: check.on_incomplete, reason: `${finding.reason}, but ${run.result.incomplete}: ${consequence}` };
  } catch (error) {
    log.warn({ check: check.id, err: error }, 'check query failed');
    return checkError(check, `the query failed: ${describeError(error).split('\n')[0]?.trim()}`);
  }
}

/** Log files hashed this run while the window was loaded (`WindowInput.hashing`), by key, as the store records hashes. */
type HashedWhileLoading = Map<string, RecordedHash>;

/**
 * Validates the log files of each integrity check's window against the digests (once per distinct window), taking
 * the hashes `hashedWhileLoading` holds for files unchanged since.
 */
async function validateLogs(
  backends: RunBackends,
  checks: readonly Check[],
  files: readonly LogFile[],
  asOf: Date,
  log: Logger,
  hashedWhileLoading: HashedWhileLoading,
): Promise<Map<string, IntegrityRun | { failed: string }>> {
  const runs = new Map<string, IntegrityRun | { failed: string }>();
  for (const check of checks) {
    const window = checkWindow(check, asOf);
    const id = toCloudTrailTime(window.start);
    if (runs.has(id)) continue;
    try {
      const publicKeys = backends.publicKeys;
      const run = await checkLogIntegrity({
        source: backends.source,
        files,
        window,
        log,
        ...(publicKeys ? { keys: () => publicKeys(window) } : {}),
        ...(backends.hashRecord ? { record: backends.hashRecord } : {}),
        hashedWhileLoading,
      });
      log.info({ window: id, hashed: run.hashed, fromRecord: run.fromRecord, notListed: run.notListed, bytesRead: run.bytesRead }, 'log files hashed');
      runs.set(id, run);
    } catch (error) {
      log.warn({ check: check.id, err: error }, 'log file validation failed');
      runs.set(id, { failed: describeError(error).split('\n')[0] ?? 'unknown error' });
    }
  }
  return runs;
}

/** The report's one integrity line: the first validation's summary, and what reading the objects cost on S3. */
function integrityLine(runs: IntegrityRuns | undefined, source: LogSource): string | undefined {
  const first = runs?.values().next().value;
  if (!first) return undefined;
  if ('failed' in first) return `log file validation failed: ${first.failed}`;
  const read =
    source.kind === 's3'
      ? `; read ${formatBytes(first.bytesRead)} of log files and digests from S3 for it (${first.hashed.toLocaleString('en-US')} log file${first.hashed === 1 ? '' : 's'} hashed; billed as S3 GET requests and transfer)`
      : '';
  return `${first.result.summary}${read}`;
}

/**
 * One report run, in the order the data flows:
 * list the logs → load the window once → run every check → judge → write evidence → render → mail.
 * A failing check becomes an `error` finding; only infrastructure failures abort the run.
 */
export async function runReport(backends: RunBackends, request: RunRequest): Promise<RunOutcome> {
  const { source, engine, archive, mail, renderer } = backends;
  const log = backends.log.child({ runId: request.runId });
  const window = runWindow(request.checks, request.asOf);
  log.info(
    { asOf: toCloudTrailTime(request.asOf), windowStart: toCloudTrailTime(window.start), checks: request.checks.length, source: source.describe() },
    'run started',
  );

  // The signing key first of all: an unreadable key file or an unusable KMS key stops the run before any work.
  const signing = backends.signer
    ? await phase(
        log,
        'signing key',
        () => backends.signer!.identity(),
        (i) => ({ kind: i.kind, keyId: i.key_id, algorithm: i.algorithm, publicKeySha256: i.public_key_sha256 }),
      )
    : undefined;

  // The inventory first: a malformed one stops the run before the logs are read.
  const inventoryChecks = request.checks.filter(needsInventory);
  const iam =
    backends.inventory && inventoryChecks.length > 0
      ? await phase(
          log,
          'read inventory',
          () => readInventory(backends.inventory!),
          (i) => ({ accounts: i.built.facts.accounts.length, roles: i.built.facts.roles, users: i.built.facts.users, grants: i.built.facts.grants }),
        )
      : undefined;
  const periodStarts = [...new Set(inventoryChecks.map((check) => toCloudTrailTime(checkWindow(check, request.asOf).start)))].sort();
  const activity = iam ? activitySql(periodStarts, toCloudTrailTime(request.asOf)) : undefined;

  // What reads the window, and from when: each check its own lookback, the activity aggregate the longest period.
  const checkReaders: WindowReader[] = request.checks
    .filter((c) => !needsInventory(c))
    .map((c) => ({ sql: c.sql, start: toCloudTrailTime(checkWindow(c, request.asOf).start) }));
  const readers: WindowReader[] = [...checkReaders, ...(activity ? [{ sql: activity, start: periodStarts[0]!, rows: ACTIVITY_ROWS }] : [])];
  const since = columnsSince(readers, toCloudTrailTime(window.start));

  // Log file validation hashes the files of its windows; an engine converting them into its store hashes them then.
  const integrityChecks = request.checks.filter(needsIntegrity);
  const validates = integrityChecks.length > 0 && source.digests !== undefined;
  const validated = integrityChecks.map((check) => validationScope(checkWindow(check, request.asOf)));
  const hashedWhileLoading: HashedWhileLoading = new Map();
  const listing = await phase(
    log,
    'list logs',
    () => source.list(window, { fetch: engine.readsLocalFiles && !engine.fetchesOnDemand }),
    (l) => ({ files: l.files.length, skipped: l.skipped.length }),
  );

  const loaded = await phase(
    log,
    'load window',
    () =>
      engine.loadWindow({
        runId: request.runId,
        window,
        files: listing.files,
        // Inventory checks read the activity aggregate, not the window: what the window needs is the aggregate's SQL.
        columns: fieldsUsedBy(readers.map((reader) => reader.sql)),
        since,
        where: columnsWhere(readers, since, toCloudTrailTime(window.start)),
        source,
        ...(validates
          ? {
              hashing: {
                wanted: (file: LogFile) => validated.some((inScope) => inScope(file.key)),
                hashed: (file: LogFile, sha256: string) => {
                  // Without a trusted identity a hash can't be known to stand for the file validation lists: not kept.
                  const identity = hashIdentity(file);
                  if (identity !== undefined) hashedWhileLoading.set(file.key, { key: file.key, bytes: file.bytes, identity, sha256 });
                },
              },
            }
          : {}),
      }),
    (s) => ({
      events: s.events,
      duplicates: s.duplicates,
      filesRead: s.filesRead,
      filesSkipped: s.filesSkipped.length,
    }),
  );
  const stats: WindowStats = { ...loaded, filesSkipped: [...listing.skipped, ...loaded.filesSkipped] };
  for (const skipped of stats.filesSkipped) log.warn({ file: skipped.path, reason: skipped.reason }, 'log file skipped');

  // Next to the window, before the first check: the engine confines itself at its first query.
  const inventory = iam
    ? await phase(
        log,
        'load inventory',
        () => engine.loadInventory({ tables: iam.built.tables, periodStarts, end: toCloudTrailTime(request.asOf), catalogue: iam.catalogue }),
        (q) => ({ activityRows: q.facts.activityRows, unmappedEvents: q.facts.unmappedEvents.length }),
      )
    : undefined;

  // Log file validation: hashes the window's log files (those not hashed while loading) and reads the digests, in-process.
  const integrity = validates
    ? await phase(
        log,
        'validate logs',
        () => validateLogs(backends, integrityChecks, listing.files, request.asOf, log, hashedWhileLoading),
        (runs) => Object.fromEntries([...runs].map(([start, run]) => [start, 'failed' in run ? run.failed : run.result.summary])),
      )
    : undefined;

  const findings = await phase(
    log,
    'run checks',
    async () => {
      const results: Finding[] = new Array<Finding>(request.checks.length);
      const blind = unjudgeableReason(stats);
      // Up to engine.concurrency checks at once (Athena queries wait remotely); findings keep catalog order.
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < request.checks.length; i = next++) {
          const check = request.checks[i]!;
          const started = performance.now();
          const finding = await judge(engine, check, request.asOf, stats, blind, log, request.runId, inventory, integrity);
          log.info({ check: check.id, status: finding.status, observed: finding.observed, ms: Math.round(performance.now() - started) }, 'check done');
          results[i] = finding;
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(engine.concurrency ?? 1, request.checks.length)) }, worker));
      return results;
    },
    (r) => ({
      fail: r.filter((f) => f.status === 'fail').length,
      error: r.filter((f) => f.status === 'error').length,
      incomplete: r.filter((f) => f.status === 'incomplete').length,
      notRun: r.filter((f) => f.status === 'not_run').length,
    }),
  );

  // Before this run's folder exists: the archive holds only earlier runs.
  const checkDigests = request.checks.map((check) => ({ id: check.id, digest: checkDigest(check, sha256) }));
  const suiteSha256 = suiteDigest(checkDigests, sha256);
  const history = await phase(
    log,
    'find previous run',
    () =>
      readHistory(
        archive,
        { job: request.job ?? null, configDigest: request.configDigest, suiteSha256, asOf: request.asOf, trendRuns: request.trendRuns },
        log,
      ),
    (h) => ({ outcome: h.kind, previous: h.kind === 'none' ? null : h.previous.runId, trendRuns: h.trend.length }),
  );
  const changes = buildChanges({
    runId: request.runId,
    asOf: toCloudTrailTime(request.asOf),
    checks: request.checks,
    findings,
    inputComplete: incompleteInput(stats) === undefined,
    history,
    examples: request.changeExamples,
    trendRuns: request.trendRuns,
    checkDigests: Object.fromEntries(checkDigests.map((c) => [c.id, c.digest])),
  });

  // The link to the job's previous run, read before this run's folder exists (see flows/chain.ts).
  const previous = await previousLink(archive, request.job ?? null);
  const folder = await archive.openRun(request.runId, request.asOf);
  const stored: StoredFile[] = [];
  const csvLocations: Record<string, string> = {};
  // Kept for the e-mail's attachments: the exact bytes archived, not a second rendering.
  const csvs: EvidenceCsv[] = [];
  const inventoryFiles: ManifestInventory['accounts'][number][] = [];
  await phase(
    log,
    'write evidence',
    async () => {
      for (const finding of findings) {
        // An errored check has no result: no CSV, so an empty file can't be mistaken for "nothing found".
        if (!finding.result) continue;
        const csv = { checkId: finding.checkId, name: `${finding.checkId}.csv`, content: toCsv(finding.result) };
        stored.push(await folder.write(csv.name, csv.content));
        csvs.push(csv);
        csvLocations[finding.checkId] = folder.locationOf(`${finding.checkId}.csv`);
      }
      // Each check's row keys: what the next run's "new" and "gone" rows are counted against.
      stored.push(await folder.write(ROW_KEYS_FILE, `${JSON.stringify(buildRowKeys(request.runId, request.checks, findings))}\n`));
      // The inventory is evidence too: the very documents the roles and users were judged on.
      for (const account of iam?.snapshot.accounts ?? []) {
        const file = await folder.write(`iam-inventory-${account.account}.json`, account.text);
        stored.push(file);
        inventoryFiles.push({ account: account.account, origin: account.origin, file: file.name, sha256: file.sha256 });
      }
    },
    () => ({ files: stored.length, location: folder.location }),
  );

  const reportStarted = performance.now();
  const report = buildReport({
    runId: request.runId,
    asOf: request.asOf,
    window,
    generatedAt: request.now,
    toolVersion: request.toolVersion,
    source: source.describe(),
    checks: request.checks,
    findings,
    stats,
    evidence: csvLocations,
    archiveLocation: folder.location,
    previewRows: request.previewRows,
    ...(request.groupBy ? { groupBy: request.groupBy } : {}),
    inventory: iam && inventory ? reportInventory(backends.inventory!, iam.built, inventory) : undefined,
    changes,
    integrity: integrityLine(integrity, source),
  });
  const rendered = renderer.render(report);
  stored.push(await folder.write('report.html', rendered.html));
  stored.push(await folder.write('report.txt', rendered.text));
  // The model itself, so that `trailwarden resend` can rebuild the e-mail without re-running the checks.
  stored.push(await folder.write('report.json', `${JSON.stringify(report, null, 2)}\n`));

  // Written last: a folder with a manifest holds a complete run.
  const manifest = buildManifest({
    runId: request.runId,
    toolVersion: request.toolVersion,
    asOf: request.asOf,
    generatedAt: request.now,
    window,
    configDigest: request.configDigest,
    source: source.describe(),
    engine: engine.kind,
    report,
    stats,
    checks: request.checks,
    findings,
    files: stored,
    sha256,
    previous,
    inventory: iam
      ? { kind: backends.inventory!.kind, source: backends.inventory!.describe(), action_catalogue: iam.catalogue.version, accounts: inventoryFiles }
      : undefined,
    job: request.job ?? null,
    changes,
    ...(signing ? { signing: { kind: signing.kind, key_id: signing.key_id, algorithm: signing.algorithm, public_key_sha256: signing.public_key_sha256 } } : {}),
  });
  const manifestBytes = Buffer.from(serializeManifest(manifest), 'utf8');
  await folder.write(MANIFEST_FILE, manifestBytes);
  if (signing) {
    // Right after the manifest: a failure leaves the folder as is, with a manifest that says it is signed and no
    // signature, which `verify` reports; the run fails loudly and sends no e-mail of unsigned evidence.
    try {
      const signature = await backends.signer!.sign(manifestBytes);
      await folder.write(
        SIGNATURE_FILE,
        serializeSignature({
          schema: SIGNATURE_SCHEMA,
          manifest_sha256: sha256Hex(manifestBytes),
          algorithm: signing.algorithm,
          key_id: signing.key_id,
          public_key: signing.publicKeyDer.toString('base64'),
          public_key_sha256: signing.public_key_sha256,
          signature: signature.toString('base64'),
        }),
      );
    } catch (error) {
      log.error({ err: error, evidence: folder.location }, `run ${request.runId}: the manifest could not be signed; the evidence is archived unsigned`);
      throw new SigningError(
        `run ${request.runId}: the manifest could not be signed (${describeError(error)}); the evidence in ${folder.location} is unsigned and \`trailwarden verify\` will report it; no e-mail was sent (re-send with: ${request.resendCommand ?? `trailwarden resend ${request.runId}`})`,
        { cause: error },
      );
    }
  }
  log.info({ phase: 'write report', ms: Math.round(performance.now() - reportStarted), files: stored.length + 1, location: folder.location }, 'write report');

  let sent: SentMail;
  try {
    sent = await phase(
      log,
      'send mail',
      async () => {
        const built = await buildReportMail({
          report,
          renderer,
          rendered,
          from: request.mailFrom,
          to: request.mailTo,
          csvs,
          attachMaxBytes: request.attachMaxBytes,
          link: (name) => folder.link(name),
        });
        const result = await mail.send(built.message, request.runId);
        return { ...result, evidence: built.evidence, csvBytes: built.csvBytes };
      },
      (s) => ({
        location: s.location,
        evidence: s.attachmentsDropped ? 'linked' : s.evidence,
        csvBytes: s.csvBytes,
        attachmentsDropped: s.attachmentsDropped ?? false,
      }),
    );
  } catch (error) {
    // The evidence is complete (the manifest is written): only the e-mail is missing, and it can be re-sent.
    const resend = request.resendCommand ?? `trailwarden resend ${request.runId}`;
    log.error({ err: error, evidence: folder.location, resend }, `mail for run ${request.runId} not sent; the evidence is archived; re-send with: ${resend}`);
    throw new MailError(
      `run ${request.runId}: the evidence is archived in ${folder.location}, but the report e-mail was not sent (${describeError(error)}). Re-send it with: ${resend}`,
      { cause: error },
    );
  }

  return {
    report,
    findings,
    stats,
    evidenceLocation: folder.location,
    reportLocation: folder.locationOf('report.html'),
    manifestLocation: folder.locationOf('manifest.json'),
    csvLocations,
    mail: sent,
  };
}

/** Reads the inventory and builds its tables; any problem (a file, a key) stops the run: roles are never judged on part of it. */
export async function readInventory(source: IamInventorySource): Promise<{ snapshot: InventorySnapshot; built: BuiltInventory; catalogue: ActionCatalogue }> {
  const snapshot = await source.load();
  const catalogue = await loadActionCatalogue();
  const { built, problems } = buildInventoryTables(snapshot, catalogue);
  if (!built) throw new InventoryError(problems);
  return { snapshot, built, catalogue };
}

function reportInventory(source: IamInventorySource, built: BuiltInventory, queries: InventoryQueries): ReportInventory {
  return {
    source: source.describe(),
    accounts: built.facts.accounts,
    roles: built.facts.roles,
    users: built.facts.users,
    grants: built.facts.grants,
    actionCatalogue: built.facts.catalogueVersion,
    unknownPolicies: built.facts.unknownPolicies,
    unmappedEvents: queries.facts.unmappedEvents,
    scannedBytes: queries.facts.scannedBytes,
  };
}

/** One report run as a command or a job asks for it: the config, the CLI's paths, the window's end. */
export interface RunOptions extends CliPaths {
  readonly configFile: string;
  /** `--as-of`; defaults to `now`. */
  readonly asOf?: Date;
  readonly now?: Date;
  /** The config and checks, already loaded and validated (the daemon loads them once, at start). */
  readonly setup?: Setup;
  /** The report templates, already compiled (the daemon compiles them once, at start). */
  readonly renderer?: ReportRenderer;
  /** The configured job this run is (the daemon, `run --job`); absent for a plain run. */
  readonly job?: string;
}

/** Config → backends → one report run. Every backend is closed whatever happens. */
export async function runOnce(options: RunOptions, log: Logger): Promise<RunOutcome> {
  const setup = options.setup ?? (await loadSetup(options.configFile));
  const { config, digest } = withCliPaths(setup.loaded, options);
  const now = options.now ?? new Date();
  const asOf = floorToSecond(options.asOf ?? now);
  const renderer = options.renderer ?? (await ReportRenderer.load());
  const runId = newRunId(now);
  return withBackends(config, log, async (backends) => {
    // Mail first: a missing SMTP credential variable is a configuration error before the engine starts.
    const mail = backends.mail();
    const engine = await backends.engine();
    const source = backends.source();
    // The store (absent with --no-store or without store:) keys its partitions, and its record of hashes, by the source.
    const store = backends.store();
    return runReport(
      {
        source,
        ...(store ? { hashRecord: { store, source: source.describe(), rehash: config.integrity?.rehash === 'always' } } : {}),
        engine,
        archive: backends.archive(),
        mail,
        renderer,
        log,
        inventory: backends.inventory(),
        publicKeys: (window) => backends.publicKeys(window),
        signer: backends.signer(),
      },
      {
        runId,
        asOf,
        now,
        checks: setup.checks,
        configDigest: digest,
        toolVersion: VERSION,
        previewRows: config.report.preview_rows,
        ...(config.report.group_by === 'framework' ? { groupBy: { framework: config.report.framework } } : {}),
        mailFrom: config.mail.from,
        mailTo: config.mail.to,
        attachMaxBytes: config.mail.attach_max_bytes,
        resendCommand: resendCommand(runId, options),
        job: options.job ?? null,
        trendRuns: config.report.trend_runs,
        changeExamples: config.report.change_examples,
      },
    );
  });
}
