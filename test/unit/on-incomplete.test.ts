/**
 * `on_incomplete`: what a threshold check reports when it is within its limit on incomplete input. Configurable
 * only towards stricter — in check.yaml and in `checks.overrides.<id>` — and never to anything that passes.
 */
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog, loadSetup } from '../../src/config/load.js';
import { applyOverrides, parseCheck } from '../../src/core/catalog.js';
import { ConfigError } from '../../src/core/errors.js';
import { tempDir } from '../support/fixtures.js';

const CHECKS_DIR = path.resolve('config/checks');

const YAML = `
id: my_check
title: A check
description: Something
severity: high
lookback_days: 7
parameters: [window_start, window_end]
columns: [eventname]
evaluation: { kind: threshold, metric: row_count, fail_above: 0 }
`;
const SQL = 'SELECT eventname FROM cloudtrail_window WHERE eventtime >= ? AND eventtime < ?';

function parse(yamlText: string) {
  return parseCheck('my_check', { yamlPath: 'my_check/check.yaml', yamlText, sqlPath: 'my_check/query.sql', sqlText: SQL });
}

/** A config over a copy of the built-in checks, with these overrides (YAML lines under `checks.overrides`). */
async function configWithOverrides(overrides: string[]): Promise<string> {
  const dir = await tempDir('trailwarden-on-incomplete-');
  await cp(CHECKS_DIR, path.join(dir, 'checks'), { recursive: true });
  const file = path.join(dir, 'trailwarden.yaml');
  await writeFile(
    file,
    [
      'source: { kind: local, path: logs }',
      'archive: { kind: local, path: out }',
      'mail: { kind: outbox, path: outbox, from: a@example.com, to: [b@example.com] }',
      'checks:',
      '  overrides:',
      ...overrides.map((line) => `    ${line}`),
      '',
    ].join('\n'),
  );
  return file;
}

describe('on_incomplete in check.yaml', () => {
  it('defaults to "incomplete", in the check file schema, for every built-in check', async () => {
    expect(parse(YAML).check?.on_incomplete).toBe('incomplete');
    for (const check of await loadCatalog(CHECKS_DIR)) expect(check.on_incomplete, check.id).toBe('incomplete');
  });

  it('accepts "fail"', () => {
    expect(parse(`${YAML}on_incomplete: fail\n`)).toMatchObject({ problems: [], check: { on_incomplete: 'fail' } });
  });

  it.each(['pass', 'ignore', 'warn'])('has no lenient value: "%s" is rejected with its key', (value) => {
    const { check, problems } = parse(`${YAML}on_incomplete: ${value}\n`);
    expect(check).toBeUndefined();
    expect(problems).toEqual([
      `my_check/check.yaml: on_incomplete: expected "incomplete" or "fail", found "${value}": a check on incomplete input never passes, so no more lenient value exists`,
    ]);
  });

  it('is refused on an informational check, which never passes or fails', () => {
    const info = YAML.replace('evaluation: { kind: threshold, metric: row_count, fail_above: 0 }', 'evaluation: { kind: info }');
    expect(parse(`${info}on_incomplete: fail\n`).problems).toEqual([
      'my_check/check.yaml: on_incomplete: this check is informational and never passes or fails (its report says when its input was incomplete)',
    ]);
  });
});

describe('checks.overrides.<id>.on_incomplete: only stricter', () => {
  it('makes a check fail on incomplete input', async () => {
    const { checks, problems } = applyOverrides(await loadCatalog(CHECKS_DIR), { root_activity_7d: { on_incomplete: 'fail' } }, 'checks.overrides');
    expect(problems).toEqual([]);
    expect(checks.find((c) => c.id === 'root_activity_7d')?.on_incomplete).toBe('fail');
    expect(checks.find((c) => c.id === 'console_login_without_mfa_30d')?.on_incomplete).toBe('incomplete');
  });

  it('refuses to loosen a check whose own file says "fail"', async () => {
    // Prepare: a check file that fails on incomplete input
    const strict = (await loadCatalog(CHECKS_DIR)).map((c) => (c.id === 'root_activity_7d' ? { ...c, on_incomplete: 'fail' as const } : c));

    // Act
    const { checks, problems } = applyOverrides(strict, { root_activity_7d: { on_incomplete: 'incomplete' } }, 'checks.overrides');

    // Assess
    expect(problems).toEqual([
      'checks.overrides.root_activity_7d.on_incomplete: "incomplete" is more lenient than the check file\'s "fail"; an override may only make it stricter',
    ]);
    expect(checks.find((c) => c.id === 'root_activity_7d')?.on_incomplete).toBe('fail');
  });

  it('refuses it on an informational check', async () => {
    const { problems } = applyOverrides(await loadCatalog(CHECKS_DIR), { roles_active_7d: { on_incomplete: 'fail' } }, 'checks.overrides');
    expect(problems).toEqual(['checks.overrides.roles_active_7d.on_incomplete: this check is informational and never passes or fails']);
  });

  it('rejects a lenient value in the config file with a clear error naming the key', async () => {
    // Prepare
    const file = await configWithOverrides(['root_activity_7d: { on_incomplete: pass }']);

    // Act
    const error = await loadSetup(file).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'checks.overrides.root_activity_7d.on_incomplete: expected "incomplete" or "fail", found "pass": a check on incomplete input never passes, so no more lenient value exists',
    ]);
  });

  it('loads a config that makes a check stricter', async () => {
    const setup = await loadSetup(await configWithOverrides(['root_activity_7d: { on_incomplete: fail }']));
    expect(setup.checks.find((c) => c.id === 'root_activity_7d')?.on_incomplete).toBe('fail');
    expect(setup.catalog.find((c) => c.id === 'root_activity_7d')?.on_incomplete).toBe('incomplete');
  });
});
