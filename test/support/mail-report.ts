import type { Check } from '../../src/core/catalog.js';
import { evaluate } from '../../src/core/evaluate.js';
import type { WindowStats } from '../../src/core/model.js';
import { buildReport, type Report } from '../../src/core/report.js';
import { toCsv } from '../../src/render/csv.js';
import type { EvidenceCsv } from '../../src/mail/report-mail.js';
import { rootCheck, windowStats } from './checks.js';

/** Named mail-report.ts: a small report and its CSV evidence for the mail tests (two checks, hostile values). */
const root: Check = rootCheck();
const roles: Check = { ...root, id: 'roles_active_7d', title: 'Roles active', evaluation: { kind: 'info' }, severity: 'info', remediation: undefined };

export const HOSTILE_AGENT = '<script>alert("root")</script>';

/** A report of run `runId` with `rows` rows per check, and the CSVs a run would archive for it. */
export function sampleReport(runId: string, rows = 3): { report: Report; csvs: EvidenceCsv[] } {
  const asOf = new Date('2026-11-23T08:00:00Z');
  const result = (i: number) => ({
    columns: ['event_time', 'user_agent'],
    rows: Array.from({ length: rows }, (_, r) => [`2026-11-2${r % 3}T10:00:0${i}Z`, r === 0 ? HOSTILE_AGENT : `aws-cli/2.${r}`]),
  });
  const stats: WindowStats = windowStats({ events: 10 });
  const findings = [evaluate(root, result(1), stats), evaluate(roles, result(2), stats)];
  const report = buildReport({
    runId,
    asOf,
    window: { start: new Date('2026-11-16T08:00:00Z'), end: asOf },
    generatedAt: asOf,
    toolVersion: '0.1.0',
    source: 'local folder /logs',
    checks: [root, roles],
    findings,
    stats,
    evidence: { root_activity_7d: `/archive/${runId}/root_activity_7d.csv`, roles_active_7d: `/archive/${runId}/roles_active_7d.csv` },
    archiveLocation: `/archive/${runId}`,
    previewRows: 10,
  });
  const csvs = findings.map((f) => ({ checkId: f.checkId, name: `${f.checkId}.csv`, content: toCsv(f.result!) }));
  return { report, csvs };
}
