/** A team that wants incomplete input to count as a failure says so per check, in the config; it cannot say less. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { configWithOverrides, runOn, UNREADABLE } from './support.js';

describe('checks.overrides.<id>.on_incomplete', () => {
  it('"fail" fails the root check on incomplete input, says why, and keeps the other checks incomplete', async () => {
    const [, truncated] = UNREADABLE[0]!;

    const run = await runOn(truncated, ['--fail-on', 'critical'], '{ root_activity_7d: { on_incomplete: fail } }');

    expect(run.status('root_activity_7d')).toBe('fail');
    expect(run.status('console_login_without_mfa_30d')).toBe('incomplete');
    expect(run.manifest.checks.find((c) => c.id === 'root_activity_7d')?.reason).toBe(
      'rows = 0, within the limit of 0, but 1 file of the window could not be read: this check fails on incomplete input (on_incomplete: fail)',
    );
    expect(run.subject).toMatch(/^\[trailwarden\] 1 failed, 13 incomplete, 3 not run · /);
    expect(run.cli.code).toBe(2);
    expect(run.cli.stderr).toContain('root_activity_7d (fail, critical)');
  });

  it.each(['pass', 'ignore'])('"%s" does not exist: the config is rejected with the key, and nothing runs', async (value) => {
    const config = await configWithOverrides(`{ root_activity_7d: { on_incomplete: ${value} } }`);

    const validate = await runCli(['validate', '--config', config]);
    const run = await runCli(['run', '--config', config]);

    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain(`checks.overrides.root_activity_7d.on_incomplete: expected "incomplete" or "fail", found "${value}"`);
    expect(run.code).toBe(1);
  });
});
