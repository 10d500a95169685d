import { describe, expect, it } from 'vitest';
import { SKIP_REASONS } from '../../src/core/cloudtrail-layout.js';
import { record, tempDir, writeLogFile } from '../support/fixtures.js';
import { ROOT_IDENTITY, runReport } from '../support/report-run.js';

const AS_OF = '2026-11-23T08:00:00Z';
const NAME = '111111111111_CloudTrail_eu-a-1_20261121T0900Z_samename00000001.json.gz';

describe('a region folder named like a glob pattern', () => {
  it('is reported as a skipped folder, never expanded into (or out of) another region’s files', async () => {
    // Prepare: root activity in `eu-[ab]-1` (a pattern that matches eu-a-1 and eu-b-1), and a file of the very
    // same name in eu-a-1, which a glob would read in its place
    const logs = await tempDir('trailwarden-glob-region-');
    await writeLogFile(logs, { day: '2026/11/21', records: [record({ eventTime: '2026-11-21T08:00:00Z' })] });
    await writeLogFile(logs, {
      day: '2026/11/21',
      region: 'eu-[ab]-1',
      name: NAME,
      records: [record({ eventTime: '2026-11-21T09:00:00Z', eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', userIdentity: ROOT_IDENTITY })],
    });
    await writeLogFile(logs, {
      day: '2026/11/21',
      region: 'eu-a-1',
      name: NAME,
      records: [record({ eventTime: '2026-11-21T09:30:00Z', awsRegion: 'eu-a-1' })],
    });

    // Act
    const run = await runReport(logs, AS_OF);

    // Assess: the run completed; the folder is in the report's skipped list with its reason; eu-a-1 read once
    expect(run.result.code, run.result.stderr).toBe(0);
    const { stats } = await run.manifest();
    expect(stats.files_skipped).toEqual([{ path: 'AWSLogs/111111111111/CloudTrail/eu-[ab]-1/', reason: SKIP_REASONS.notRegionFolder }]);
    expect(stats.regions).toEqual(['eu-a-1', 'us-east-1']);
    expect(stats.events).toBe(2);
    expect(stats.files_read).toBe(2);
    expect(await run.reportText()).toContain(`AWSLogs/111111111111/CloudTrail/eu-[ab]-1/: ${SKIP_REASONS.notRegionFolder}`);
    // The root event was not read, and the report says where it is rather than passing it off as absent in silence.
    expect(await run.csv('root_activity_7d')).toHaveLength(1);
  });

  it('is not reported when it holds nothing of the window', async () => {
    // Prepare: a stray folder with a file from long before the window
    const logs = await tempDir('trailwarden-glob-region-old-');
    await writeLogFile(logs, { day: '2026/11/21', records: [record({ eventTime: '2026-11-21T08:00:00Z' })] });
    await writeLogFile(logs, { day: '2025/01/02', region: 'eu-[ab]-1', records: [record({ eventTime: '2025-01-02T09:00:00Z' })] });

    // Act
    const run = await runReport(logs, AS_OF);

    // Assess
    expect(run.result.code, run.result.stderr).toBe(0);
    expect((await run.manifest()).stats.files_skipped).toEqual([]);
  });
});
