import { severityRank, type Check } from './catalog.js';
import type { ReportChanges } from './changes.js';
import { incompleteInput, STATUSES, type Finding, type Status } from './evaluate.js';
import type { DroppedRecords, EventIdConflict, SkippedFile, WindowStats } from './model.js';
import { formatBytes, formatUsd, summariseCost } from './cost.js';
import { compareControls, controlHeading, frameworkLabel } from './frameworks.js';
import { checkWindow } from './params.js';
import { configuredLimits, planColumns, previewRowLimit, type PreviewColumn, type PreviewLimits } from './preview.js';
import { isoDate, toCloudTrailTime, type TimeWindow } from './time.js';

/** Everything the report is built from. The core never reads a clock: times come in here. */
export interface ReportInput {
  readonly runId: string;
  readonly asOf: Date;
  readonly window: TimeWindow;
  readonly generatedAt: Date;
  readonly toolVersion: string;
  readonly source: string;
  readonly checks: readonly Check[];
  readonly findings: readonly Finding[];
  readonly stats: WindowStats;
  /** Where each check's full CSV is kept, by check id. */
  readonly evidence: Readonly<Record<string, string>>;
  /** Where the whole run's evidence folder is. */
  readonly archiveLocation: string;
  /** Result rows shown per failing check (fewer for the others, see `previewRowLimit`); the CSV has them all. */
  readonly previewRows: number;
  /** What the IAM inventory held, when the run had one. */
  readonly inventory?: ReportInventory;
  /** CloudTrail log file validation in one line ("2,331 of 2,332 log files verified against 744 digests; 1 modified"). */
  readonly integrity?: string;
  /** What changed since the previous run of the job (core/changes.ts), when it was looked up. */
  readonly changes?: ReportChanges;
  /** Group the check sections under this framework's controls (config `report.group_by: framework`); absent: no groups. */
  readonly groupBy?: { readonly framework: string };
}

/**
 * A heading of the report and the sections under it, by check id, in the report's order. Ungrouped reports have
 * one group without a heading. With `report.group_by: framework`, one group per control of the framework that a
 * check is tagged with (naturally sorted: 4.2 before 4.10), then "Other checks" for the checks without one; a check
 * tagged with two controls shows under both.
 */
export interface ReportGroup {
  readonly heading: string | null;
  readonly framework: string | null;
  readonly control: string | null;
  readonly sectionIds: readonly string[];
}

/** The IAM inventory of a run, for the report's summary. */
export interface ReportInventory {
  readonly source: string;
  readonly accounts: readonly string[];
  readonly roles: number;
  readonly users: number;
  readonly grants: number;
  readonly actionCatalogue: string;
  /** Attached policies whose document the inventory lacks: the roles' grants from them are unknown. */
  readonly unknownPolicies: readonly { readonly account: string; readonly policyArn: string; readonly roles: number }[];
  /** Events by IAM principals that map to no IAM action (ConsoleLogin…), with their calls. */
  readonly unmappedEvents: readonly { readonly eventSource: string; readonly eventName: string; readonly calls: number }[];
  /** What aggregating the activity scanned, where the engine bills by scan (Athena); absent otherwise. */
  readonly scannedBytes?: number;
}

/** A per-group tally of a check's rows (check.yaml `summary`): for each value of `by`, how many rows hold each value of `of`. */
export interface SectionSummary {
  readonly by: string;
  readonly of: string;
  readonly values: readonly string[];
  readonly rows: readonly { readonly key: string; readonly total: number; readonly counts: readonly number[] }[];
  /** Groups left out of `rows` by the e-mail's preview limits (0 in the report model: it holds every group). */
  readonly hiddenRows: number;
}

export interface ReportSection {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly status: Status;
  readonly severity: Check['severity'];
  readonly observed: number | null;
  readonly threshold: string | null;
  readonly reason: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly columns: readonly string[];
  /** The first rows of the result, values whole (the templates shorten them as `previewColumns` says). */
  readonly previewRows: readonly (readonly string[])[];
  /** How each column of the preview is shown: short ones whole on one line, long ones shortened. */
  readonly previewColumns: readonly PreviewColumn[];
  readonly rowCount: number;
  readonly hiddenRows: number;
  /** Where the full CSV is kept, for people (a path or an s3:// URL). */
  readonly evidence: string | null;
  /**
   * A link a mail reader can open to download the full CSV (a presigned URL), or null. Filled only for the
   * e-mail by `withEvidenceLinks`: links expire, so the archived report keeps the plain location.
   */
  readonly evidenceLink: string | null;
  readonly remediation: string | null;
  readonly references: readonly string[];
  readonly frameworks: readonly string[];
  /** The check's per-group tally (check.yaml `summary`), over every row; null for checks without one. */
  readonly summary: SectionSummary | null;
}

export type Verdict = 'fail' | 'error' | 'incomplete' | 'pass';

export interface Report {
  readonly title: string;
  readonly subject: string;
  readonly runId: string;
  readonly toolVersion: string;
  readonly asOf: string;
  readonly generatedAt: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly source: string;
  readonly archiveLocation: string;
  /**
   * The worst status across checks: fail, then error, then incomplete, then pass. `incomplete` also when no
   * threshold check could show it but the input was incomplete (a suite of informational checks only).
   */
  readonly verdict: Verdict;
  readonly counts: Readonly<Record<Status, number>> & { readonly total: number };
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  readonly events: number;
  readonly duplicates: number;
  readonly filesRead: number;
  readonly filesSkipped: readonly SkippedFile[];
  /** Records of readable files that could not be used, per file and reason. */
  readonly recordsDropped: readonly DroppedRecords[];
  /** The total of `recordsDropped`. */
  readonly recordsDroppedTotal: number;
  readonly recordsWithoutTime: number;
  /** eventIDs shared by records of different content (all kept). */
  readonly conflicts: readonly EventIdConflict[];
  /** What of the input is missing, in words ("1 file of the window could not be read"); null when it was complete. */
  readonly incompleteInput: string | null;
  readonly warnings: readonly string[];
  readonly sections: readonly ReportSection[];
  /** How the check sections are grouped for reading (see ReportGroup); every section is in at least one group. */
  readonly groups: readonly ReportGroup[];
  /** Data scanned and its estimated price, when the engine bills by scan (Athena); absent otherwise. */
  readonly cost?: ReportCost;
  /** The IAM inventory the run judged roles and users on; null when it had none. */
  readonly inventory: ReportInventory | null;
  /** What changed since the previous run of the job; null for runs archived before comparisons existed. */
  readonly changes: ReportChanges | null;
  /** CloudTrail log file validation in one line; null when the run did not validate (no log_integrity check). */
  readonly integrity: string | null;
}

/** Tallies `rows` per value of column `by`, counting the values of column `of`. Pure. */
export function summarise(columns: readonly string[], rows: readonly (readonly (string | null)[])[], by: string, of: string): SectionSummary | null {
  const byIndex = columns.indexOf(by);
  const ofIndex = columns.indexOf(of);
  if (byIndex === -1 || ofIndex === -1) return null;
  const values = [...new Set(rows.map((row) => row[ofIndex] ?? ''))].sort();
  const groups = new Map<string, number[]>();
  for (const row of rows) {
    const key = row[byIndex] ?? '';
    const counts = groups.get(key) ?? values.map(() => 0);
    counts[values.indexOf(row[ofIndex] ?? '')]! += 1;
    groups.set(key, counts);
  }
  return {
    by,
    of,
    values,
    rows: [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, counts]) => ({ key, total: counts.reduce((sum, n) => sum + n, 0), counts })),
    hiddenRows: 0,
  };
}

/** The scan cost of a run, ready to show: per query and in total (see core/cost.ts for the arithmetic). */
export interface ReportCost {
  readonly scannedBytes: number;
  readonly billedBytes: number;
  readonly costUsd: number;
  readonly scanned: string;
  readonly estimate: string;
  readonly queries: readonly { readonly label: string; readonly scannedBytes: number; readonly scanned: string; readonly estimate: string }[];
}

/** Only engines that bill by scan report scanned bytes; a run without any gets no cost section. */
function costOf(stats: WindowStats, findings: readonly Finding[], inventoryScan?: number): ReportCost | undefined {
  const load = stats.scanCharges ?? (stats.scannedBytes === undefined ? [] : [{ label: 'load window', scannedBytes: stats.scannedBytes, billed: true }]);
  const queries = [
    ...load.map((q) => ({ ...q, label: q.billed ? q.label : `${q.label} (not billed)` })),
    ...(inventoryScan === undefined ? [] : [{ label: 'IAM activity (inventory checks)', scannedBytes: inventoryScan, billed: true }]),
    ...findings.flatMap((f) => {
      if (f.result?.scannedBytes !== undefined) {
        const reused = f.result.reused === true;
        return [{ label: reused ? `${f.checkId} (reused result, not billed)` : f.checkId, scannedBytes: f.result.scannedBytes, billed: !reused }];
      }
      // A query stopped at the timeout (or cancelled by the workgroup) left no result, but Athena bills what it scanned.
      return f.scannedBytes === undefined ? [] : [{ label: `${f.checkId} (cancelled, still billed)`, scannedBytes: f.scannedBytes, billed: true }];
    }),
  ];
  if (queries.length === 0) return undefined;
  const summary = summariseCost(queries);
  return {
    scannedBytes: summary.scannedBytes,
    billedBytes: summary.billedBytes,
    costUsd: summary.costUsd,
    scanned: formatBytes(summary.scannedBytes),
    estimate: formatUsd(summary.costUsd),
    queries: summary.queries.map((q) => ({
      label: q.label,
      scannedBytes: q.scannedBytes,
      scanned: formatBytes(q.scannedBytes),
      estimate: formatUsd(q.costUsd),
    })),
  };
}

const STATUS_ORDER = Object.fromEntries(STATUSES.map((status, index) => [status, index])) as Readonly<Record<Status, number>>;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * e.g. "2 failed, 1 error, 1 incomplete" or "all passed" (", 3 not run" when checks could not run). Never "all
 * passed" on incomplete input: then a suite without threshold checks (nothing to count as incomplete) reads "input
 * incomplete".
 */
export function verdictText(counts: Readonly<Record<Status, number>>, inputComplete: boolean): string {
  const parts: string[] = [];
  if (counts.fail > 0) parts.push(`${counts.fail} failed`);
  if (counts.error > 0) parts.push(plural(counts.error, 'error'));
  if (counts.incomplete > 0) parts.push(`${counts.incomplete} incomplete`);
  if (parts.length === 0) parts.push(inputComplete ? 'all passed' : 'input incomplete');
  // Checks that could not run (no IAM inventory) are named even beside "all passed": they passed nothing.
  if (counts.not_run > 0) parts.push(`${counts.not_run} not run`);
  return parts.join(', ');
}

function verdictOf(counts: Readonly<Record<Status, number>>, inputComplete: boolean): Verdict {
  if (counts.fail > 0) return 'fail';
  if (counts.error > 0) return 'error';
  if (counts.incomplete > 0 || !inputComplete) return 'incomplete';
  return 'pass';
}

function accountsText(accounts: readonly string[]): string {
  if (accounts.length === 0) return 'no accounts';
  return accounts.length <= 3 ? accounts.join(', ') : `${accounts.length} accounts`;
}

/** Things the reader must know to trust (or distrust) the numbers. */
function warningsFor(stats: WindowStats): string[] {
  const warnings: string[] = [];
  if (stats.events === 0) {
    warnings.push('No events were found in the window: every check below saw nothing. Check the log location and the as-of time.');
  }
  if (stats.filesSkipped.length > 0) {
    warnings.push(
      `${plural(stats.filesSkipped.length, 'file')} could not be read and ${stats.filesSkipped.length === 1 ? 'was' : 'were'} skipped; their events are missing from every check (listed below).`,
    );
  }
  if (stats.events > 0 && !stats.regions.includes('us-east-1')) {
    warnings.push('us-east-1 is not in scope: global-service events (IAM, STS, most console sign-ins) are logged there, so the checks miss them.');
  }
  if (stats.dataEvents === 0) {
    warnings.push('No data events are in scope: use of data-plane actions (s3:GetObject, lambda:Invoke…) is unknown, not "unused".');
  }
  const dropped = stats.recordsDropped.reduce((sum, d) => sum + d.count, 0);
  if (dropped > 0) {
    const files = new Set(stats.recordsDropped.map((d) => d.path)).size;
    warnings.push(
      `${plural(dropped, 'record')} of ${plural(files, 'readable file')} could not be used and ${dropped === 1 ? 'was' : 'were'} dropped; ${dropped === 1 ? 'it is' : 'they are'} missing from every check (listed below).`,
    );
  }
  if (stats.recordsWithoutTime > 0) {
    warnings.push(`${plural(stats.recordsWithoutTime, 'record')} had no eventTime and could not be placed in the window.`);
  }
  if (incompleteInput(stats) !== undefined) {
    warnings.push(
      'The input is incomplete, so no check can pass: a check within its limit is INCOMPLETE (or FAIL, with on_incomplete: fail), and informational results may be missing rows.',
    );
  }
  if (stats.conflicts.length > 0) {
    warnings.push(
      `${plural(stats.conflicts.length, 'eventID')} ${stats.conflicts.length === 1 ? 'is' : 'are'} shared by records of different content; every one of those records was kept and counted (listed below).`,
    );
  }
  return warnings;
}

function frameworkTags(check: Check): string[] {
  return Object.entries(check.frameworks).flatMap(([framework, controls]) => controls.map((control) => `${frameworkLabel(framework)} ${control}`));
}

/** The heading of the checks a framework grouping leaves over. */
export const OTHER_CHECKS = 'Other checks';

/** The sections grouped as ReportGroup says; without `groupBy`, one group without a heading. Pure. */
export function groupSections(
  sections: readonly Pick<ReportSection, 'id'>[],
  checks: readonly Pick<Check, 'id' | 'frameworks'>[],
  groupBy?: { readonly framework: string },
): ReportGroup[] {
  const ids = sections.map((section) => section.id);
  if (!groupBy) return [{ heading: null, framework: null, control: null, sectionIds: ids }];
  const { framework } = groupBy;
  const controlsOf = new Map(checks.map((check) => [check.id, check.frameworks[framework] ?? []]));
  const controls = [...new Set(ids.flatMap((id) => controlsOf.get(id) ?? []))].sort(compareControls);
  const groups: ReportGroup[] = controls.map((control) => ({
    heading: controlHeading(framework, control),
    framework,
    control,
    sectionIds: ids.filter((id) => controlsOf.get(id)?.includes(control)),
  }));
  const others = ids.filter((id) => (controlsOf.get(id) ?? []).length === 0);
  if (others.length > 0) groups.push({ heading: OTHER_CHECKS, framework: null, control: null, sectionIds: others });
  return groups;
}

/** The groups with their sections, for the templates: a group's `sections` in the report's order. Pure. */
export function sectionGroups(report: Pick<Report, 'sections' | 'groups'>): { heading: string | null; sections: ReportSection[] }[] {
  const byId = new Map(report.sections.map((section) => [section.id, section]));
  return report.groups.map((group) => ({
    heading: group.heading,
    sections: group.sectionIds.flatMap((id) => {
      const section = byId.get(id);
      return section ? [section] : [];
    }),
  }));
}

/** What to do about a check judged on incomplete input that did not find enough to fail on its own. */
export const INCOMPLETE_REMEDIATION =
  'Make the log files and records listed above readable (sync them again from the trail bucket, or restore them) and run again with the same --as-of: until then this check proves nothing either way.';

/** The check's own remediation when it found too much; for a check held back by missing input, how to complete it. */
function remediationFor(check: Check, finding: Finding): string | null {
  const exceeded = check.evaluation.kind === 'threshold' && finding.observed !== null && finding.observed > check.evaluation.fail_above;
  if (finding.status === 'fail' && exceeded) return check.remediation ?? null;
  if (finding.status === 'incomplete' || finding.status === 'fail') return INCOMPLETE_REMEDIATION;
  return null;
}

/** Builds the report model from a run's facts. Pure. */
export function buildReport(input: ReportInput): Report {
  const checksById = new Map(input.checks.map((check) => [check.id, check]));
  const catalogOrder = new Map(input.checks.map((check, index) => [check.id, index]));
  const counts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<Status, number>;
  for (const finding of input.findings) counts[finding.status] += 1;

  const ordered = [...input.findings].sort(
    (a, b) =>
      STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
      severityRank(b.severity) - severityRank(a.severity) ||
      (catalogOrder.get(a.checkId) ?? 0) - (catalogOrder.get(b.checkId) ?? 0),
  );

  const sections = ordered.map((finding): ReportSection => {
    const check = checksById.get(finding.checkId);
    if (!check) throw new Error(`finding for unknown check ${finding.checkId}`);
    const window = checkWindow(check, input.asOf);
    const rows = finding.result?.rows ?? [];
    const shown = previewRowLimit(finding.status, configuredLimits(input.previewRows));
    const previewRows = rows.slice(0, shown).map((row) => row.map((cell) => cell ?? ''));
    const columns = finding.result?.columns ?? [];
    return {
      id: check.id,
      title: check.title,
      description: check.description,
      status: finding.status,
      severity: finding.severity,
      observed: finding.observed,
      threshold: finding.threshold,
      reason: finding.reason,
      windowStart: toCloudTrailTime(window.start),
      windowEnd: toCloudTrailTime(window.end),
      columns,
      previewRows,
      previewColumns: planColumns(columns, previewRows),
      rowCount: rows.length,
      hiddenRows: rows.length - previewRows.length,
      evidence: input.evidence[check.id] ?? null,
      evidenceLink: null,
      remediation: remediationFor(check, finding),
      references: check.references,
      frameworks: frameworkTags(check),
      summary: check.summary && finding.result ? summarise(finding.result.columns, rows, check.summary[0], check.summary[1]) : null,
    };
  });

  const missing = incompleteInput(input.stats);
  const verdict = verdictOf(counts, missing === undefined);
  const period = `${isoDate(input.window.start)} → ${isoDate(input.window.end)}`;
  return {
    title: 'CloudTrail compliance report',
    subject: `[trailwarden] ${verdictText(counts, missing === undefined)} · ${accountsText(input.stats.accounts)} · ${period}`,
    runId: input.runId,
    toolVersion: input.toolVersion,
    asOf: toCloudTrailTime(input.asOf),
    generatedAt: toCloudTrailTime(input.generatedAt),
    windowStart: toCloudTrailTime(input.window.start),
    windowEnd: toCloudTrailTime(input.window.end),
    source: input.source,
    archiveLocation: input.archiveLocation,
    verdict,
    counts: { ...counts, total: input.findings.length },
    accounts: input.stats.accounts,
    regions: input.stats.regions,
    events: input.stats.events,
    duplicates: input.stats.duplicates,
    filesRead: input.stats.filesRead,
    filesSkipped: input.stats.filesSkipped,
    recordsDropped: input.stats.recordsDropped,
    recordsDroppedTotal: input.stats.recordsDropped.reduce((sum, d) => sum + d.count, 0),
    recordsWithoutTime: input.stats.recordsWithoutTime,
    conflicts: input.stats.conflicts,
    incompleteInput: missing ?? null,
    warnings: warningsFor(input.stats),
    sections,
    groups: groupSections(sections, input.checks, input.groupBy),
    cost: costOf(input.stats, input.findings, input.inventory?.scannedBytes),
    inventory: input.inventory ?? null,
    integrity: input.integrity ?? null,
    changes: input.changes ?? null,
  };
}

/**
 * The report as the e-mail previews it under `limits` (see PREVIEW_STEPS): fewer result rows and tally rows, each
 * section still counting every row. The columns are planned again for the rows left. Pure.
 */
export function withPreviewLimits(report: Report, limits: PreviewLimits): Report {
  const changes = report.changes && {
    ...report.changes,
    rowDeltas: report.changes.rowDeltas.map((delta) => ({
      ...delta,
      addedExamples: delta.addedExamples.slice(0, limits.changeExamples),
      removedExamples: delta.removedExamples.slice(0, limits.changeExamples),
    })),
  };
  return {
    ...report,
    ...(changes ? { changes } : {}),
    sections: report.sections.map((section) => {
      const shown = Math.min(section.previewRows.length, previewRowLimit(section.status, limits));
      const previewRows = section.previewRows.slice(0, shown);
      const summary = section.summary && {
        ...section.summary,
        rows: section.summary.rows.slice(0, limits.summaryRows),
        hiddenRows: section.summary.hiddenRows + Math.max(0, section.summary.rows.length - limits.summaryRows),
      };
      return {
        ...section,
        previewRows,
        previewColumns: shown === section.previewRows.length ? section.previewColumns : planColumns(section.columns, previewRows),
        hiddenRows: section.rowCount - shown,
        summary,
      };
    }),
  };
}

/** Only web links reach an href: anything else (javascript:, data:, a path) is shown as text or not at all. */
function isWebLink(value: string | undefined): value is string {
  if (!value) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * The same report with a download link per check (by check id), for the e-mail. Sections without an
 * http(s) link keep `evidenceLink: null` and show the evidence location as text. Pure.
 */
export function withEvidenceLinks(report: Report, links: Readonly<Record<string, string | undefined>>): Report {
  return {
    ...report,
    sections: report.sections.map((section) => {
      const link = links[section.id];
      return { ...section, evidenceLink: section.evidence !== null && isWebLink(link) ? link : null };
    }),
  };
}

/**
 * A report model read back from an archived `report.json`, completed for today's templates: a run archived
 * before a field existed lacks it (no `incomplete` count, dropped records or conflicts before those existed).
 * Nothing is judged again: what the run said stays what it said. Pure.
 */
export function reportFromJson(raw: unknown): Report {
  type Added =
    'recordsDropped' | 'recordsDroppedTotal' | 'recordsWithoutTime' | 'conflicts' | 'incompleteInput' | 'inventory' | 'changes' | 'groups' | 'integrity';
  const stored = raw as Omit<Report, Added | 'counts'> &
    Partial<Pick<Report, Added>> & { counts: Omit<Report['counts'], 'incomplete' | 'not_run'> & { incomplete?: number; not_run?: number } };
  return {
    ...stored,
    counts: { ...stored.counts, incomplete: stored.counts.incomplete ?? 0, not_run: stored.counts.not_run ?? 0 },
    recordsDropped: stored.recordsDropped ?? [],
    recordsDroppedTotal: stored.recordsDroppedTotal ?? 0,
    recordsWithoutTime: stored.recordsWithoutTime ?? 0,
    conflicts: stored.conflicts ?? [],
    incompleteInput: stored.incompleteInput ?? null,
    inventory: stored.inventory ?? null,
    integrity: stored.integrity ?? null,
    changes: stored.changes ?? null,
    sections: stored.sections.map(
      (section: Omit<ReportSection, 'summary' | 'previewColumns'> & Partial<Pick<ReportSection, 'summary' | 'previewColumns'>>) => ({
        ...section,
        summary: section.summary ? { ...section.summary, hiddenRows: section.summary.hiddenRows ?? 0 } : null,
        previewColumns: section.previewColumns ?? planColumns(section.columns, section.previewRows),
      }),
    ),
    // Reports archived before grouping existed were not grouped.
    groups: stored.groups ?? groupSections(stored.sections, []),
  };
}
