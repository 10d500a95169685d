import { describe, expect, it } from 'vitest';
import type { Check } from '../../src/core/catalog.js';
import { checkError, evaluate } from '../../src/core/evaluate.js';
import type { WindowStats } from '../../src/core/model.js';
import { resolveParameters, runWindow } from '../../src/core/params.js';
import { buildReport } from '../../src/core/report.js';
import { deliveryDaysFor, parseAsOf } from '../../src/core/time.js';

function check(overrides: Partial<Check> = {}): Check {
  return {
    id: 'failures',
    title: 'Failures',
    description: 'd',
    severity: 'medium',
    lookback_days: 30,
    parameters: ['window_start', 'window_end'],
    columns: ['who', 'errors'],
    options: {},
    evaluation: { kind: 'threshold', metric: 'row_count', fail_above: 2 },
    references: [],
    frameworks: { 'cis_aws_foundations_v1.4': ['4.6'] },
    remediation: 'Do something.',
    sql: 'SELECT 1 FROM cloudtrail_window',
    optionValues: {},
    ...overrides,
  };
}

const rows = (n: number) => ({ columns: ['who', 'errors'], rows: Array.from({ length: n }, (_, i) => [`p${i}`, '20']) });

describe('evaluate', () => {
  it('fails only above the threshold', () => {
    expect(evaluate(check(), rows(2)).status).toBe('pass');
    const finding = evaluate(check(), rows(3));
    expect(finding.status).toBe('fail');
    expect(finding.observed).toBe(3);
    expect(finding.reason).toBe('rows = 3, above the limit of 2');
  });

  it('sums a column when the metric says so', () => {
    const sumCheck = check({ evaluation: { kind: 'threshold', metric: 'sum:errors', fail_above: 50 } });
    expect(evaluate(sumCheck, rows(2))).toMatchObject({ status: 'pass', observed: 40 });
    expect(evaluate(sumCheck, rows(3))).toMatchObject({ status: 'fail', observed: 60 });
  });

  it('turns a missing or non-numeric metric column into an error, not a pass', () => {
    const missing = check({ columns: ['who', 'errors', 'calls'], evaluation: { kind: 'threshold', metric: 'sum:calls', fail_above: 0 } });
    expect(evaluate(missing, rows(1))).toMatchObject({ status: 'error', observed: null });
    const text = check({ evaluation: { kind: 'threshold', metric: 'sum:who', fail_above: 0 } });
    expect(evaluate(text, rows(1)).reason).toContain('holds "p0", expected a number');
  });

  it('refuses to judge a result whose columns are not the ones check.yaml declares', () => {
    // A query edited without its check.yaml: the CSV header and the root alert's reads depend on the columns.
    const renamed = { columns: ['who', 'error_count'], rows: [['p0', '20']] };
    const finding = evaluate(check(), renamed);
    expect(finding).toMatchObject({ status: 'error', observed: null });
    expect(finding.reason).toBe('the query returned the columns (who, error_count), but check.yaml declares (who, errors)');
    expect(evaluate(check({ evaluation: { kind: 'info' } }), renamed).status).toBe('error');
  });

  it('reports info checks without judging them', () => {
    expect(evaluate(check({ evaluation: { kind: 'info' } }), rows(5))).toMatchObject({ status: 'info', observed: 5, threshold: null });
  });
});

describe('windows and parameters', () => {
  it('binds each check its own lookback, ending at as-of, in CloudTrail time form', () => {
    const asOf = parseAsOf('2026-11-23T08:00:00.750Z')!;
    expect(resolveParameters(check({ lookback_days: 7 }), asOf)).toEqual(['2026-11-16T08:00:00Z', '2026-11-23T08:00:00Z']);
  });

  it('binds list options as lists', () => {
    const c = check({ parameters: ['window_start', 'window_end', 'arns'], optionValues: { arns: ['a', "b'c"] } });
    expect(resolveParameters(c, parseAsOf('2026-11-23')!)[2]).toEqual(['a', "b'c"]);
  });

  it('loads the longest lookback and reads day folders from the day before the window', () => {
    const asOf = parseAsOf('2026-11-23T08:00:00Z')!;
    const window = runWindow([check({ lookback_days: 7 }), check({ lookback_days: 30 })], asOf);
    expect(window.start.toISOString()).toBe('2026-10-24T08:00:00.000Z');
    const days = deliveryDaysFor(window);
    expect(days[0]).toBe('2026/10/23');
    expect(days.at(-1)).toBe('2026/11/24');
    expect(days).toHaveLength(33);
  });

  it('rejects times without a zone or that are not times', () => {
    expect(parseAsOf('2026-11-23T08:00:00')).toBeUndefined();
    expect(parseAsOf('last tuesday')).toBeUndefined();
    expect(parseAsOf('2026-02-30')).toBeUndefined();
    expect(parseAsOf('2026-11-23T24:00:00Z')).toBeUndefined();
    expect(parseAsOf('2028-02-29')?.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(parseAsOf('2026-11-23T09:00:00+01:00')?.toISOString()).toBe('2026-11-23T08:00:00.000Z');
  });
});

describe('buildReport', () => {
  const stats: WindowStats = {
    filesRead: 10,
    filesSkipped: [{ path: 'AWSLogs/1/x.json.gz', reason: 'truncated' }],
    events: 100,
    duplicates: 3,
    recordsWithoutTime: 0,
    recordsDropped: [],
    conflicts: [],
    dataEvents: 0,
    accounts: ['111111111111'],
    regions: ['eu-west-1'],
  };

  it('puts the verdict, accounts and period in the subject and failures first', () => {
    const info = check({ id: 'who', title: 'Who', evaluation: { kind: 'info' }, severity: 'info' });
    const critical = check({ id: 'root', title: 'Root', severity: 'critical', evaluation: { kind: 'threshold', metric: 'row_count', fail_above: 0 } });
    const broken = check({ id: 'broken', title: 'Broken' });
    const checks = [info, check(), critical, broken];
    const asOf = parseAsOf('2026-11-24T00:00:00Z')!;
    const report = buildReport({
      runId: 'r1',
      asOf,
      window: { start: new Date('2026-11-17T00:00:00Z'), end: asOf },
      generatedAt: asOf,
      toolVersion: '0.0.0',
      source: 'local',
      checks,
      findings: [evaluate(info, rows(1)), evaluate(check(), rows(3)), evaluate(critical, rows(1)), checkError(broken, 'boom')],
      stats,
      evidence: { who: '/a/who.csv' },
      archiveLocation: '/a',
      previewRows: 2,
    });
    expect(report.subject).toBe('[trailwarden] 2 failed, 1 error · 111111111111 · 2026-11-17 → 2026-11-24');
    expect(report.sections.map((s) => s.id)).toEqual(['root', 'failures', 'broken', 'who']);
    expect(report.sections[0]?.remediation).toBe('Do something.');
    expect(report.sections[3]?.remediation).toBeNull();
    expect(report.sections[1]).toMatchObject({ rowCount: 3, hiddenRows: 1 });
    expect(report.sections[1]?.frameworks).toEqual(['CIS AWS Foundations v1.4 4.6']);
    expect(report.warnings.join('\n')).toContain('1 file could not be read');
    expect(report.warnings.join('\n')).toContain('us-east-1 is not in scope');
    expect(report.warnings.join('\n')).toContain('unknown, not "unused"');
  });
});
