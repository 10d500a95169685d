/** The control: the same logs, every file readable. Failing closed must not turn every run into a failure. */
import { describe, expect, it } from 'vitest';
import { runOn } from './support.js';

describe('a window whose every file and record was read', () => {
  it('passes the root check, says "all passed" and lets --fail-on critical exit 0', async () => {
    // These logs have no digests, so log_integrity_30d is rightly incomplete (test/unit/log-integrity.test.ts):
    // this control is about the events' input, so it leaves that check out.
    const run = await runOn(undefined, ['--fail-on', 'critical'], '{ log_integrity_30d: { enabled: false } }');

    expect(run.status('root_activity_7d')).toBe('pass');
    expect(run.manifest.verdict).toBe('pass');
    // The inventory checks did not run (no inventory given): named beside the pass, never counted as passed.
    expect(run.subject).toMatch(/^\[trailwarden\] all passed, 3 not run · /);
    expect(run.text).not.toContain('INCOMPLETE');
    expect(run.cli.code, run.cli.stderr).toBe(0);
  });
});
