import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_REASONS } from '../../src/core/cloudtrail-layout.js';
import { SourceError } from '../../src/core/errors.js';
import type { TimeWindow } from '../../src/core/time.js';
import { LocalLogSource } from '../../src/source/local.js';
import { S3LogSource } from '../../src/source/s3.js';
import { record, silentLog, tempDir, writeLogFile } from '../support/fixtures.js';
import { startS3, type LocalS3 } from '../support/s3.js';

const ORG = 'o-a1b2c3d4e5';
const WINDOW: TimeWindow = { start: new Date('2026-11-20T08:00:00Z'), end: new Date('2026-11-22T08:00:00Z') };
const DIR_NAME = '111111111111_CloudTrail_us-east-1_20261121T0900Z_abcdefghijklmnop.json.gz';

let s3: LocalS3;
let tree: string;
let bucket: string;

beforeAll(async () => {
  // One readable delivery, and every kind of folder the layout does not allow, with logs of the window in it.
  tree = await tempDir('trailwarden-s3-names-');
  const records = [record({ eventTime: '2026-11-21T09:00:00Z' })];
  await writeLogFile(tree, { day: '2026/11/21', records });
  await writeLogFile(tree, { day: '2026/11/21', region: 'eu-[ab]-1', records });
  await writeLogFile(tree, { day: '2025/01/02', region: 'old copy', records });
  await writeLogFile(path.join(tree, 'AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/21', DIR_NAME), { day: '2026/11/21', records });
  await writeLogFile(tree, { day: '2026/11/21', account: '11111111111[1]', records });
  await writeLogFile(tree, { day: '2026/11/21', organization: ORG, account: '2222 old', records });
  const flowLogs = path.join(tree, 'AWSLogs/aws-account-id=111111111111/aws-service=vpcflowlogs/aws-region=us-east-1');
  await mkdir(flowLogs, { recursive: true });
  await writeFile(path.join(flowLogs, 'flow.log.gz'), 'not CloudTrail');
  s3 = await startS3();
  bucket = await s3.createBucket('trail-names');
  await s3.uploadTree(bucket, tree);
});

afterAll(async () => {
  await s3?.stop();
});

describe('S3 source: folder names the CloudTrail layout does not allow', () => {
  it('reports the same folders, for the same reasons, as the local source reading the same tree', async () => {
    // Prepare
    const source = new S3LogSource({ client: s3.client, bucket, prefix: '', cachePath: await tempDir(), log: silentLog });

    // Act
    const listing = await source.list(WINDOW, { fetch: false });
    const local = await new LocalLogSource({ path: tree }).list(WINDOW);

    // Assess
    expect(listing.skipped).toEqual([
      { path: 'AWSLogs/111111111111/CloudTrail/eu-[ab]-1/', reason: SKIP_REASONS.notRegionFolder },
      { path: `AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/21/${DIR_NAME}/`, reason: SKIP_REASONS.folderInDayFolder },
      { path: 'AWSLogs/11111111111[1]/', reason: SKIP_REASONS.notAccountFolder },
      { path: `AWSLogs/${ORG}/2222 old/`, reason: SKIP_REASONS.notAccountFolder },
    ]);
    expect(local.skipped).toEqual(listing.skipped);
    expect(listing.files.map((f) => f.key)).toEqual(local.files.map((f) => f.key));
    expect(listing.files).toHaveLength(1);
  });

  it('refuses a cache path that DuckDB would read as a glob pattern, and only when it downloads', async () => {
    // Prepare
    const cachePath = path.join(await tempDir(), 'cache[1]');
    const source = new S3LogSource({ client: s3.client, bucket, prefix: '', cachePath, log: silentLog });

    // Act
    const listed = await source.list(WINDOW, { fetch: false });
    const fetched = source.list(WINDOW);

    // Assess: Athena reads the bucket itself, so only the download to a local cache is refused
    expect(listed.files).toHaveLength(1);
    await expect(fetched).rejects.toThrow(SourceError);
    await expect(fetched).rejects.toThrow(/cache path .*cache\[1\].* glob pattern/);
  });
});
