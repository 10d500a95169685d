import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/fixtures.js';

const GOOD_CHECK = {
  'check.yaml': [
    'id: good_check',
    'title: Good',
    'description: A valid check.',
    'severity: low',
    'lookback_days: 7',
    'parameters: [window_start, window_end]',
    'columns: [event_name]',
    'evaluation: { kind: info }',
  ].join('\n'),
  'query.sql': 'SELECT eventname AS event_name FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ? ORDER BY event_name',
};

/** A folder with `trailwarden.yaml` (the given lines) and `checks/<id>/<file>` for each check given. */
async function project(configLines: string[], checks: Record<string, Record<string, string>>, options: { builtInChecks?: boolean } = {}): Promise<string> {
  const dir = await tempDir();
  const checksDir = path.join(dir, 'checks');
  await mkdir(checksDir, { recursive: true });
  if (options.builtInChecks) await cp(path.resolve('config/checks'), checksDir, { recursive: true });
  for (const [id, files] of Object.entries(checks)) {
    await mkdir(path.join(checksDir, id), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(checksDir, id, name), text);
  }
  const file = path.join(dir, 'trailwarden.yaml');
  await writeFile(file, configLines.join('\n'));
  return file;
}

const VALID_BASE = [
  'source: { kind: local, path: logs }',
  'archive: { kind: local, path: out/archive }',
  'mail: { kind: outbox, path: out/outbox, from: tw@localhost, to: [security@example.com] }',
];

interface ValidateCase {
  readonly case: string;
  readonly config: string[];
  readonly checks: Record<string, Record<string, string>>;
  readonly expected: string[];
}

describe('trailwarden validate lists every problem in one run', () => {
  it.each<ValidateCase>([
    {
      case: 'config schema errors, a bad schedule, overrides of unknown checks, a broken check folder, and the root alert contract',
      config: [
        'source: { kind: local, path: logs, colour: blue }',
        'archive: { kind: local, path: out/archive }',
        'mail: { kind: outbox, path: out/outbox, from: "not an address", to: [] }',
        'checks: { path: checks, overrides: { no_such_check: { enabled: false }, good_check: { fail_above: 3 } } }',
        'jobs:',
        '  weekly: { type: report, schedule: "0 25 * * 1" }',
        '  root: { type: root_alert, schedule: "*/15 * * * *" }',
      ],
      checks: {
        good_check: GOOD_CHECK,
        broken_check: {
          'check.yaml': GOOD_CHECK['check.yaml'].replace('id: good_check', 'id: broken_check').replace('severity: low', 'severity: extreme'),
          'query.sql': 'DELETE FROM cloudtrail_window',
        },
      },
      expected: [
        'source: Unrecognized key: "colour"',
        'mail.from: expected an e-mail address',
        'mail.to: expected at least one recipient',
        'jobs.weekly.schedule: "0 25 * * 1" is not a valid cron expression',
        'checks.overrides.no_such_check: no check with this id',
        'checks.overrides.good_check.fail_above: this check is informational and has no threshold',
        `broken_check${path.sep}check.yaml: severity:`,
        `broken_check${path.sep}query.sql: has 0 "?" placeholder(s) but check.yaml lists 2 parameter(s)`,
        `broken_check${path.sep}query.sql: not a single SELECT statement`,
        'jobs.root: the root alert reuses the check root_activity_7d, which is missing',
      ],
    },
    {
      case: 'cross-key rules while a whole section is missing',
      config: ['source: { kind: local, path: logs }', 'engine: { kind: athena }', 'archive: { kind: local, path: out/archive }'],
      checks: { good_check: GOOD_CHECK },
      expected: ['mail: Invalid input', 'source.kind: expected "s3" with engine athena', 'engine.ctas_location: required with mode ctas'],
    },
    {
      case: 'a check whose check.yaml is invalid and whose query.sql is wrong too',
      config: VALID_BASE,
      checks: {
        bad: {
          'check.yaml': [
            'id: bad',
            'description: no title',
            'severity: low',
            'lookback_days: 7',
            'parameters: [window_start]',
            'columns: [x]',
            'evaluation: { kind: info }',
          ].join('\n'),
          'query.sql': 'SELECT 1 AS x FROM somewhere_else WHERE a = ? AND b = ?',
        },
      },
      expected: [
        `bad${path.sep}check.yaml: title:`,
        `bad${path.sep}query.sql: has 2 "?" placeholder(s) but check.yaml lists 1 parameter(s)`,
        `bad${path.sep}query.sql: expected a query over the table cloudtrail_window`,
      ],
    },
    {
      case: 'a check.yaml that is not even YAML, beside a query.sql that is not SQL',
      config: VALID_BASE,
      checks: { bad: { 'check.yaml': 'id: [unclosed', 'query.sql': 'SELEC eventname FROM cloudtrail_window' } },
      expected: [`bad${path.sep}check.yaml: not valid YAML`, `bad${path.sep}query.sql: not a single SELECT statement`],
    },
    {
      case: 'a check whose SQL returns other columns, and an override naming an option it does not have',
      config: [...VALID_BASE, 'checks: { overrides: { good_check: { options: { nope: x } } } }'],
      checks: { good_check: { ...GOOD_CHECK, 'query.sql': GOOD_CHECK['query.sql'].replace('AS event_name', 'AS other') } },
      expected: [
        `good_check${path.sep}query.sql: returns the columns (other), but check.yaml declares columns: [event_name]`,
        'checks.overrides.good_check.options.nope: unknown option',
      ],
    },
  ])('$case', async ({ config, checks, expected }) => {
    // Prepare
    const file = await project(config, checks);
    // Act
    const run = await runCli(['validate', '--config', file]);
    // Assess
    expect(run.code).toBe(1);
    for (const problem of expected) expect(run.stderr).toContain(problem);
  });
});

describe('command-line flags are judged together with the config', () => {
  const brokenConfig = [
    'source: { kind: local, path: logs }',
    'archive: { kind: local, path: out/archive }',
    'jobs: { root: { type: root_alert, schedule: "*/15 * * * *" } }',
  ];

  it.each([
    {
      case: 'run --job: flags not used with --job, an unknown job, an unreadable --as-of, and the config',
      args: ['run', '--job', 'nope', '--out', 'elsewhere', '--as-of', 'yesterday'],
      expected: ['--out: not used with --job', '--as-of: "yesterday": expected an ISO-8601 time', '--job: no job "nope"', 'mail: Invalid input'],
    },
    {
      case: 'run --job <alert> --as-of in the future, and the config',
      args: ['run', '--job', 'root', '--as-of', '2999-01-01'],
      expected: ['--as-of: 2999-01-01T00:00:00Z is in the future', 'mail: Invalid input'],
    },
    {
      case: 'run: an unreadable --as-of, an unknown --fail-on, and the config',
      args: ['run', '--as-of', '2026-02-30', '--fail-on', 'extreme'],
      expected: ['--as-of: "2026-02-30"', '--fail-on: "extreme": expected one of info, low, medium, high, critical', 'mail: Invalid input'],
    },
  ])('$case', async ({ args, expected }) => {
    // Prepare
    const file = await project(brokenConfig, {}, { builtInChecks: true });
    // Act
    const run = await runCli([...args, '--config', file]);
    // Assess
    expect(run.code).toBe(1);
    for (const problem of expected) expect(run.stderr).toContain(problem);
    expect(run.stderr).toContain(`${expected.length} problem(s)`);
  });

  it('daemon: no jobs configured, and the config', async () => {
    const file = await project(['source: { kind: local, path: logs }', 'archive: { kind: local, path: out/archive }'], {}, { builtInChecks: true });
    const run = await runCli(['daemon', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('jobs: no jobs configured');
    expect(run.stderr).toContain('mail: Invalid input');
    expect(run.stderr).toContain('2 problem(s)');
  });
});
