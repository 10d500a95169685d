/**
 * `trailwarden setup athena`: the DDL of the CloudTrail table trailwarden queries, and for the classic
 * partitioned layout the discovery of the bucket's day folders. The table follows AWS's documented
 * CloudTrail table (Athena user guide, "Create the table for CloudTrail logs in Athena using partition
 * projection"): its columns come from the one table spec (`core/cloudtrail-table.ts`), then JsonSerDe +
 * CloudTrailInputFormat and a `timestamp` date partition formatted `yyyy/MM/dd`.
 * Both layouts add `account` and `region` partitions so one table covers every account and region.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { listAllPages } from '../../aws/s3-client.js';
import { ACCOUNT_ID, awsLogsPrefix, REGION, trailFolder } from '../../core/cloudtrail-layout.js';
import { CLOUDTRAIL_TABLE_COLUMNS } from '../../core/cloudtrail-table.js';
import { SourceError } from '../../core/errors.js';
import { sqlString } from './sql.js';

/** Where the CloudTrail logs are and what to call the table. */
export interface CloudTrailTableTarget {
  readonly database: string;
  readonly table: string;
  readonly bucket: string;
  /** The trail's key prefix before `AWSLogs/` ('' or ending in '/'). */
  readonly prefix: string;
  /** Organization trails: `AWSLogs/<o-id>/<account>/…`. */
  readonly organizationId?: string;
  /** First day of the projection range, `yyyy/MM/dd`. */
  readonly projectionStart: string;
}

/** One day folder of one account and region, as a partition. */
export interface DayPartition {
  readonly account: string;
  readonly region: string;
  /** `yyyy/MM/dd`, the value of the `timestamp` partition. */
  readonly day: string;
}

const STORAGE = `ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'`;

/** `s3://bucket/<prefix>AWSLogs/[<o-id>/]`: everything below is per account. */
function awsLogsRoot(target: CloudTrailTableTarget): string {
  return `s3://${target.bucket}/${awsLogsPrefix(target)}`;
}

function tableName(target: CloudTrailTableTarget): string {
  return `\`${target.database}\`.\`${target.table}\``;
}

/** A day folder's location: only `CloudTrail/` (never `CloudTrail-Digest/` or `CloudTrail-Insight/`). */
export function dayFolderLocation(target: CloudTrailTableTarget, partition: DayPartition): string {
  return `${awsLogsRoot(target)}${trailFolder(partition.account, partition.region, partition.day)}`;
}

function checkScope(accounts: readonly string[], regions: readonly string[]): void {
  const bad = [...accounts.filter((a) => !ACCOUNT_ID.test(a)), ...regions.filter((r) => !REGION.test(r))];
  if (accounts.length === 0 || regions.length === 0)
    throw new SourceError(
      'partition projection needs at least one account and one region (configure source.accounts / source.regions, or let setup discover them)',
    );
  if (bad.length > 0) throw new SourceError(`not an account id or region: ${bad.join(', ')}`);
}

/** The classic partitioned table: same columns and partitions, each day folder added by `addPartitionStatements`. */
export function partitionedTableDdl(target: CloudTrailTableTarget): string {
  return `CREATE EXTERNAL TABLE IF NOT EXISTS ${tableName(target)} (
${CLOUDTRAIL_TABLE_COLUMNS}
)
PARTITIONED BY (account STRING, region STRING, \`timestamp\` STRING)
${STORAGE}
LOCATION ${sqlString(awsLogsRoot(target))}`;
}

/** `CREATE DATABASE IF NOT EXISTS`: the first statement of every setup, so `--apply` works on a fresh account. */
export function createDatabaseDdl(database: string): string {
  return `CREATE DATABASE IF NOT EXISTS \`${database}\``;
}

/** The projection's table properties: account and region enums, the day range, the location template. */
function projectionProperties(target: CloudTrailTableTarget, accounts: readonly string[], regions: readonly string[]): [string, string][] {
  checkScope(accounts, regions);
  return [
    ['projection.enabled', 'true'],
    ['projection.account.type', 'enum'],
    ['projection.account.values', [...accounts].sort().join(',')],
    ['projection.region.type', 'enum'],
    ['projection.region.values', [...regions].sort().join(',')],
    ['projection.timestamp.type', 'date'],
    ['projection.timestamp.format', 'yyyy/MM/dd'],
    ['projection.timestamp.interval', '1'],
    ['projection.timestamp.interval.unit', 'DAYS'],
    ['projection.timestamp.range', `${target.projectionStart},NOW`],
    ['storage.location.template', `${awsLogsRoot(target)}${trailFolder('${account}', '${region}')}\${timestamp}`],
  ];
}

function propertyList(properties: readonly [string, string][]): string {
  return properties.map(([k, v]) => `  ${sqlString(k)}=${sqlString(v)}`).join(',\n');
}

/**
 * The projection table: no partition upkeep. Account and region are `enum` projections (their values are
 * fixed in the table's properties: `projectionUpdateDdl` brings an existing table up to date), the day is a `date`
 * projection. `storage.location.template` names the `CloudTrail/` day folder exactly, so digests are never read.
 */
export function projectionTableDdl(target: CloudTrailTableTarget, accounts: readonly string[], regions: readonly string[]): string {
  // The same table as the partitioned layout's, plus the projection's properties.
  return `${partitionedTableDdl(target)}
TBLPROPERTIES (
${propertyList(projectionProperties(target, accounts, regions))}
)`;
}

/**
 * `ALTER TABLE … SET TBLPROPERTIES` with every projection property. `CREATE EXTERNAL TABLE IF NOT EXISTS` leaves an
 * existing table as it was, and Athena generates partitions only from the listed enum values: without this, the logs
 * of an account or region added later would silently return no rows.
 */
export function projectionUpdateDdl(target: CloudTrailTableTarget, accounts: readonly string[], regions: readonly string[]): string {
  return `ALTER TABLE ${tableName(target)} SET TBLPROPERTIES (
${propertyList(projectionProperties(target, accounts, regions))}
)`;
}

/** Athena's limit on a query's text. */
export const MAX_QUERY_BYTES = 262_144;

/**
 * `ALTER TABLE … ADD IF NOT EXISTS PARTITION … LOCATION …` statements for the day folders, at most
 * `perStatement` partitions each and always under Athena's 262,144-byte query limit.
 */
export function addPartitionStatements(
  target: CloudTrailTableTarget,
  partitions: readonly DayPartition[],
  perStatement = 100,
  maxBytes = MAX_QUERY_BYTES,
): string[] {
  const head = `ALTER TABLE ${tableName(target)} ADD IF NOT EXISTS`;
  const statements: string[] = [];
  let clauses: string[] = [];
  let bytes = Buffer.byteLength(head);
  const flush = () => {
    if (clauses.length > 0) statements.push(`${head}\n${clauses.join('\n')}`);
    clauses = [];
    bytes = Buffer.byteLength(head);
  };
  for (const p of partitions) {
    if (!ACCOUNT_ID.test(p.account) || !REGION.test(p.region) || !/^\d{4}\/\d{2}\/\d{2}$/.test(p.day))
      throw new SourceError(`not a CloudTrail day folder: ${p.account}/${p.region}/${p.day}`);
    const clause = `  PARTITION (account=${sqlString(p.account)}, region=${sqlString(p.region)}, \`timestamp\`=${sqlString(p.day)}) LOCATION ${sqlString(dayFolderLocation(target, p))}`;
    const size = Buffer.byteLength(clause) + 1;
    if (clauses.length >= perStatement || bytes + size > maxBytes) flush();
    clauses.push(clause);
    bytes += size;
  }
  flush();
  return statements;
}

/** Sub-folder names one level below `prefix` (ListObjectsV2 with a delimiter, every page). */
async function folders(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return (await listAllPages(s3, bucket, prefix, '/')).folders.sort();
}

/** What to look for in the bucket; unset accounts/regions mean all that are found. */
export interface DiscoveryScope {
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
  /** Only day folders on or after this day (`YYYY/MM/DD`): a daily run adds the new days without listing years of old ones. */
  readonly since?: string;
}

/** The accounts and regions that have a `CloudTrail/` folder in the bucket. */
export async function discoverAccountsAndRegions(
  s3: S3Client,
  target: CloudTrailTableTarget,
  scope: DiscoveryScope = {},
): Promise<{ accounts: string[]; regions: string[] }> {
  const root = awsLogsPrefix(target);
  const accounts = (await folders(s3, target.bucket, root)).filter((a) => ACCOUNT_ID.test(a) && (!scope.accounts || scope.accounts.includes(a)));
  const regions = new Set<string>();
  for (const account of accounts) {
    for (const region of await folders(s3, target.bucket, `${root}${trailFolder(account)}`)) {
      if (REGION.test(region) && (!scope.regions || scope.regions.includes(region))) regions.add(region);
    }
  }
  return { accounts, regions: [...regions].sort() };
}

/** Every existing `<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/` folder, as partitions, sorted. */
export async function discoverDayPartitions(s3: S3Client, target: CloudTrailTableTarget, scope: DiscoveryScope = {}): Promise<DayPartition[]> {
  const root = awsLogsPrefix(target);
  const { accounts, regions } = await discoverAccountsAndRegions(s3, target, scope);
  const found: DayPartition[] = [];
  for (const account of accounts) {
    for (const region of regions) {
      const base = `${root}${trailFolder(account, region)}`;
      // Folder names compare as the days they name, so whole years and months before `since` are never listed.
      const since = scope.since ?? '';
      for (const year of (await folders(s3, target.bucket, base)).filter((y) => /^\d{4}$/.test(y) && y >= since.slice(0, 4))) {
        for (const month of (await folders(s3, target.bucket, `${base}${year}/`)).filter((m) => /^\d{2}$/.test(m) && `${year}/${m}` >= since.slice(0, 7))) {
          for (const day of (await folders(s3, target.bucket, `${base}${year}/${month}/`)).filter(
            (d) => /^\d{2}$/.test(d) && `${year}/${month}/${d}` >= since,
          )) {
            found.push({ account, region, day: `${year}/${month}/${day}` });
          }
        }
      }
    }
  }
  return found;
}
