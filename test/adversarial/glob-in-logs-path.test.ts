import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { record, tempDir, writeLogFile } from '../support/fixtures.js';
import { runReport } from '../support/report-run.js';

const AS_OF = '2026-11-23T08:00:00Z';

describe('a logs folder whose own path holds glob characters', () => {
  it('stops the run with a reason instead of letting DuckDB read its path as a pattern', async () => {
    // Prepare: `logs[1]` would match a folder `logs1` — here one with other logs in it
    const parent = await tempDir('trailwarden-glob-path-');
    const logs = path.join(parent, 'logs[1]');
    await mkdir(logs);
    await writeLogFile(logs, {
      day: '2026/11/21',
      name: '111111111111_CloudTrail_us-east-1_20261121T0900Z_samename00000001.json.gz',
      records: [record({ eventTime: '2026-11-21T08:00:00Z' })],
    });
    await writeLogFile(path.join(parent, 'logs1'), {
      day: '2026/11/21',
      name: '111111111111_CloudTrail_us-east-1_20261121T0900Z_samename00000001.json.gz',
      records: [record({ eventTime: '2026-11-21T08:00:00Z' }), record({ eventTime: '2026-11-21T08:01:00Z' })],
    });

    // Act
    const run = await runReport(logs, AS_OF);

    // Assess: exit 1, one line saying which path and why; no report built on the wrong files
    expect(run.result.code).toBe(1);
    expect(run.result.stderr).toContain(`${logs}`);
    expect(run.result.stderr).toMatch(/glob/);
    expect(run.runDir).toBeUndefined();
  });
});
