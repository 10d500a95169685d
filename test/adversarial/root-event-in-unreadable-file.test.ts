/**
 * The only root event of the week is in a log file (or record) trailwarden cannot read. Before, the root check
 * found nothing and passed, the subject said "all passed" and `--fail-on critical` exited 0: a false all-clear.
 */
import { describe, expect, it } from 'vitest';
import { runOn, UNREADABLE } from './support.js';

describe.each(UNREADABLE)('the only root event is behind %s', (_, spoil) => {
  it('reports root_activity_7d as incomplete, not pass, and --fail-on critical exits 2', async () => {
    // Act
    const run = await runOn(spoil, ['--fail-on', 'critical']);

    // Assess: no pass anywhere a user looks
    expect(run.status('root_activity_7d')).toBe('incomplete');
    expect(run.manifest.checks.filter((c) => c.status === 'pass')).toEqual([]);
    expect(run.manifest.verdict).toBe('incomplete');
    expect(run.subject).not.toContain('all passed');
    expect(run.subject).toMatch(/^\[trailwarden\] 14 incomplete, 3 not run · /);
    expect(run.text).toMatch(/^\[INCOMPLETE\] critical Root user activity in the last 7 days \(0\)$/m);
    expect(run.text).toContain('a pass needs complete input');
    expect(run.cli.stdout).toMatch(/^ {2}INCOMPLETE critical root_activity_7d: rows = 0, within the limit of 0, but .*: a pass needs complete input$/m);
    expect(run.cli.code).toBe(2);
    expect(run.cli.stderr).toContain(
      '--fail-on critical: cloudtrail_config_changes_7d (incomplete, critical), log_integrity_30d (incomplete, critical), root_activity_7d (incomplete, critical)',
    );
  });
});
