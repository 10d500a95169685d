/** Rows found are rows found: a root event that was read fails the check, whatever else could not be read. */
import { describe, expect, it } from 'vitest';
import { writeLogFile } from '../support/fixtures.js';
import { rootEvent, runOn, UNREADABLE } from './support.js';

describe('a root event in a readable file, beside an unreadable one', () => {
  it('fails root_activity_7d (not incomplete) and says the input was incomplete', async () => {
    const [, truncated] = UNREADABLE[0]!;
    const run = await runOn(async (logs) => {
      await writeLogFile(logs, { day: '2026/11/22', records: [rootEvent('2026-11-22T09:00:00Z')] });
      await truncated(logs);
    });

    expect(run.status('root_activity_7d')).toBe('fail');
    expect(run.manifest.verdict).toBe('fail');
    expect(run.subject).toMatch(/^\[trailwarden\] 1 failed, 13 incomplete, 3 not run · /);
    expect(run.text).toContain('Input:         INCOMPLETE: 1 file of the window could not be read');
  });
});
