import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/core/evaluate.js';
import {
  configuredLimits,
  formatCount,
  fullTitle,
  LONG_COLUMN_MAX_CHARS,
  planColumns,
  PREVIEW_STEPS,
  previewRowLimit,
  QUIET_PREVIEW_ROWS,
  shorten,
  SUMMARY_PREVIEW_ROWS,
  TITLE_MAX_CHARS,
} from '../../src/core/preview.js';
import { buildReport, withPreviewLimits } from '../../src/core/report.js';
import { rootCheck, windowStats } from '../support/checks.js';

const TIME = '2026-11-21T09:15:02Z';
const ACCOUNT = '111111111111';
const EVENT_ID = '6caf4bbb-4698-4408-af0a-82e617cd08e1';
const ARN = 'arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_5a1b2c3d4e5f6a7b';
const AGENT = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe('shortening a long value', () => {
  it('keeps the start and the end around an ellipsis, in exactly the limit', () => {
    const short = shorten(ARN, 40);

    expect([...short]).toHaveLength(40);
    expect(short).toBe(`${ARN.slice(0, 20)}…${ARN.slice(-19)}`);
    expect(short).toContain('…');
  });

  it('keeps the start of prose', () => {
    const reason = 'the attached policy AdministratorAccess is not in the inventory (an AWS managed policy the inventory left out)';

    expect(shorten(reason, 40)).toBe('the attached policy AdministratorAccess…');
  });

  it('leaves a value that fits alone, and never cuts a character in half', () => {
    expect(shorten(ACCOUNT, 12)).toBe(ACCOUNT);
    const emoji = '😀'.repeat(30);
    expect(shorten(emoji, 9)).toBe(`${'😀'.repeat(4)}…${'😀'.repeat(4)}`);
  });

  it('gives a title only to a shortened value, itself cut at TITLE_MAX_CHARS', () => {
    expect(fullTitle(ACCOUNT, null)).toBeNull();
    expect(fullTitle(AGENT, 200)).toBeNull();
    expect(fullTitle(AGENT, 40)).toBe(AGENT);
    expect([...(fullTitle('x'.repeat(5000), 40) ?? '')]).toHaveLength(TITLE_MAX_CHARS);
  });

  it('writes counts with thousands separators', () => {
    expect([0, 999, 1000, 1234567].map(formatCount)).toEqual(['0', '999', '1,000', '1,234,567']);
  });
});

describe('planning the columns of a preview', () => {
  it('keeps times, accounts, regions and counts whole and shortens long columns in the grid when they fit beside them', () => {
    // Act
    const plan = planColumns(['event_time', 'account', 'region', 'principal', 'calls'], [[TIME, ACCOUNT, 'ap-southeast-2', ARN, '12']]);

    // Assess
    expect(plan.map((c) => [c.name, c.kind])).toEqual([
      ['event_time', 'short'],
      ['account', 'short'],
      ['region', 'short'],
      ['principal', 'long'],
      ['calls', 'short'],
    ]);
    expect(plan[3]!.limit).toBeLessThan(ARN.length);
    expect(plan[3]!.limit).toBeLessThanOrEqual(LONG_COLUMN_MAX_CHARS);
  });

  it('puts the long columns of a table too wide for the grid under each row, never squeezing them letter by letter', () => {
    // Prepare: root activity's eleven columns
    const columns = [
      'event_time',
      'account',
      'region',
      'event_source',
      'event_name',
      'source_ip',
      'user_agent',
      'mfa_authenticated',
      'access',
      'error_code',
      'event_id',
    ];
    const row = [
      TIME,
      ACCOUNT,
      'us-east-1',
      'billingconsole.amazonaws.com',
      'GetBillingPreferences',
      '203.0.113.200',
      AGENT,
      'true',
      'console',
      'NoSuchEntity',
      EVENT_ID,
    ];

    // Act
    const plan = planColumns(columns, [row]);

    // Assess
    const kinds = Object.fromEntries(plan.map((c) => [c.name, c.kind]));
    expect(kinds).toMatchObject({ event_time: 'short', account: 'short', region: 'short', mfa_authenticated: 'short', error_code: 'short' });
    expect(kinds).toMatchObject({ event_source: 'detail', event_name: 'detail', user_agent: 'detail', event_id: 'detail' });
    // An event id is shown whole (36 characters); a user agent is shortened.
    expect(plan.find((c) => c.name === 'event_id')!.limit).toBe(EVENT_ID.length);
    expect(plan.find((c) => c.name === 'user_agent')!.limit).toBe(LONG_COLUMN_MAX_CHARS);
  });

  it("keeps a long first column (the row's key) in the grid when the short ones leave it room", () => {
    // Prepare: unauthorized API calls' columns
    const columns = ['principal', 'identity_type', 'event_source', 'event_name', 'error_code', 'errors', 'first_seen', 'last_seen'];
    const row = [ARN, 'AssumedRole', 'organizations.amazonaws.com', 'GetAccountAuthorizationDetails', 'Client.UnauthorizedOperation', '6', TIME, TIME];

    // Act
    const plan = planColumns(columns, [row]);

    // Assess
    expect(plan.map((c) => c.kind)).toEqual(['long', 'short', 'detail', 'detail', 'detail', 'short', 'short', 'short']);
    expect(plan[0]!.limit).toBeGreaterThanOrEqual(32);
  });

  it('counts a header by its longest part between underscores', () => {
    const [column] = planColumns(['mfa_authenticated'], [['true']]);

    expect(column).toEqual({ name: 'mfa_authenticated', kind: 'short', limit: null });
  });
});

describe('how many rows a check previews', () => {
  const rows = (n: number) => ({ columns: ['event_time', 'principal'], rows: Array.from({ length: n }, (_, i) => [TIME, `${ARN}-${i}`]) });
  const failing = rootCheck({ columns: ['event_time', 'principal'] });
  const informational = rootCheck({ id: 'who_7d', title: 'Who', columns: ['event_time', 'principal'], evaluation: { kind: 'info' }, severity: 'info' });

  function report(previewRows: number) {
    const stats = windowStats();
    const asOf = new Date('2026-11-23T08:00:00Z');
    return buildReport({
      runId: 'r',
      asOf,
      window: { start: new Date('2026-11-16T08:00:00Z'), end: asOf },
      generatedAt: asOf,
      toolVersion: '0.0.0',
      source: 'local',
      checks: [failing, informational],
      findings: [evaluate(failing, rows(1234), stats), evaluate(informational, rows(40), stats)],
      stats,
      evidence: {},
      archiveLocation: '/a',
      previewRows,
    });
  }

  it('shows report.preview_rows of a failing check and QUIET_PREVIEW_ROWS of an informational one, counting the rest', () => {
    const [fail, info] = report(10).sections;

    expect(fail).toMatchObject({ status: 'fail', rowCount: 1234, hiddenRows: 1224 });
    expect(fail!.previewRows).toHaveLength(10);
    expect(info).toMatchObject({ status: 'info', rowCount: 40, hiddenRows: 40 - QUIET_PREVIEW_ROWS });
    expect(info!.previewRows).toHaveLength(QUIET_PREVIEW_ROWS);
    expect(previewRowLimit('incomplete', configuredLimits(2))).toBe(2);
    expect(previewRowLimit('pass', configuredLimits(2))).toBe(2);
  });

  it('shows the first SUMMARY_PREVIEW_ROWS groups of a tally and counts the others', () => {
    // Prepare: 60 principals, one row each
    const tallied = rootCheck({ columns: ['event_time', 'principal'], summary: ['principal', 'event_time'] });
    const stats = windowStats();
    const asOf = new Date('2026-11-23T08:00:00Z');
    const built = buildReport({
      runId: 'r',
      asOf,
      window: { start: new Date('2026-11-16T08:00:00Z'), end: asOf },
      generatedAt: asOf,
      toolVersion: '0.0.0',
      source: 'local',
      checks: [tallied],
      findings: [evaluate(tallied, rows(60), stats)],
      stats,
      evidence: {},
      archiveLocation: '/a',
      previewRows: 10,
    });

    // Act
    const generous = withPreviewLimits(built, PREVIEW_STEPS[0]!).sections[0]!.summary!;
    const tight = withPreviewLimits(built, PREVIEW_STEPS[1]!).sections[0]!.summary!;

    // Assess
    expect(built.sections[0]!.summary).toMatchObject({ hiddenRows: 0 });
    expect(built.sections[0]!.summary!.rows).toHaveLength(60);
    expect([generous.rows.length, generous.hiddenRows]).toEqual([SUMMARY_PREVIEW_ROWS, 60 - SUMMARY_PREVIEW_ROWS]);
    expect([tight.rows.length, tight.hiddenRows]).toEqual([PREVIEW_STEPS[1]!.summaryRows, 60 - PREVIEW_STEPS[1]!.summaryRows]);
  });

  it('takes rows from informational checks before failing ones at each tighter step, and still counts every row', () => {
    const built = report(10);

    const steps = PREVIEW_STEPS.map((limits) => withPreviewLimits(built, limits).sections.map((s) => [s.previewRows.length, s.hiddenRows]));

    expect(steps).toEqual([
      [
        [10, 1224],
        [2, 38],
      ],
      [
        [5, 1229],
        [1, 39],
      ],
      [
        [3, 1231],
        [0, 40],
      ],
      [
        [2, 1232],
        [0, 40],
      ],
      [
        [1, 1233],
        [0, 40],
      ],
      [
        [0, 1234],
        [0, 40],
      ],
    ]);
  });
});
