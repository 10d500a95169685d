import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SKIP_REASONS } from '../../src/core/cloudtrail-layout.js';
import { record, tempDir, writeLogFile } from '../support/fixtures.js';
import { ROOT_IDENTITY, runReport } from '../support/report-run.js';

const AS_OF = '2026-11-23T08:00:00Z';
const DAY_KEY = 'AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/21';
const DIR_NAME = '111111111111_CloudTrail_us-east-1_20261121T0900Z_abcdefghijklmnop.json.gz';

describe('a folder in a day folder named like a log file', () => {
  it('is reported as skipped, with its reason, not passed over in silence', async () => {
    // Prepare: next to a real delivery, a folder with a log file's name, holding root activity
    const logs = await tempDir('trailwarden-dir-like-file-');
    await writeLogFile(logs, { day: '2026/11/21', records: [record({ eventTime: '2026-11-21T08:00:00Z' })] });
    const inner = path.join(logs, ...DAY_KEY.split('/'), DIR_NAME);
    await mkdir(inner, { recursive: true });
    await writeLogFile(inner, {
      day: '2026/11/21',
      records: [record({ eventTime: '2026-11-21T09:00:00Z', eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', userIdentity: ROOT_IDENTITY })],
    });

    // Act
    const run = await runReport(logs, AS_OF);

    // Assess: the run completed, and its report names the folder
    expect(run.result.code, run.result.stderr).toBe(0);
    const { stats } = await run.manifest();
    expect(stats.files_skipped).toEqual([{ path: `${DAY_KEY}/${DIR_NAME}/`, reason: SKIP_REASONS.folderInDayFolder }]);
    expect(stats.events).toBe(1);
    expect(await run.reportText()).toContain(`${DAY_KEY}/${DIR_NAME}/: ${SKIP_REASONS.folderInDayFolder}`);
  });
});
