/** The control: the same logs, every file readable. Failing closed must not turn every run into a failure. */
import { describe, expect, it } from 'vitest';
import { runOn } from './support.js';

describe('a window whose every file and record was read', () => {
  it('passes the root check, says "all passed" and lets --fail-on critical exit 0', async () => {
    const run = await runOn(undefined, ['--fail-on', 'critical']);

    expect(run.status('root_activity_7d')).toBe('pass');
    expect(run.manifest.verdict).toBe('pass');
    expect(run.subject).toMatch(/^\[trailwarden\] all passed · /);
    expect(run.text).not.toContain('INCOMPLETE');
    expect(run.cli.code, run.cli.stderr).toBe(0);
  });
});
