import { describe, expect, it } from 'vitest';
import type { Check } from '../../src/core/catalog.js';
import { checkError, evaluate, type InputFacts } from '../../src/core/evaluate.js';
import type { WindowStats } from '../../src/core/model.js';
import { resolveParameters, runWindow } from '../../src/core/params.js';
import { buildReport, INCOMPLETE_REMEDIATION, reportFromJson } from '../../src/core/report.js';
import { deliveryDaysFor, parseAsOf } from '../../src/core/time.js';
import { windowStats } from '../support/checks.js';

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
    on_incomplete: 'incomplete',
    references: [],
    frameworks: { 'cis_aws_foundations_v1.4': ['4.6'] },
    remediation: 'Do something.',
    sql: 'SELECT 1 FROM cloudtrail_window',
    optionValues: {},
    ...overrides,
  };
}

/** A window whose every file and record was read. */
const complete: InputFacts = { filesSkipped: [], recordsDropped: [], recordsWithoutTime: 0 };

const rows = (n: number) => ({ columns: ['who', 'errors'], rows: Array.from({ length: n }, (_, i) => [`p${i}`, '20']) });

describe('evaluate', () => {
  it('fails only above the threshold', () => {
    expect(evaluate(check(), rows(2), complete).status).toBe('pass');
    const finding = evaluate(check(), rows(3), complete);
    expect(finding.status).toBe('fail');
    expect(finding.observed).toBe(3);
    expect(finding.reason).toBe('rows = 3, above the limit of 2');
  });

  it('sums a column when the metric says so', () => {
    const sumCheck = check({ evaluation: { kind: 'threshold', metric: 'sum:errors', fail_above: 50 } });
    expect(evaluate(sumCheck, rows(2), complete)).toMatchObject({ status: 'pass', observed: 40 });
    expect(evaluate(sumCheck, rows(3), complete)).toMatchObject({ status: 'fail', observed: 60 });
  });

  it('turns a missing or non-numeric metric column into an error, not a pass', () => {
    const missing = check({ columns: ['who', 'errors', 'calls'], evaluation: { kind: 'threshold', metric: 'sum:calls', fail_above: 0 } });
    expect(evaluate(missing, rows(1), complete)).toMatchObject({ status: 'error', observed: null });
    const text = check({ evaluation: { kind: 'threshold', metric: 'sum:who', fail_above: 0 } });
    expect(evaluate(text, rows(1), complete).reason).toContain('holds "p0", expected a number');
  });

  it('refuses to judge a result whose columns are not the ones check.yaml declares', () => {
    // A query edited without its check.yaml: the CSV header and the root alert's reads depend on the columns.
    const renamed = { columns: ['who', 'error_count'], rows: [['p0', '20']] };
    const finding = evaluate(check(), renamed, complete);
    expect(finding).toMatchObject({ status: 'error', observed: null });
    expect(finding.reason).toBe('the query returned the columns (who, error_count), but check.yaml declares (who, errors)');
    expect(evaluate(check({ evaluation: { kind: 'info' } }), renamed, complete).status).toBe('error');
  });

  it('reports info checks without judging them', () => {
    expect(evaluate(check({ evaluation: { kind: 'info' } }), rows(5), complete)).toMatchObject({ status: 'info', observed: 5, threshold: null });
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
  const stats: WindowStats = windowStats({
    filesRead: 10,
    filesSkipped: [{ path: 'AWSLogs/1/x.json.gz', reason: 'truncated' }],
    events: 100,
    duplicates: 3,
    regions: ['eu-west-1'],
  });

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
      findings: [evaluate(info, rows(1), stats), evaluate(check(), rows(3), stats), evaluate(critical, rows(1), stats), checkError(broken, 'boom')],
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

describe('fail closed: a pass needs complete input', () => {
  const skipped = [{ path: 'AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/x.json.gz', reason: 'truncated' }];
  const dropped = [{ path: 'AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/21/y.json.gz', reason: 'record is not an object', count: 3 }];

  it('judges a result within the limit on a window with an unreadable file and dropped records as incomplete, and says why', () => {
    // Act
    const finding = evaluate(check(), rows(0), { filesSkipped: skipped, recordsDropped: dropped, recordsWithoutTime: 0 });

    // Assess
    expect(finding).toMatchObject({ status: 'incomplete', observed: 0, threshold: 'fails when rows > 2' });
    expect(finding.reason).toBe('rows = 0, within the limit of 2, but 1 file and 3 records of the window could not be read: a pass needs complete input');
  });

  it.each([
    ['a skipped file', { filesSkipped: skipped, recordsDropped: [], recordsWithoutTime: 0 }, '1 file of the window could not be read'],
    ['dropped records', { filesSkipped: [], recordsDropped: dropped, recordsWithoutTime: 0 }, '3 records of the window could not be read'],
    ['records without an eventTime', { filesSkipped: [], recordsDropped: [], recordsWithoutTime: 1 }, '1 record had no eventTime'],
  ])('never passes with %s', (_, input: InputFacts, why) => {
    const finding = evaluate(check(), rows(2), input);
    expect(finding.status).toBe('incomplete');
    expect(finding.reason).toContain(why);
  });

  it('keeps a failure a failure: rows found are rows found', () => {
    const finding = evaluate(check(), rows(3), { filesSkipped: skipped, recordsDropped: dropped, recordsWithoutTime: 0 });
    expect(finding).toMatchObject({ status: 'fail', observed: 3, reason: 'rows = 3, above the limit of 2' });
  });

  it('fails a check set to on_incomplete: fail, naming the setting', () => {
    const strict = check({ on_incomplete: 'fail' });
    const finding = evaluate(strict, rows(0), { filesSkipped: skipped, recordsDropped: [], recordsWithoutTime: 0 });
    expect(finding.status).toBe('fail');
    expect(finding.reason).toBe(
      'rows = 0, within the limit of 2, but 1 file of the window could not be read: this check fails on incomplete input (on_incomplete: fail)',
    );
    expect(evaluate(strict, rows(0), complete).status).toBe('pass');
  });

  it('keeps informational checks informational, but says their input was incomplete', () => {
    const finding = evaluate(check({ evaluation: { kind: 'info' } }), rows(4), { filesSkipped: skipped, recordsDropped: [], recordsWithoutTime: 0 });
    expect(finding).toMatchObject({ status: 'info', observed: 4 });
    expect(finding.reason).toBe('4 row(s); informational, no threshold; input incomplete: 1 file of the window could not be read, so rows may be missing');
  });

  it('passes despite eventID conflicts: every conflicting record is kept, nothing is hidden', () => {
    const stats: WindowStats = { ...statsOf(), conflicts: [{ eventId: 'e-1', paths: ['a.json.gz', 'b.json.gz'], records: 2 }] };
    const finding = evaluate(check(), rows(0), stats);
    expect(finding.status).toBe('pass');
  });
});

describe('a report on incomplete input', () => {
  const asOf = parseAsOf('2026-11-24T00:00:00Z')!;
  const incompleteStats: WindowStats = windowStats({
    filesRead: 10,
    filesSkipped: [{ path: 'AWSLogs/1/x.json.gz', reason: 'truncated' }],
    events: 100,
    recordsDropped: [{ path: 'AWSLogs/1/y.json.gz', reason: 'eventTime "yesterday" is not a time', count: 3 }],
    conflicts: [{ eventId: 'evt-1', paths: ['AWSLogs/1/y.json.gz', 'AWSLogs/1/z.json.gz'], records: 2 }],
    dataEvents: 5,
  });

  function reportOf(checks: Check[], results: Record<string, number>, stats: WindowStats = incompleteStats) {
    return buildReport({
      runId: 'r1',
      asOf,
      window: { start: new Date('2026-11-17T00:00:00Z'), end: asOf },
      generatedAt: asOf,
      toolVersion: '0.0.0',
      source: 'local',
      checks,
      findings: checks.map((c) => (c.id === 'broken' ? checkError(c, 'boom') : evaluate(c, rows(results[c.id] ?? 0), stats))),
      stats,
      evidence: {},
      archiveLocation: '/a',
      previewRows: 2,
    });
  }

  it('counts incomplete checks, lists them after errors and before passes, and never says "all passed"', () => {
    // Prepare: two failures, one error, one would-be pass, one info
    const checks = [
      check({ id: 'who', evaluation: { kind: 'info' }, severity: 'info' }),
      check({ id: 'quiet', severity: 'critical' }),
      check({ id: 'noisy' }),
      check({ id: 'noisier', severity: 'high' }),
      check({ id: 'broken' }),
    ];

    // Act
    const report = reportOf(checks, { noisy: 3, noisier: 5 });

    // Assess
    expect(report.subject).toBe('[trailwarden] 2 failed, 1 error, 1 incomplete · 111111111111 · 2026-11-17 → 2026-11-24');
    expect(report.verdict).toBe('fail');
    expect(report.counts).toEqual({ fail: 2, error: 1, incomplete: 1, not_run: 0, pass: 0, info: 1, total: 5 });
    expect(report.sections.map((s) => [s.id, s.status])).toEqual([
      ['noisier', 'fail'],
      ['noisy', 'fail'],
      ['broken', 'error'],
      ['quiet', 'incomplete'],
      ['who', 'info'],
    ]);
    expect(report.sections[3]?.remediation).toBe(INCOMPLETE_REMEDIATION);
    expect(report.sections[0]?.remediation).toBe('Do something.');
  });

  it('makes "incomplete" the verdict when it is the worst status', () => {
    const report = reportOf([check({ id: 'quiet' }), check({ id: 'who', evaluation: { kind: 'info' } })], {});
    expect(report.verdict).toBe('incomplete');
    expect(report.subject).toBe('[trailwarden] 1 incomplete · 111111111111 · 2026-11-17 → 2026-11-24');
  });

  it('says "input incomplete", not "all passed", for a suite of informational checks only', () => {
    const report = reportOf([check({ id: 'who', evaluation: { kind: 'info' } })], { who: 3 });
    expect(report.verdict).toBe('incomplete');
    expect(report.subject).toContain('[trailwarden] input incomplete ·');
    expect(report.subject).not.toContain('all passed');
  });

  it('still says "all passed" on complete input, conflicts or not', () => {
    const clean: WindowStats = { ...incompleteStats, filesSkipped: [], recordsDropped: [] };
    const report = reportOf([check({ id: 'quiet' })], {}, clean);
    expect(report.verdict).toBe('pass');
    expect(report.subject).toContain('[trailwarden] all passed ·');
    expect(report.incompleteInput).toBeNull();
  });

  it('lists dropped records per file and eventID conflicts, and warns about both', () => {
    const report = reportOf([check({ id: 'quiet' })], {});
    expect(report.recordsDropped).toEqual(incompleteStats.recordsDropped);
    expect(report.recordsDroppedTotal).toBe(3);
    expect(report.conflicts).toEqual(incompleteStats.conflicts);
    expect(report.incompleteInput).toBe('1 file and 3 records of the window could not be read');
    const warnings = report.warnings.join('\n');
    expect(warnings).toContain('3 records of 1 readable file could not be used and were dropped');
    expect(warnings).toContain('The input is incomplete, so no check can pass');
    expect(warnings).toContain('1 eventID is shared by records of different content; every one of those records was kept');
  });
});

describe('a report.json archived before the incomplete status existed', () => {
  it('reads back with empty lists and no incomplete count, its verdict unchanged', () => {
    // Prepare: a report as the previous version wrote it
    const asOf = parseAsOf('2026-11-24T00:00:00Z')!;
    const current = buildReport({
      runId: 'r1',
      asOf,
      window: { start: new Date('2026-11-17T00:00:00Z'), end: asOf },
      generatedAt: asOf,
      toolVersion: '0.0.0',
      source: 'local',
      checks: [check()],
      findings: [evaluate(check(), rows(0), complete)],
      stats: { ...statsOf(), filesSkipped: [] },
      evidence: {},
      archiveLocation: '/a',
      previewRows: 2,
    });
    const old = JSON.parse(JSON.stringify(current)) as Record<string, unknown> & { counts: Record<string, unknown> };
    for (const added of ['recordsDropped', 'recordsDroppedTotal', 'recordsWithoutTime', 'conflicts', 'incompleteInput']) delete old[added];
    delete old.counts.incomplete;

    // Act
    const report = reportFromJson(old);

    // Assess
    expect(report).toEqual(current);
  });
});

function statsOf(): WindowStats {
  return windowStats();
}
