import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SKIP_REASONS } from '../../src/core/cloudtrail-layout.js';
import { record, tempDir, writeLogFile } from '../support/fixtures.js';
import { ROOT_IDENTITY, runReport } from '../support/report-run.js';

const AS_OF = '2026-11-23T08:00:00Z';
const ORG = 'o-a1b2c3d4e5';

describe('folders under AWSLogs/ that are no account or organization id', () => {
  it('are reported when they hold CloudTrail logs, and left alone when they hold other services’ logs', async () => {
    // Prepare: a real account; an account-like folder with a glob in its name; an organization-like one; an
    // account-like folder inside a real organization; and VPC flow logs in Hive-style folders (not CloudTrail)
    const logs = await tempDir('trailwarden-account-names-');
    const rootCall = record({ eventTime: '2026-11-21T09:00:00Z', eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', userIdentity: ROOT_IDENTITY });
    await writeLogFile(logs, { day: '2026/11/21', records: [record({ eventTime: '2026-11-21T08:00:00Z' })] });
    await writeLogFile(logs, { day: '2026/11/21', account: '11111111111[1]', records: [rootCall] });
    await writeLogFile(logs, { day: '2026/11/21', organization: 'o-{copy}', account: '111111111111', records: [rootCall] });
    await writeLogFile(logs, { day: '2026/11/21', organization: ORG, account: '222222222222', records: [record({ eventTime: '2026-11-21T08:30:00Z' })] });
    await writeLogFile(logs, { day: '2026/11/21', organization: ORG, account: '2222 old', records: [rootCall] });
    await mkdir(path.join(logs, 'AWSLogs', 'aws-account-id=111111111111', 'aws-service=vpcflowlogs', 'aws-region=us-east-1'), { recursive: true });

    // Act
    const run = await runReport(logs, AS_OF);

    // Assess
    expect(run.result.code, run.result.stderr).toBe(0);
    const { stats } = await run.manifest();
    expect(stats.files_skipped).toEqual([
      { path: 'AWSLogs/11111111111[1]/', reason: SKIP_REASONS.notAccountFolder },
      { path: `AWSLogs/${ORG}/2222 old/`, reason: SKIP_REASONS.notAccountFolder },
      { path: 'AWSLogs/o-{copy}/', reason: SKIP_REASONS.notAccountFolder },
    ]);
    expect(stats.accounts).toEqual(['111111111111', '222222222222']);
    expect(stats.events).toBe(2);
  });
});
