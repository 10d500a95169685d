import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog, loadSetup, readCatalog } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { tempDir } from '../support/fixtures.js';
import { applyOverrides, parseCheck, type Check } from '../../src/core/catalog.js';
import { countPlaceholders } from '../../src/core/sql.js';

const CHECKS_DIR = path.resolve('config/checks');

const VALID_YAML = `
id: my_check
title: A check
description: Something
severity: high
lookback_days: 7
parameters: [window_start, window_end]
columns: [eventname]
evaluation: { kind: threshold, metric: row_count, fail_above: 0 }
`;
const VALID_SQL = 'SELECT eventname FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ?';

function parse(yamlText: string, sqlText: string | undefined = VALID_SQL, folder = 'my_check') {
  return parseCheck(folder, { yamlPath: `${folder}/check.yaml`, yamlText, sqlPath: `${folder}/query.sql`, sqlText });
}

describe('the built-in catalog', () => {
  it('loads the built-in checks with their documented defaults', async () => {
    // Act
    const catalog = await loadCatalog(CHECKS_DIR);

    // Assess
    const byId = Object.fromEntries(catalog.map((c) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual([
      'cloudtrail_config_changes_7d',
      'config_recorder_changes_7d',
      'console_login_failures_30d',
      'console_login_without_mfa_30d',
      'console_logins_30d',
      'iam_policy_changes_7d',
      'kms_key_disabled_or_deleted_7d',
      'log_integrity_30d',
      'nacl_changes_7d',
      'network_gateway_changes_7d',
      'organizations_changes_7d',
      'role_actions_30d',
      'role_permission_usage_90d',
      'roles_active_7d',
      'root_activity_7d',
      'route_table_changes_7d',
      's3_bucket_policy_changes_7d',
      'security_group_changes_7d',
      'unauthorized_api_calls_7d',
      'unused_roles_90d',
      'unused_users_90d',
      'users_active_30d',
      'vpc_changes_7d',
    ]);
    expect(byId.root_activity_7d?.severity).toBe('critical');
    expect(byId.root_activity_7d?.evaluation).toEqual({ kind: 'threshold', metric: 'row_count', fail_above: 0 });
    expect(byId.console_login_without_mfa_30d?.severity).toBe('high');
    expect(byId.console_login_failures_30d?.evaluation).toMatchObject({ fail_above: 10 });
    expect(byId.unauthorized_api_calls_7d?.evaluation).toMatchObject({ metric: 'sum:errors', fail_above: 50 });
    expect(byId.roles_active_7d?.evaluation.kind).toBe('info');
    expect(byId.role_actions_30d?.optionValues).toEqual({ role_arns: [] });
    // CIS 4.4–4.15: turning CloudTrail off is critical; a security group edit is a normal working day.
    expect(byId.cloudtrail_config_changes_7d).toMatchObject({ severity: 'critical', evaluation: { metric: 'sum:logging_stopped', fail_above: 0 } });
    expect(byId.config_recorder_changes_7d).toMatchObject({ severity: 'high', evaluation: { metric: 'sum:recording_stopped', fail_above: 0 } });
    expect(byId.kms_key_disabled_or_deleted_7d).toMatchObject({ severity: 'high', evaluation: { metric: 'row_count', fail_above: 0 } });
    expect(byId.security_group_changes_7d?.evaluation.kind).toBe('info');
    expect(byId.route_table_changes_7d?.evaluation.kind).toBe('info');
    for (const check of catalog.filter((c) => c.frameworks['cis_aws_foundations_v1.4']?.some((control) => /^4\.(4|5|[7-9]|1[0-5])$/.test(control)))) {
      expect(check.columns.slice(0, 9), check.id).toEqual([
        'event_time',
        'account',
        'region',
        'principal',
        'identity_type',
        'event_source',
        'event_name',
        'error_code',
        'source_ip',
      ]);
      expect(check.columns.at(-1), check.id).toBe('event_id');
    }
    expect(byId.log_integrity_30d?.severity).toBe('critical');
    expect(byId.log_integrity_30d?.requires).toEqual(['log_integrity']);
    for (const id of ['unused_roles_90d', 'unused_users_90d', 'role_permission_usage_90d']) {
      expect(byId[id]?.lookback_days, id).toBe(90);
      expect(byId[id]?.requires, id).toEqual(['iam_inventory']);
    }
  });

  it('binds every value: no check splices a literal time or ARN into its SQL', async () => {
    const catalog = await loadCatalog(CHECKS_DIR);
    for (const check of catalog) {
      const sql = await readFile(path.join(CHECKS_DIR, check.id, 'query.sql'), 'utf8');
      expect(sql, check.id).not.toMatch(/'\d{4}-\d{2}-\d{2}/);
      expect(sql, check.id).not.toMatch(/'arn:/);
      // An inventory check reads the activity aggregate, whose periods end at the as-of: it binds the lookback's start only.
      // The integrity check binds nothing: its problems are computed for its own window (core/integrity.ts).
      const bounds = check.requires?.includes('iam_inventory')
        ? ['window_start', 'window_start']
        : check.requires?.includes('log_integrity')
          ? []
          : ['window_start', 'window_end'];
      expect(check.parameters.slice(0, 2), check.id).toEqual(bounds);
    }
  });
});

describe('parseCheck', () => {
  it('accepts a valid check', () => {
    const { check, problems } = parse(VALID_YAML);
    expect(problems).toEqual([]);
    expect(check?.id).toBe('my_check');
  });

  it('reports every problem with the file and the key', () => {
    // Prepare: wrong id, bad severity, negative lookback, unknown key
    const yaml = VALID_YAML.replace('severity: high', 'severity: urgent').replace('lookback_days: 7', 'lookback_days: -1') + 'colour: red\n';

    // Act
    const { check, problems } = parse(yaml);

    // Assess
    expect(check).toBeUndefined();
    const text = problems.join('\n');
    expect(text).toContain('my_check/check.yaml: severity:');
    expect(text).toContain('my_check/check.yaml: lookback_days:');
    expect(text).toMatch(/colour/);
  });

  it('requires the id to equal the folder name', () => {
    const { problems } = parse(VALID_YAML, VALID_SQL, 'other_folder');
    expect(problems.join('\n')).toContain('id: expected "other_folder" (the folder name), found "my_check"');
  });

  it('rejects a query whose placeholders do not match the declared parameters', () => {
    const { problems } = parse(VALID_YAML, `${VALID_SQL} AND eventname = ?`);
    expect(problems.join('\n')).toContain('has 3 "?" placeholder(s) but check.yaml lists 2 parameter(s)');
  });

  it('rejects unknown parameter names and a missing query.sql', () => {
    const yaml = VALID_YAML.replace('[window_start, window_end]', '[window_start, user_input]');
    expect(parse(yaml).problems.join('\n')).toContain('unknown parameter "user_input"');
    const noSql = parseCheck('my_check', { yamlPath: 'my_check/check.yaml', yamlText: VALID_YAML, sqlPath: 'my_check/query.sql', sqlText: undefined });
    expect(noSql.problems.join('\n')).toContain('my_check/query.sql: missing');
  });
});

describe('countPlaceholders', () => {
  it('ignores question marks in literals, quoted identifiers and comments', () => {
    const sql = `SELECT '?' AS a, 'it''s ?' AS b, "odd?name" -- why?\n FROM t /* ? */ WHERE x = ? AND y = ?`;
    expect(countPlaceholders(sql)).toBe(2);
  });

  // Each query has exactly one real parameter, as DuckDB's own parser counts them (its prepared statement's parameterCount).
  it.each([
    ['a string literal', `SELECT 'what?' AS a, ? AS b`],
    ['a string literal with a doubled quote', `SELECT 'it''s ?' AS a, ? AS b`],
    ['an E-string with backslash-escaped quotes', `SELECT E'\\'?\\'' AS a, ? AS b`],
    ['an E-string ending in an escaped backslash', `SELECT e'x\\\\' AS a, '?' AS q, ? AS b`],
    ['a quoted identifier', `SELECT 1 AS "we?ird", 2 AS "a""?", ? AS c`],
    ['a line comment', `SELECT 1 AS a -- is this ?\n, ? AS b`],
    ['a block comment', `SELECT 1 /* ? */ AS a, ? AS b`],
    ['a nested block comment', `SELECT 1 /* a /* nested ? */ still a comment ? */ AS a, ? AS b`],
    ['dollar-quoted text', `SELECT $$ what ? $$ AS a, ? AS b`],
    ['tagged dollar-quoted text holding $$', `SELECT $tag$ what ? $$ ? $tag$ AS a, ? AS b`],
    ['an identifier with dollar signs (no quoting)', `SELECT 1 AS a$b$, ? AS c`],
  ])('ignores a question mark in %s', (_form, sql) => {
    expect(countPlaceholders(sql)).toBe(1);
  });
});

describe('applyOverrides', () => {
  async function catalog(): Promise<Check[]> {
    return loadCatalog(CHECKS_DIR);
  }

  it('changes thresholds, severities, options and disables checks', async () => {
    const { checks, problems } = applyOverrides(
      await catalog(),
      {
        console_login_failures_30d: { fail_above: 25, severity: 'high' },
        role_actions_30d: { options: { role_arns: ['arn:aws:iam::111111111111:role/deploy'] } },
        users_active_30d: { enabled: false },
      },
      'checks.overrides',
    );
    expect(problems).toEqual([]);
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    expect(byId.console_login_failures_30d?.evaluation).toMatchObject({ fail_above: 25 });
    expect(byId.console_login_failures_30d?.severity).toBe('high');
    expect(byId.role_actions_30d?.optionValues.role_arns).toEqual(['arn:aws:iam::111111111111:role/deploy']);
    expect(byId.users_active_30d).toBeUndefined();
    expect(checks).toHaveLength(22);
  });

  it('reports unknown ids, unknown options and thresholds on info checks together', async () => {
    const { problems } = applyOverrides(
      await catalog(),
      { no_such_check: { enabled: false }, roles_active_7d: { fail_above: 3 }, role_actions_30d: { options: { colour: 'red' } } },
      'checks.overrides',
    );
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toContain('checks.overrides.no_such_check: no check with this id');
    expect(problems.join('\n')).toContain('checks.overrides.roles_active_7d.fail_above: this check is informational');
    expect(problems.join('\n')).toContain('checks.overrides.role_actions_30d.options.colour: unknown option');
  });
});

/** A checks folder with one check `my_check` of these files. */
async function checksFolder(yamlText: string, sqlText: string): Promise<string> {
  const dir = await tempDir('trailwarden-catalog-');
  await mkdir(path.join(dir, 'my_check'));
  await writeFile(path.join(dir, 'my_check', 'check.yaml'), yamlText);
  await writeFile(path.join(dir, 'my_check', 'query.sql'), sqlText);
  return dir;
}

describe('a query against its declared columns, as the parser sees it when the catalogue loads', () => {
  it('accepts a query that returns exactly the declared columns, in order', async () => {
    const { checks, problems } = await readCatalog(await checksFolder(VALID_YAML, VALID_SQL));
    expect(problems).toEqual([]);
    expect(checks.map((c) => c.columns)).toEqual([['eventname']]);
  });

  it.each([
    [
      'another column',
      'SELECT eventid FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ?',
      /returns the columns \(eventid\), but check.yaml declares columns: \[eventname\]/,
    ],
    ['an unnamed expression', 'SELECT upper(eventname) FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ?', /result column\(s\) 1 have no name/],
    ['SELECT *', 'SELECT * FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ?', /result column\(s\) 1 have no name/],
    [
      'two statements',
      'SELECT eventname FROM cloudtrail_window WHERE eventtime >= ?; SELECT eventname FROM cloudtrail_window WHERE eventtime < ?',
      /expected exactly one SELECT statement, found 2/,
    ],
    ['a DELETE', 'DELETE FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ?', /not a single SELECT statement/],
  ])('refuses %s, naming the query file', async (_case, sql, expected) => {
    const dir = await checksFolder(VALID_YAML, sql);
    const { checks, problems } = await readCatalog(dir);
    expect(checks).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(path.join(dir, 'my_check', 'query.sql'));
    expect(problems[0]).toMatch(expected);
  });

  it('takes key_columns among the declared columns, and refuses one that is not, naming it', () => {
    const keyed = parse(
      VALID_YAML.replace('columns: [eventname]', 'columns: [eventname, eventid]\nkey_columns: [eventid]'),
      'SELECT eventname, eventid FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ?',
    );
    expect(keyed.problems).toEqual([]);
    expect(keyed.check?.key_columns).toEqual(['eventid']);
    expect(parse(VALID_YAML).check?.key_columns).toBeUndefined();

    const wrong = parse(VALID_YAML.replace('columns: [eventname]', 'columns: [eventname]\nkey_columns: [eventname, role_arn]'));
    expect(wrong.problems).toEqual(['my_check/check.yaml: key_columns.1: "role_arn" is not one of columns (eventname)']);
  });

  it('declares key columns for every built-in check, each one of its columns', async () => {
    const checks = await loadCatalog(CHECKS_DIR);
    for (const check of checks) {
      expect(check.key_columns, check.id).toBeDefined();
      for (const column of check.key_columns!) expect(check.columns, check.id).toContain(column);
    }
  });

  it('refuses a summed column that the check does not declare', () => {
    const yaml = VALID_YAML.replace('metric: row_count', 'metric: sum:calls');
    expect(parse(yaml).problems).toEqual(['my_check/check.yaml: evaluation.metric: sums column "calls", which is not one of columns (eventname)']);
  });

  it('refuses a root alert job whose root check no longer declares a column the alert reads', async () => {
    // Prepare: the built-in checks, with root_activity_7d's event_id column removed from its query and check.yaml
    const dir = await tempDir('trailwarden-catalog-');
    for (const id of ['root_activity_7d']) {
      await mkdir(path.join(dir, 'checks', id), { recursive: true });
      const yaml = await readFile(path.join(CHECKS_DIR, id, 'check.yaml'), 'utf8');
      const sql = await readFile(path.join(CHECKS_DIR, id, 'query.sql'), 'utf8');
      await writeFile(path.join(dir, 'checks', id, 'check.yaml'), yaml.replace(', event_id]', ']').replace(/^key_columns:.*\n/m, ''));
      await writeFile(
        path.join(dir, 'checks', id, 'query.sql'),
        sql.replace(/,\s*eventid\s+AS event_id/, '').replace('ORDER BY event_time, event_id', 'ORDER BY event_time'),
      );
    }
    const config = path.join(dir, 'trailwarden.yaml');
    await writeFile(
      config,
      [
        'source: { kind: local, path: logs }',
        'archive: { kind: local, path: out }',
        'mail: { kind: outbox, path: outbox, from: a@example.com, to: [b@example.com] }',
        'jobs:',
        '  root: { type: root_alert, schedule: "*/15 * * * *" }',
        '',
      ].join('\n'),
    );

    // Act
    const error = await loadSetup(config).catch((e: unknown) => e);

    // Assess: the query and its check.yaml agree, so only the alert's contract is broken
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'jobs.root: the root alert reads the columns event_id of root_activity_7d, which its check.yaml does not declare (columns: event_time, account, region, event_source, event_name, source_ip, user_agent, mfa_authenticated, access, error_code)',
    ]);
  });
});
