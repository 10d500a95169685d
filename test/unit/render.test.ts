import { describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { evaluate } from '../../src/core/evaluate.js';
import type { WindowStats } from '../../src/core/model.js';
import { buildReport, reportFromJson } from '../../src/core/report.js';
import { buildChanges, buildRowKeys } from '../../src/core/changes.js';
import { neutraliseCell, toCsv } from '../../src/render/csv.js';
import { ReportRenderer } from '../../src/render/report.js';
import { rootCheck, windowStats } from '../support/checks.js';

const root = rootCheck({ references: ['https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html'] });

const XSS = '<script>alert("root")</script>';
const FORMULA = '=HYPERLINK("http://evil.example","x")';

const STATS: WindowStats = windowStats({ filesSkipped: [{ path: 'AWSLogs/<b>x</b>.json.gz', reason: 'corrupt' }] });

function reportWith(rows: string[][], stats: WindowStats = STATS) {
  const asOf = new Date('2026-11-23T08:00:00Z');
  return buildReport({
    runId: 'run-1',
    asOf,
    window: { start: new Date('2026-11-16T08:00:00Z'), end: asOf },
    generatedAt: asOf,
    toolVersion: '0.1.0',
    source: 'local folder /logs',
    checks: [root],
    findings: [evaluate(root, { columns: ['event_time', 'user_agent'], rows }, stats)],
    stats,
    evidence: { root_activity_7d: '/archive/run-1/root_activity_7d.csv' },
    archiveLocation: '/archive/run-1',
    previewRows: 10,
  });
}

describe('HTML and text report', () => {
  it('escapes attacker-controlled CloudTrail values in the HTML', async () => {
    // Prepare
    const renderer = await ReportRenderer.load();

    // Act
    const { html } = renderer.render(reportWith([['2026-11-20T10:00:00Z', XSS]]));

    // Assess
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;root&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<b>x</b>');
    expect(html).not.toMatch(/<style/i); // CSS inlined for mail clients
    expect(html).toMatch(/<td[^>]*style="[^"]*"/);
  });

  it('shows the verdict, the failure, its remediation and where the evidence is', async () => {
    const renderer = await ReportRenderer.load();
    const { html, text } = renderer.render(reportWith([['2026-11-20T10:00:00Z', 'aws-cli/2']]));
    for (const out of [html, text]) {
      expect(out).toContain('Root user activity');
      expect(out).toContain('Rotate the root password.');
      expect(out).toContain('/archive/run-1/root_activity_7d.csv');
      expect(out).toContain('AWSLogs/');
    }
    expect(text).toContain('CloudTrail compliance report: FAIL');
    expect(text).toContain('[FAIL      ] critical Root user activity (1)');
  });

  it('keeps control characters from forging lines in the text mail', async () => {
    const renderer = await ReportRenderer.load();
    const { text, html } = renderer.render(reportWith([['2026-11-20T10:00:00Z', 'ua\r\n[PASS ] all good\u202egnp.exe']]));
    expect(text).not.toMatch(/^\[PASS \] all good/m);
    expect(text).toContain('ua [PASS ] all good\ufffdgnp.exe');
    expect(html).toContain('ua [PASS ] all good\ufffdgnp.exe');
  });
});

describe('a report on incomplete input', () => {
  const hostile: WindowStats = {
    ...STATS,
    recordsDropped: [{ path: 'AWSLogs/<i>y</i>.json.gz', reason: 'eventTime "<img src=x onerror=alert(1)>" is not a time', count: 3 }],
    conflicts: [{ eventId: '<svg onload=alert(2)>', paths: ['AWSLogs/a.json.gz', 'AWSLogs/<u>b</u>.json.gz'], records: 2 }],
  };

  it('labels a would-be pass INCOMPLETE in its own colour, says why, and never says "passed" for it', async () => {
    // Prepare: no root rows, but a file of the window could not be read
    const renderer = await ReportRenderer.load();

    // Act
    const report = reportWith([], hostile);
    const { html, text } = renderer.render(report);

    // Assess
    expect(report.sections[0]?.status).toBe('incomplete');
    expect(text).toContain('CloudTrail compliance report: INCOMPLETE');
    expect(text).toContain('0 failed, 0 with errors, 1 incomplete, 0 passed, 0 informational');
    expect(text).toContain('[INCOMPLETE] critical Root user activity (0)');
    expect(text).toContain('Input:         INCOMPLETE: 1 file and 3 records of the window could not be read');
    expect(text).toContain('a pass needs complete input');
    expect(html).toMatch(/<span class="badge" style="[^"]*background: #6941c6[^"]*">INCOMPLETE<\/span> Root user activity/);
    expect(html).toContain('1 incomplete');
    for (const out of [html, text]) expect(out).toContain('Make the log files and records listed above readable');
  });

  it('lists dropped records (file, count, reason) and eventID conflicts (id, records, files), escaped in the HTML', async () => {
    const renderer = await ReportRenderer.load();
    const { html, text } = renderer.render(reportWith([], hostile));

    expect(text).toContain('3 record(s) of readable files could not be used and were dropped:');
    expect(text).toContain('  - AWSLogs/<i>y</i>.json.gz: 3 record(s): eventTime "<img src=x onerror=alert(1)>" is not a time');
    expect(text).toContain('1 eventID(s) shared by records of different content (every record was kept):');
    expect(text).toContain('  - <svg onload=alert(2)>: 2 records, in AWSLogs/a.json.gz, AWSLogs/<u>b</u>.json.gz');
    for (const raw of ['<img', '<svg', '<i>y</i>', '<u>b</u>']) expect(html).not.toContain(raw);
    expect(html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(html).toContain('&lt;svg onload&#x3D;alert(2)&gt;');
    expect(html).toContain('AWSLogs/&lt;u&gt;b&lt;/u&gt;.json.gz');
  });

  it('renders a report.json archived before these fields existed', async () => {
    const renderer = await ReportRenderer.load();
    const old = JSON.parse(JSON.stringify(reportWith([['2026-11-20T10:00:00Z', 'aws-cli/2']]))) as Record<string, unknown> & {
      counts: Record<string, unknown>;
    };
    for (const added of ['recordsDropped', 'recordsDroppedTotal', 'recordsWithoutTime', 'conflicts', 'incompleteInput']) delete old[added];
    delete old.counts.incomplete;

    const { text } = renderer.render(reportFromJson(old));

    expect(text).toContain('1 failed, 0 with errors, 0 incomplete, 0 passed, 0 informational');
  });
});

describe('CSV evidence', () => {
  it('neutralises spreadsheet formulas and keeps RFC 4180 quoting', () => {
    // Prepare
    const result = {
      columns: ['user_agent', 'user', 'n'],
      rows: [
        [FORMULA, '+ops', '12'],
        ['-2+3', '@SUM(A1)', null],
        ['a "quoted", value\nnext', 'plain', '0'],
      ],
    };

    // Act
    const csv = toCsv(result);
    const parsed = parseCsv(csv, { relax_column_count: false });

    // Assess
    expect(csv.startsWith('user_agent,user,n\r\n')).toBe(true);
    expect(parsed[1]).toEqual([`'${FORMULA}`, "'+ops", '12']);
    expect(parsed[2]).toEqual(["'-2+3", "'@SUM(A1)", '']);
    expect(parsed[3]).toEqual(['a "quoted", value\nnext', 'plain', '0']);
    for (const cell of parsed.flat()) expect(cell).not.toMatch(/^[=+\-@]/);
  });

  it('leaves ordinary values alone', () => {
    expect(neutraliseCell('arn:aws:iam::111111111111:role/x')).toBe('arn:aws:iam::111111111111:role/x');
    expect(neutraliseCell('\tcmd')).toBe("'\tcmd");
  });

  // A spreadsheet (or a tool reading line by line) sees each line of a multi-line cell: every line is a cell start.
  it.each([
    ['a formula after a lone LF', "Mozilla/5.0\n=cmd|' /C calc'!A0", "Mozilla/5.0\n'=cmd|' /C calc'!A0"],
    ['a formula after a lone CR', 'Mozilla/5.0\r+1+1', "Mozilla/5.0\r'+1+1"],
    ['a formula after CRLF', 'agent\r\n@SUM(A1)', "agent\r\n'@SUM(A1)"],
    ['formulas on several lines', 'x\n-1\n+2', "x\n'-1\n'+2"],
    ['a tab after a line break', 'x\n\tcmd', "x\n'\tcmd"],
    ['a CR-started line after LF', 'x\n\r=1', "x\n'\r'=1"],
    ['a formula at the start and after a break', '=1\n=2', "'=1\n'=2"],
    ['a harmless multi-line value', 'first line\nsecond line', 'first line\nsecond line'],
  ])('quotes a cell with %s and neutralises every line of it', (_, value, expected) => {
    // Prepare
    const result = { columns: ['user_agent', 'n'], rows: [[value, '1']] };

    // Act
    const csv = toCsv(result);

    // Assess: one record with the value intact (but neutralised), and no physical line that is a formula
    expect(parseCsv(csv)).toEqual([
      ['user_agent', 'n'],
      [expected, '1'],
    ]);
    expect(csv).toBe(`user_agent,n\r\n"${expected}",1\r\n`);
    for (const line of csv.split(/\r\n|\r|\n/)) expect(line).not.toMatch(/^[=+\-@\t]/);
  });

  it('writes cells without line breaks exactly as before', () => {
    // Prepare
    const result = { columns: ['a', 'b', 'c', 'd'], rows: [[FORMULA, 'x, y', 'say "hi"', null]] };

    // Act
    const csv = toCsv(result);

    // Assess
    expect(csv).toBe(`a,b,c,d\r\n"'=HYPERLINK(""http://evil.example"",""x"")","x, y","say ""hi""",\r\n`);
  });
});

describe('changes since the previous run, in the report', () => {
  /** Week 1 saw one user agent, week 2 (this report) another, hostile one: one row new, one gone, a new failure. */
  async function rendered() {
    const asOf = new Date('2026-11-23T08:00:00Z');
    const previousRows = [['2026-11-14T10:00:00Z', 'aws-cli/2']];
    const rows = [['2026-11-20T10:00:00Z', XSS]];
    const finding = evaluate(root, { columns: ['event_time', 'user_agent'], rows }, windowStats());
    const previous = {
      runId: 'run-0',
      asOf: '2026-11-16T08:00:00Z',
      location: '/archive/run-0',
      inputComplete: true,
      checks: [{ id: root.id, status: 'pass' as const, observed: 0 }],
    };
    const changes = buildChanges({
      runId: 'run-1',
      asOf: '2026-11-23T08:00:00Z',
      checks: [root],
      findings: [finding],
      inputComplete: true,
      history: {
        kind: 'baseline',
        previous,
        rowKeys: buildRowKeys('run-0', [root], [{ ...finding, result: { columns: root.columns, rows: previousRows } }]),
        trend: [previous],
      },
      examples: 5,
      trendRuns: 8,
    });
    const report = buildReport({
      runId: 'run-1',
      asOf,
      window: { start: new Date('2026-11-16T08:00:00Z'), end: asOf },
      generatedAt: asOf,
      toolVersion: '0.1.0',
      source: 'local folder /logs',
      checks: [root],
      findings: [finding],
      stats: windowStats(),
      evidence: {},
      archiveLocation: '/archive/run-1',
      previewRows: 10,
      changes,
    });
    return (await ReportRenderer.load()).render(report);
  }

  it('comes first, names the run compared with, the new failure and the rows new and gone, hostile values escaped', async () => {
    const { html, text } = await rendered();

    expect(text.indexOf('Changes since the previous run:')).toBeLessThan(text.indexOf('Window:'));
    expect(html.indexOf('Changes since the previous run')).toBeLessThan(html.indexOf('Window'));
    for (const out of [html, text]) {
      expect(out).toContain('Compared with the previous run of this job, run-0 (as of 2026-11-16T08:00:00Z).');
      expect(out).toContain('newly failing');
    }
    expect(text).toContain('  - root_activity_7d (event_time, user_agent): 1 new, 1 gone');
    expect(text).toContain(`      + 2026-11-20T10:00:00Z · ${XSS}`);
    expect(text).toContain('      - 2026-11-14T10:00:00Z · aws-cli/2');
    expect(html).not.toContain('<script>');
    expect(html).toContain('+ 2026-11-20T10:00:00Z · &lt;script&gt;alert(&quot;root&quot;)&lt;/script&gt;');
  });

  it('draws the trend as table-cell bars (no scripts, no images) and as numbers in the text', async () => {
    const { html, text } = await rendered();

    expect(text).toContain('  - root_activity_7d: 0 → 1');
    // The last run's bar is the tallest (22 px), the earlier run's 0 a 1-pixel line; both are table cells.
    expect(html).toMatch(/<td width="8" height="1" bgcolor="#067647"/);
    expect(html).toMatch(/<td width="8" height="22" bgcolor="#b42318"/);
    expect(html).not.toMatch(/<img|<script|<svg/i);
  });
});
