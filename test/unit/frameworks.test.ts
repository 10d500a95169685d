import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/core/evaluate.js';
import { compareControls, frameworkCoverage, knownFrameworks } from '../../src/core/frameworks.js';
import { buildReport, groupSections, reportFromJson, type ReportInput } from '../../src/core/report.js';
import { ReportRenderer } from '../../src/render/report.js';
import { rootCheck, windowStats } from '../support/checks.js';

const CIS = 'cis_aws_foundations_v1.4';

const root = rootCheck({ frameworks: { [CIS]: ['4.3'], security_hub: ['CloudWatch.1'] } });
const sg = rootCheck({ id: 'security_group_changes_7d', title: 'Security group changes', severity: 'info', frameworks: { [CIS]: ['4.10'] } });
const iam = rootCheck({ id: 'iam_policy_changes_7d', title: 'IAM policy changes', severity: 'medium', frameworks: { [CIS]: ['4.4'] } });
const roles = rootCheck({ id: 'roles_active_7d', title: 'Roles active', severity: 'info', evaluation: { kind: 'info' }, frameworks: {} });
const twice = rootCheck({ id: 'root_and_iam', title: 'Root IAM changes', severity: 'low', frameworks: { [CIS]: ['4.3', '4.4'] } });

function input(checks: ReturnType<typeof rootCheck>[], groupBy?: { framework: string }): ReportInput {
  const asOf = new Date('2026-11-23T08:00:00Z');
  const stats = windowStats();
  return {
    runId: 'run-1',
    asOf,
    window: { start: new Date('2026-11-16T08:00:00Z'), end: asOf },
    generatedAt: asOf,
    toolVersion: '0.1.0',
    source: 'local folder /logs',
    checks,
    findings: checks.map((check) => evaluate(check, { columns: check.columns, rows: [['2026-11-20T10:00:00Z', 'aws-cli/2']] }, stats)),
    stats,
    evidence: {},
    archiveLocation: '/archive/run-1',
    previewRows: 10,
    ...(groupBy ? { groupBy } : {}),
  };
}

describe('frameworks', () => {
  it('orders controls naturally: 4.2 before 4.10, CloudWatch.2 before CloudWatch.10', () => {
    expect(['4.10', '4.2', '4.1', '1.12', '4.15', '4.3'].sort(compareControls)).toEqual(['1.12', '4.1', '4.2', '4.3', '4.10', '4.15']);
    expect(['CloudWatch.10', 'CloudWatch.2', 'CloudWatch.1'].sort(compareControls)).toEqual(['CloudWatch.1', 'CloudWatch.2', 'CloudWatch.10']);
  });

  it('says which controls the checks cover, with their checks, and which known ones they do not', () => {
    // Act
    const coverage = frameworkCoverage(CIS, [sg, iam, root, twice]);

    // Assess
    expect(coverage.covered.map((c) => [c.control, c.checkIds])).toEqual([
      ['4.3', ['root_activity_7d', 'root_and_iam']],
      ['4.4', ['iam_policy_changes_7d', 'root_and_iam']],
      ['4.10', ['security_group_changes_7d']],
    ]);
    expect(coverage.covered[1]?.title).toBe('IAM policy changes');
    expect(coverage.uncovered.map((c) => c.control)).toEqual(['4.1', '4.2', '4.5', '4.6', '4.7', '4.8', '4.9', '4.11', '4.12', '4.13', '4.14', '4.15']);
    expect(coverage.knownControls).toBe(15);
  });

  it('knows its own frameworks and any a check is tagged with', () => {
    expect(knownFrameworks([rootCheck({ frameworks: { nist_800_53: ['AU-6'] } })])).toEqual([CIS, 'nist_800_53', 'security_hub']);
    const unknownToUs = frameworkCoverage('nist_800_53', [rootCheck({ frameworks: { nist_800_53: ['AU-6'] } })]);
    expect(unknownToUs).toMatchObject({ label: 'nist_800_53', scope: null, uncovered: [], covered: [{ control: 'AU-6', title: null }] });
  });
});

describe('report grouped by framework control', () => {
  it('is one group without a heading unless asked', () => {
    const report = buildReport(input([root, sg, roles]));
    expect(report.groups).toEqual([{ heading: null, framework: null, control: null, sectionIds: report.sections.map((s) => s.id) }]);
  });

  it('groups sections under control headings in control order, a check under each of its controls, untagged ones last', () => {
    // Act
    const report = buildReport(input([sg, roles, iam, root, twice], { framework: CIS }));

    // Assess
    expect(report.groups.map((g) => [g.heading, g.sectionIds])).toEqual([
      ['CIS AWS Foundations v1.4 — 4.3 Usage of the root account', ['root_activity_7d', 'root_and_iam']],
      ['CIS AWS Foundations v1.4 — 4.4 IAM policy changes', ['iam_policy_changes_7d', 'root_and_iam']],
      ['CIS AWS Foundations v1.4 — 4.10 Security group changes', ['security_group_changes_7d']],
      ['Other checks', ['roles_active_7d']],
    ]);
    // Every section is in some group, and the flat list (and the summary table) keeps its order.
    expect(new Set(report.groups.flatMap((g) => g.sectionIds))).toEqual(new Set(report.sections.map((s) => s.id)));
  });

  it('groups by another framework: a check without a tag of it goes under "Other checks"', () => {
    const groups = groupSections([{ id: 'root_activity_7d' }, { id: 'iam_policy_changes_7d' }], [root, iam], { framework: 'security_hub' });
    expect(groups.map((g) => [g.heading, g.sectionIds])).toEqual([
      ['Security Hub — CloudWatch.1 Usage of the root user', ['root_activity_7d']],
      ['Other checks', ['iam_policy_changes_7d']],
    ]);
  });

  it('reads an archived report from before grouping as ungrouped', () => {
    const report = buildReport(input([root, sg], { framework: CIS }));
    const archived = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    delete archived.groups;
    expect(reportFromJson(archived).groups).toEqual([{ heading: null, framework: null, control: null, sectionIds: report.sections.map((s) => s.id) }]);
  });

  it('renders the control headings above their checks in the HTML and the text, and none when not grouped', async () => {
    // Prepare
    const renderer = await ReportRenderer.load();

    // Act
    const grouped = renderer.render(buildReport(input([sg, roles, iam], { framework: CIS })));
    const flat = renderer.render(buildReport(input([sg, roles, iam])));

    // Assess: each heading, then its checks' sections, then the next heading.
    const order = (out: string, marks: string[]) => marks.map((mark) => out.indexOf(mark));
    const textOrder = order(grouped.text, [
      '#### CIS AWS Foundations v1.4 — 4.4 IAM policy changes',
      '== FAIL: IAM policy changes ==',
      '#### CIS AWS Foundations v1.4 — 4.10 Security group changes',
      '== FAIL: Security group changes ==',
      '#### Other checks',
      '== INFO: Roles active ==',
    ]);
    expect(textOrder.every((at) => at > -1)).toBe(true);
    expect(textOrder).toEqual([...textOrder].sort((a, b) => a - b));
    const htmlOrder = order(grouped.html, [
      'CIS AWS Foundations v1.4 — 4.4 IAM policy changes</h1>',
      'IAM policy changes</h2>',
      'CIS AWS Foundations v1.4 — 4.10 Security group changes</h1>',
      'Security group changes</h2>',
      'Other checks</h1>',
      'Roles active</h2>',
    ]);
    expect(htmlOrder.every((at) => at > -1)).toBe(true);
    expect(htmlOrder).toEqual([...htmlOrder].sort((a, b) => a - b));
    for (const out of [flat.html, flat.text]) {
      expect(out).not.toContain('CIS AWS Foundations v1.4 —');
      expect(out).not.toContain('Other checks');
    }
  });
});
