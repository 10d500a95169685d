import { describe, expect, it } from 'vitest';
import { CLOUDTRAIL_TABLE_COLUMNS } from '../../src/core/cloudtrail-table.js';
import { addPartitionStatements, partitionedTableDdl, projectionTableDdl, type CloudTrailTableTarget } from '../../src/engines/athena/setup.js';
import { parseS3Url } from '../../src/engines/athena/window-table.js';

const target: CloudTrailTableTarget = { database: 'security', table: 'cloudtrail_logs', bucket: 'acme-trail', prefix: 'org/', projectionStart: '2024/01/01' };

describe('setup athena DDL', () => {
  it("declares the projection table with AWS's SerDe and input format, enum accounts/regions and a narrow location template", () => {
    const ddl = projectionTableDdl(target, ['222222222222', '111111111111'], ['us-east-1', 'eu-west-1']);

    expect(ddl).toMatch(/^CREATE EXTERNAL TABLE IF NOT EXISTS `security`\.`cloudtrail_logs` \(/);
    expect(ddl).toContain("ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'");
    expect(ddl).toContain("STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'");
    expect(ddl).toContain("OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'");
    expect(ddl).toContain('PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)');
    expect(ddl).toContain("'projection.account.values'='111111111111,222222222222'");
    expect(ddl).toContain("'projection.region.values'='eu-west-1,us-east-1'");
    expect(ddl).toContain("'projection.timestamp.format'='yyyy/MM/dd'");
    expect(ddl).toContain("'projection.timestamp.range'='2024/01/01,NOW'");
    expect(ddl).toContain("'projection.timestamp.interval.unit'='DAYS'");
    expect(ddl).toContain("'storage.location.template'='s3://acme-trail/org/AWSLogs/${account}/CloudTrail/${region}/${timestamp}'");
    expect(ddl).not.toMatch(/Digest/i);
    // Every column the checks read is declared (names as in cloudtrail_window).
    for (const column of ['useridentity', 'sessionissuer', 'mfaauthenticated', 'eventtime', 'additionaleventdata', 'eventcategory', 'errorcode'])
      expect(ddl).toContain(column);
  });

  it("declares the columns of the one table spec in both layouts, with AWS's shapes", () => {
    const layouts = [projectionTableDdl(target, ['111111111111'], ['us-east-1']), partitionedTableDdl(target)];

    for (const ddl of layouts) expect(ddl).toContain(`(\n${CLOUDTRAIL_TABLE_COLUMNS}\n)\nPARTITIONED BY`);
    expect(CLOUDTRAIL_TABLE_COLUMNS).toMatch(/^ {2}eventversion STRING,\n {2}useridentity STRUCT<\n {4}type: STRING,$/m);
    expect(CLOUDTRAIL_TABLE_COLUMNS).toMatch(/webidfederationdata: STRUCT<\n\s+federatedprovider: STRING,\n\s+attributes: MAP<STRING,STRING>>>>,$/m);
    expect(CLOUDTRAIL_TABLE_COLUMNS).toMatch(/^ {2}requestparameters STRING,$/m);
    expect(CLOUDTRAIL_TABLE_COLUMNS).toMatch(/^ {2}resources ARRAY<STRUCT<\n {4}arn: STRING,$/m);
    for (const column of ['onbehalfof', 'vpcendpointaccountid', 'addendum', 'sessioncredentialfromconsole', 'edgedevicedetails'])
      expect(CLOUDTRAIL_TABLE_COLUMNS).toContain(column);
  });

  it('puts the organization id into the location of an organization trail', () => {
    const ddl = projectionTableDdl({ ...target, organizationId: 'o-a1b2c3d4e5' }, ['111111111111'], ['us-east-1']);
    expect(ddl).toContain("'storage.location.template'='s3://acme-trail/org/AWSLogs/o-a1b2c3d4e5/${account}/CloudTrail/${region}/${timestamp}'");
    expect(ddl).toContain("LOCATION 's3://acme-trail/org/AWSLogs/o-a1b2c3d4e5/'");
  });

  it('refuses a projection without accounts or regions, or with values that are not ids', () => {
    expect(() => projectionTableDdl(target, [], ['us-east-1'])).toThrow(/at least one account/);
    expect(() => projectionTableDdl(target, ["1' OR '1"], ['us-east-1'])).toThrow(/not an account id/);
  });

  it('declares the partitioned table without projection properties', () => {
    const ddl = partitionedTableDdl(target);
    expect(ddl).toContain('PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)');
    expect(ddl).not.toContain('projection.');
  });

  it('adds partitions in batches of at most 100 and under the query size limit, each at its day folder', () => {
    const days = Array.from({ length: 250 }, (_, i) => ({
      account: '111111111111',
      region: 'us-east-1',
      day: new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '/'),
    }));

    const statements = addPartitionStatements(target, days);
    const small = addPartitionStatements(target, days, 100, 2000);

    expect(statements.map((s) => s.match(/PARTITION \(/g)?.length)).toEqual([100, 100, 50]);
    expect(statements[0]).toMatch(
      /^ALTER TABLE `security`\.`cloudtrail_logs` ADD IF NOT EXISTS\n {2}PARTITION \(account='111111111111', region='us-east-1', `timestamp`='2026\/01\/01'\) LOCATION 's3:\/\/acme-trail\/org\/AWSLogs\/111111111111\/CloudTrail\/us-east-1\/2026\/01\/01\/'/,
    );
    expect(small.every((s) => Buffer.byteLength(s) <= 2000)).toBe(true);
    expect(small.reduce((n, s) => n + (s.match(/PARTITION \(/g)?.length ?? 0), 0)).toBe(250);
    expect(() => addPartitionStatements(target, [{ account: '111111111111', region: "us-east-1') LOCATION 's3://evil/", day: '2026/01/01' }])).toThrow(
      /not a CloudTrail day folder/,
    );
  });

  it('parses CTAS locations', () => {
    expect(parseS3Url('s3://work/trailwarden')).toEqual({ bucket: 'work', prefix: 'trailwarden/' });
    expect(parseS3Url('s3://work/')).toEqual({ bucket: 'work', prefix: '' });
  });
});
