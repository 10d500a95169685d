import { describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { evaluate } from '../../src/core/evaluate.js';
import type { WindowStats } from '../../src/core/model.js';
import type { Check } from '../../src/core/catalog.js';
import { HTML_BUDGET_BYTES, LIST_PREVIEW_ROWS, PREVIEW_STEPS, QUIET_PREVIEW_ROWS } from '../../src/core/preview.js';
import { buildReport, reportFromJson, withPreviewLimits } from '../../src/core/report.js';
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
    // One stylesheet of classes in the head; what layout needs where a client drops it is inlined.
    expect(html.match(/<style[\s>]/gi)).toHaveLength(1);
    expect(html).toMatch(/<h2 style="[^"]*font-size: 16px/);
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
    expect(html).toMatch(/<span class="badge" style="[^"]*background:#6941c6[^"]*">INCOMPLETE<\/span> Root user activity/);
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
      sections: Record<string, unknown>[];
    };
    for (const added of ['recordsDropped', 'recordsDroppedTotal', 'recordsWithoutTime', 'conflicts', 'incompleteInput']) delete old[added];
    delete old.counts.incomplete;
    for (const section of old.sections) delete section.previewColumns;

    const { text, html } = renderer.render(reportFromJson(old));

    expect(text).toContain('1 failed, 0 with errors, 0 incomplete, 0 passed, 0 informational');
    expect(text).toContain('2026-11-20T10:00:00Z | aws-cli/2');
    expect(html).toContain('<td nowrap>2026-11-20T10:00:00Z</td>');
  });
});

describe('tables readable in the 600–800 px of a mail client', () => {
  const COLUMNS = ['event_time', 'account', 'region', 'principal', 'event_source', 'event_name', 'error_code', 'user_agent', 'event_id'];
  const AGENT = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "q"';
  const row = (i: number) => [
    `2026-11-21T09:${String(i % 60).padStart(2, '0')}:02Z`,
    '111111111111',
    'ap-southeast-2',
    `arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_5a1b2c3d4e5f6a7b/someone.with.a.long.name${i}@example.com`,
    'cloudtrail.amazonaws.com',
    'PutEventSelectors',
    'AccessDenied',
    `${AGENT} <b>${i}</b>`,
    `6caf4bbb-4698-4408-af0a-${String(i).padStart(12, '0')}`,
  ];
  const result = (rows: number) => ({ columns: COLUMNS, rows: Array.from({ length: rows }, (_, i) => row(i)) });

  /** `failing` then `informational` checks of CIS 4.x shape (one row per event, long principals and user agents), each with `rows` rows. */
  function suite(failing: number, informational: number, rows: number) {
    const checks: Check[] = Array.from({ length: failing + informational }, (_, i) =>
      rootCheck({
        id: i < failing ? `fail_${i}_7d` : `info_${i}_7d`,
        title: `CIS check ${i}`,
        columns: COLUMNS,
        description: 'Calls that changed IAM policies (CreatePolicy, DeletePolicy, AttachRolePolicy…) in the lookback, one row per event.',
        references: ['https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-4'],
        ...(i < failing ? {} : { evaluation: { kind: 'info' as const }, severity: 'info' as const }),
      }),
    );
    const asOf = new Date('2026-11-23T08:00:00Z');
    const stats = windowStats();
    return buildReport({
      runId: 'run-1',
      asOf,
      window: { start: new Date('2026-11-16T08:00:00Z'), end: asOf },
      generatedAt: asOf,
      toolVersion: '0.1.0',
      source: 'local folder /logs',
      checks,
      findings: checks.map((c) => evaluate(c, result(rows), stats)),
      stats,
      evidence: Object.fromEntries(checks.map((c) => [c.id, `/archive/run-1/${c.id}.csv`])),
      archiveLocation: '/archive/run-1',
      previewRows: 10,
    });
  }

  it('keeps short columns on one line and shortens long values, whole (and escaped) in the title and the CSV', async () => {
    // Prepare
    const renderer = await ReportRenderer.load();
    const report = suite(1, 0, 3);

    // Act
    const { html, text } = renderer.render(report);
    const csv = toCsv(result(3));

    // Assess: times, accounts, regions, event names and error codes never wrap
    for (const short of ['2026-11-21T09:00:02Z', '111111111111', 'ap-southeast-2', 'PutEventSelectors', 'AccessDenied'])
      expect(html).toContain(`<td nowrap>${short}</td>`);
    // The user agent is shortened in both parts; its full value is in the title (escaped) and in the CSV.
    const agent = `${AGENT} <b>0</b>`;
    expect(html).not.toContain('<b>0</b>');
    expect(html).toContain(`title="${agent.replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')}"`);
    expect(html).toMatch(/<i>user_agent<\/i> Mozilla\/5\.0 \(Macintosh;[^<]*…[^<]*&lt;b&gt;0&lt;\/b&gt;<\/span>/);
    expect(text).not.toContain(agent);
    expect(text).toMatch(/\| Mozilla\/5\.0 \(Macintosh;[^|]*…[^|]*<b>0<\/b> \|/);
    expect(parseCsv(csv)[1]).toContain(agent);
    // Headers wrap between their words only.
    expect(html).toContain('<th>event_<wbr>time</th>');
  });

  it('says how many more rows the CSV has, in both parts, with fewer rows for informational checks', async () => {
    // Prepare
    const renderer = await ReportRenderer.load();

    // Act
    const failing = renderer.render(suite(1, 0, 1234));
    const info = renderer.render(suite(0, 1, 40));

    // Assess
    expect(failing.html).toContain('Showing 10 of 1,234 rows — all rows in the CSV: <span class="code">/archive/run-1/fail_0_7d.csv</span>');
    expect(failing.text).toContain('Showing 10 of 1,234 rows - all rows in the CSV: /archive/run-1/fail_0_7d.csv');
    expect(failing.text.match(/^2026-11-21T09:\d\d:02Z \| /gm)).toHaveLength(10);
    expect(info.html).toContain(`Showing ${QUIET_PREVIEW_ROWS} of 40 rows — all rows in the CSV`);
    expect(info.text).toContain(`Showing ${QUIET_PREVIEW_ROWS} of 40 rows - all rows in the CSV: /archive/run-1/info_0_7d.csv`);
  });

  it('keeps the HTML of 25 checks at their most preview rows of long values under 100 KB, shrinking informational previews first', async () => {
    // Prepare: 25 failing checks at report.preview_rows (10) of long values would weigh about 10 KB each
    const renderer = await ReportRenderer.load();

    // Act
    const heavy = renderer.render(suite(25, 0, 200));
    const usual = renderer.render(suite(5, 20, 200));

    // Assess: under the budget, each check still says how many rows it has; both parts show the same rows
    for (const { html, text } of [heavy, usual]) {
      expect(Buffer.byteLength(html)).toBeLessThanOrEqual(HTML_BUDGET_BYTES);
      expect(Buffer.byteLength(html)).toBeLessThan(100 * 1024);
      expect(html.match(/Showing \d+ of 200 rows/g)).toHaveLength(25);
      expect(html.match(/Showing (\d+) of 200/g)).toEqual(text.match(/Showing (\d+) of 200/g));
    }
    // A step of PREVIEW_STEPS was taken: fewer rows, never none while some fit.
    expect(heavy.text).toMatch(/Showing [1-9] of 200 rows/);
    expect(heavy.text).not.toContain('Showing 10 of 200');
    // Informational checks gave up their rows before the failing ones gave up theirs.
    const shown = (text: string, id: string) =>
      Number(new RegExp(`Showing (\\d+) of 200 rows - all rows in the CSV: /archive/run-1/${id}\\.csv`).exec(text)?.[1]);
    expect(shown(usual.text, 'fail_0_7d')).toBeGreaterThan(shown(usual.text, 'info_5_7d'));
    expect(shown(usual.text, 'fail_0_7d')).toBeGreaterThanOrEqual(PREVIEW_STEPS[1]!.loud);
  });

  it('keeps 25 checks under 100 KB with 8 runs of trend and every check changing rows since the last run', async () => {
    // Prepare: the heavy suite, each check with 7 earlier runs and all of its previous rows gone, all of its rows new
    const renderer = await ReportRenderer.load();
    const base = suite(25, 0, 200);
    const checks = base.sections.map((section) =>
      rootCheck({ id: section.id, title: section.title, columns: COLUMNS, key_columns: ['event_id', 'user_agent'] }),
    );
    const stats = windowStats();
    const findings = checks.map((c) => evaluate(c, result(200), stats));
    const earlier = Array.from({ length: 7 }, (_, i) => ({
      runId: `run-0${i}`,
      asOf: `2026-10-${String(10 + i).padStart(2, '0')}T08:00:00Z`,
      location: `/archive/run-0${i}`,
      inputComplete: true,
      checks: checks.map((c, j) => ({ id: c.id, status: 'fail' as const, observed: 10 * i + j })),
    }));
    const changes = buildChanges({
      runId: 'run-1',
      asOf: '2026-11-23T08:00:00Z',
      checks,
      findings,
      inputComplete: true,
      history: {
        kind: 'baseline',
        previous: earlier[0]!,
        rowKeys: buildRowKeys(
          'run-00',
          checks,
          findings.map((f) => ({ ...f, result: { columns: COLUMNS, rows: f.result!.rows.map((r) => r.map((v) => `${v}-before`)) } })),
        ),
        trend: earlier,
      },
      examples: 5,
      trendRuns: 8,
    });

    // Act
    const { html, text } = renderer.render({ ...base, changes });

    // Assess
    expect(changes.trendShown).toBe(8);
    expect(Buffer.byteLength(html)).toBeLessThan(100 * 1024);
    expect(html.match(/class="tb"/g)).toHaveLength(25 * 8);
    expect(text).toContain('200 new, 200 gone');
  });

  it('lists the first unreadable files in the HTML and every one in the text part', async () => {
    // Prepare: a day of corrupt files in three regions
    const renderer = await ReportRenderer.load();
    const filesSkipped = Array.from({ length: 864 }, (_, i) => ({
      path: `AWSLogs/111111111111/CloudTrail/eu-west-1/2026/11/20/111111111111_CloudTrail_eu-west-1_20261120T${String(i).padStart(4, '0')}Z_abcdefghijklmnop.json.gz`,
      reason: 'corrupt gzip',
    }));

    // Act
    const { html, text } = renderer.render(reportWith([], { ...STATS, filesSkipped }));

    // Assess
    expect(html).toContain(filesSkipped[LIST_PREVIEW_ROWS - 1]!.path);
    expect(html).not.toContain(filesSkipped[LIST_PREVIEW_ROWS]!.path);
    expect(html).toContain(`…and ${864 - LIST_PREVIEW_ROWS} more, every one listed in the plain-text part of this message`);
    for (const file of filesSkipped) expect(text).toContain(`  - ${file.path}: corrupt gzip`);
    expect(Buffer.byteLength(html)).toBeLessThan(HTML_BUDGET_BYTES);
  });

  it('keeps what the model previews when it fits the budget', async () => {
    const renderer = await ReportRenderer.load();
    const report = suite(3, 0, 200);

    const { html } = renderer.render(report);

    expect(html).toBe(renderer.render(withPreviewLimits(report, PREVIEW_STEPS[0]!)).html);
    expect(html.match(/Showing 10 of 200 rows/g)).toHaveLength(3);
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
    // In the table of checks: the last run's bar is the tallest (22 px), the earlier run's 0 a 1-pixel line; both in table cells.
    expect(html).toContain('<th>Last 2 runs</th>');
    expect(html).toMatch(/<td valign="bottom" class="tb"[^>]*><div style="width:\s*8px;\s*height:\s*1px;\s*background:\s*#067647/);
    expect(html).toMatch(/<td valign="bottom" class="tb"[^>]*><div style="width:\s*8px;\s*height:\s*22px;\s*background:\s*#b42318/);
    expect(html).not.toMatch(/<img|<script|<svg/i);
  });
});
