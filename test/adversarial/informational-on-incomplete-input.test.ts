/** An informational check is never judged, but its reader must learn that its rows may be incomplete. */
import { describe, expect, it } from 'vitest';
import { runOn, UNREADABLE } from './support.js';

describe('an informational check over a window with an unreadable file', () => {
  it('stays info, and its reason says the input was incomplete', async () => {
    const [, truncated] = UNREADABLE[0]!;
    const run = await runOn(truncated);

    const roles = run.manifest.checks.find((c) => c.id === 'roles_active_7d');
    expect(roles?.status).toBe('info');
    expect(roles?.reason).toBe('1 row(s); informational, no threshold; input incomplete: 1 file of the window could not be read, so rows may be missing');
    expect(run.text).toContain('input incomplete: 1 file of the window could not be read, so rows may be missing');
  });
});
