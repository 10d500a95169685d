import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverDayPartitions } from '../../src/engines/athena/setup.js';
import { startAthenaServer, type AthenaServer } from '../support/athena-server.js';
import { runCli } from '../support/cli.js';
import { record, tempDir, writeLogFile } from '../support/fixtures.js';
import { awsEnv, startS3, type LocalS3 } from '../support/s3.js';

const BUCKET = 'setup-trail';
let s3: LocalS3;
let athena: AthenaServer;

/** The day folders written below, as `account/region/yyyy/MM/dd`. */
const DAYS = [
  ['111111111111', 'us-east-1', '2026/10/31'],
  ['111111111111', 'us-east-1', '2026/11/01'],
  ['111111111111', 'eu-west-1', '2026/11/01'],
  ['222222222222', 'us-east-1', '2026/11/02'],
] as const;

async function config(dir: string, layout: 'projection' | 'partitioned', sourceExtra = ''): Promise<string> {
  const file = path.join(dir, 'trailwarden.yaml');
  await writeFile(
    file,
    `source: { kind: s3, bucket: ${BUCKET}, prefix: trail/, endpoint: ${s3.endpoint}, force_path_style: true, region: us-east-1${sourceExtra} }
engine: { kind: athena, region: us-east-1, endpoint: ${athena.endpoint}, database: security, layout: ${layout}, mode: direct, poll_initial_ms: 1, poll_max_ms: 5, output_location: 's3://${BUCKET}/results/' }
archive: { kind: local, path: out/archive }
mail: { kind: outbox, path: out/outbox, from: tw@example.com, to: [a@example.com] }
checks: { path: ${path.resolve('config/checks')} }
`,
  );
  return file;
}

beforeAll(async () => {
  // Prepare: a bucket laid out as CloudTrail writes it, with a digest tree that must never become a partition.
  const tree = await tempDir('trailwarden-setup-tree-');
  for (const [account, region, day] of DAYS)
    await writeLogFile(tree, { account, region, day, records: [record({ eventTime: `${day.replaceAll('/', '-')}T01:00:00Z` })] });
  await writeLogFile(tree, { day: '2026/11/01', trailFolder: 'CloudTrail-Digest', content: '{}', gzip: false, name: 'digest.json' });
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  await s3.uploadTree(BUCKET, tree, 'trail/');
  athena = await startAthenaServer({ s3: s3.client });
});

afterAll(async () => {
  await athena?.stop();
  await s3?.stop();
});

describe('setup athena', () => {
  it('discovers every day folder of every account and region, and nothing from digest trees', async () => {
    const found = await discoverDayPartitions(s3.newClient(), { database: 'd', table: 't', bucket: BUCKET, prefix: 'trail/', projectionStart: '2020/01/01' });

    expect(found.map((p) => `${p.account}/${p.region}/${p.day}`).sort()).toEqual(DAYS.map((d) => d.join('/')).sort());
  });

  it('with since, finds only the day folders on or after that day (a daily run adds the new days)', async () => {
    const target = { database: 'd', table: 't', bucket: BUCKET, prefix: 'trail/', projectionStart: '2020/01/01' };

    const fromNov = await discoverDayPartitions(s3.newClient(), target, { since: '2026/11/01' });
    const fromLastDay = await discoverDayPartitions(s3.newClient(), target, { since: '2026/11/02' });

    expect(fromNov.map((p) => `${p.account}/${p.region}/${p.day}`).sort()).toEqual(
      DAYS.filter((d) => d[2] >= '2026/11/01')
        .map((d) => d.join('/'))
        .sort(),
    );
    expect(fromLastDay.map((p) => `${p.account}/${p.region}/${p.day}`)).toEqual(['222222222222/us-east-1/2026/11/02']);
  });

  it('prints the projection DDL with the accounts and regions found in the bucket', async () => {
    const dir = await tempDir('trailwarden-setup-');

    const result = await runCli(['setup', 'athena', '--config', await config(dir, 'projection')], { env: awsEnv });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('-- accounts (found in the bucket): 111111111111, 222222222222');
    expect(result.stdout).toContain("'projection.account.values'='111111111111,222222222222'");
    expect(result.stdout).toContain("'projection.region.values'='eu-west-1,us-east-1'");
    expect(result.stdout).toContain(`'storage.location.template'='s3://${BUCKET}/trail/AWSLogs/\${account}/CloudTrail/\${region}/\${timestamp}'`);
    expect(athena.ddl).toEqual([]); // printed only
  });

  it('with --apply, creates the partitioned table and adds exactly the existing day folders through Athena', async () => {
    const dir = await tempDir('trailwarden-setup-');
    const before = athena.calls.length;

    const result = await runCli(['setup', 'athena', '--config', await config(dir, 'partitioned', ', accounts: ["111111111111", "222222222222"]'), '--apply'], {
      env: awsEnv,
    });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('-- applied statement 3/3');
    // The database first (it did not exist: a statement in it would fail), then the table.
    expect(athena.ddl[0]).toBe('CREATE DATABASE IF NOT EXISTS `security`');
    expect(athena.ddl[1]).toMatch(/^CREATE EXTERNAL TABLE IF NOT EXISTS `security`\.`cloudtrail_logs`/);
    expect(Object.fromEntries(athena.partitions)).toEqual(
      Object.fromEntries(DAYS.map(([a, r, d]) => [`account=${a}/region=${r}/timestamp=${d}`, `s3://${BUCKET}/trail/AWSLogs/${a}/CloudTrail/${r}/${d}/`])),
    );
    const starts = athena.calls.slice(before).filter((c) => c.target === 'StartQueryExecution');
    expect(starts.every((c) => c.input.WorkGroup === 'primary')).toBe(true);
    expect(starts.slice(1).every((c) => (c.input.QueryExecutionContext as { Database?: string }).Database === 'security')).toBe(true);
    expect(starts.every((c) => String(c.input.ClientRequestToken).length === 64)).toBe(true);
  });

  it("re-run with --apply, brings an existing projection table's account and region enums up to date", async () => {
    // Prepare: the table was set up when only one account and region were logging
    const scope = (accounts: string, regions: string) => `, accounts: [${accounts}], regions: [${regions}]`;
    const first = await runCli(
      ['setup', 'athena', '--config', await config(await tempDir('trailwarden-setup-'), 'projection', scope('"111111111111"', '"us-east-1"')), '--apply'],
      { env: awsEnv },
    );
    const before = athena.tableProperties('security.cloudtrail_logs');

    // Act: an account and a region were added
    const again = await runCli(
      [
        'setup',
        'athena',
        '--config',
        await config(await tempDir('trailwarden-setup-'), 'projection', scope('"111111111111", "222222222222"', '"us-east-1", "eu-west-1"')),
        '--apply',
      ],
      { env: awsEnv },
    );

    // Assess: CREATE … IF NOT EXISTS changed nothing, the ALTER TABLE did, and the printed DDL shows it
    expect(first.code, first.stderr).toBe(0);
    expect(again.code, again.stderr).toBe(0);
    expect(before).toMatchObject({ 'projection.account.values': '111111111111', 'projection.region.values': 'us-east-1' });
    expect(again.stdout).toContain('ALTER TABLE `security`.`cloudtrail_logs` SET TBLPROPERTIES (');
    expect(athena.tableProperties('security.cloudtrail_logs')).toMatchObject({
      'projection.enabled': 'true',
      'projection.account.values': '111111111111,222222222222',
      'projection.region.values': 'eu-west-1,us-east-1',
    });
  });
});
