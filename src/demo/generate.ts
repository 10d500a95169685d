/**
 * A deterministic, seeded generator of demo CloudTrail logs, laid out exactly as CloudTrail delivers them
 * to S3, together with the ground truth every check must return for them (see `truth.ts`).
 *
 * The data is routine noise (role sessions, IAM users, AWS services) plus a fixed script of events that
 * make every check show something: root use, console sign-ins without MFA, failed sign-ins, a principal
 * probing for permissions, and events exactly on the window edges. The tree also holds what a reader of
 * real buckets meets: an organization-trail layout, a digest file, an uncompressed `.json`, a duplicate
 * delivery, a truncated `.gz` and files whose events are from the day before their folder's date.
 *
 * Files are generated, compressed and written one at a time, so a million events need no more memory
 * than the compact truth records (none when `withTruth` is false).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  Rng,
  SECOND_MS,
  ctTime,
  parseIsoSeconds,
  subSeed,
  toTruthEvent,
  type CloudTrailRecord,
  type JsonObject,
  type ResourceRef,
  type TruthEvent,
  type UserIdentity,
} from './events.js';
import { computeTruth, type Truth } from './truth.js';
import { digestKey, logFileName, logKey } from '../core/cloudtrail-layout.js';

export type { CheckTruth, Truth } from './truth.js';
export type { TruthEvent } from './events.js';
export { computeTruth } from './truth.js';

const gzip = promisify(gzipCallback);

/** The as-of time the demo data is built around. */
export const DEMO_AS_OF = '2026-11-23T08:00:00Z';
export const DEMO_SEED = 20261123;

/** 111111111111 uses the plain layout, 222222222222 the organization-trail layout. */
export const DEMO_ACCOUNTS = ['111111111111', '222222222222'] as const;
export const DEMO_ORGANIZATION_ID = 'o-a1b2c3d4e5';
export const DEMO_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'] as const;
/** Where IAM, STS and console sign-in events are logged. */
const GLOBAL_REGION = 'us-east-1';
const TRAIL_BUCKET = 'acme-org-cloudtrail-logs';
const TRAIL_NAME = 'org-management-trail';

export interface DemoOptions {
  /** The tree goes to `<outDir>/AWSLogs/…`, the truth to `<outDir>/truth.json`. */
  outDir: string;
  /** Default 20261123. */
  seed?: number;
  /** ISO-8601; default DEMO_AS_OF. */
  asOf?: string;
  /** Days of history before asOf; default 35. */
  daysBefore?: number;
  /** Days of data after asOf, to prove that the window end is respected; default 1. */
  daysAfter?: number;
  /** Approximate number of events (scripted ones and the duplicate delivery included); default 60,000. */
  targetEvents?: number;
  /** Compute and write the truth; default true. The benchmark passes false to save memory. */
  withTruth?: boolean;
}

export interface DemoResult {
  outDir: string;
  /** Files written under AWSLogs/: event files (the duplicate and the corrupt one included) and the digest. */
  files: number;
  /** Records written into event files, counting the duplicate delivery and the corrupt file. */
  events: number;
  accounts: string[];
  regions: string[];
  /** Relative paths (from outDir, '/' separators) of the files made unreadable on purpose. */
  unreadableFiles: string[];
  truth?: Truth;
  /** Every readable event in compact form, duplicates included: `computeTruth` them for another as-of. */
  truthEvents?: TruthEvent[];
}

// ===================================================================================================
// Time helpers relative to asOf

interface Clock {
  asOfMs: number;
  /** UTC midnight of the asOf day. */
  midnightMs: number;
}

/** `daysAgo` days before the asOf day, at a wall-clock UTC time 'HH:MM:SS'. */
function dayAt(c: Clock, daysAgo: number, hms: string): number {
  const [h = 0, m = 0, s = 0] = hms.split(':').map(Number);
  return c.midnightMs - daysAgo * DAY_MS + h * HOUR_MS + m * MINUTE_MS + s * SECOND_MS;
}

/** Exactly `days` days (plus `seconds`) before asOf: for events on the window edges. */
function ago(c: Clock, days: number, seconds = 0): number {
  return c.asOfMs - days * DAY_MS - seconds * SECOND_MS;
}

// ===================================================================================================
// The world each account's actions refer to

interface World {
  account: string;
  buckets: string[];
  tables: string[];
  functions: string[];
  keyIds: string[];
  instances: string[];
  volumes: string[];
  vpcs: string[];
  subnets: string[];
  securityGroups: string[];
  secrets: string[];
  parameters: string[];
  logGroups: string[];
  stacks: string[];
  clusters: string[];
  databases: string[];
  repositories: string[];
  roleNames: string[];
  userNames: string[];
}

function makeWorld(account: string, rng: Rng, prefix: string, roleNames: string[], userNames: string[]): World {
  const ids = (n: number, make: () => string): string[] => Array.from({ length: n }, make);
  return {
    account,
    buckets: [`${prefix}-artifacts`, `${prefix}-data-lake`, `${prefix}-static-site`, `${prefix}-backups`, `${prefix}-terraform-state`],
    tables: [`${prefix}-orders`, `${prefix}-sessions`, `${prefix}-inventory`, `${prefix}-audit-log`],
    functions: [`${prefix}-orders-handler`, `${prefix}-thumbnailer`, `${prefix}-nightly-report`, `${prefix}-slack-notifier`],
    keyIds: ids(3, () => rng.uuid()),
    instances: ids(6, () => `i-0${rng.hex(16)}`),
    volumes: ids(6, () => `vol-0${rng.hex(16)}`),
    vpcs: ids(2, () => `vpc-0${rng.hex(16)}`),
    subnets: ids(4, () => `subnet-0${rng.hex(16)}`),
    securityGroups: ids(4, () => `sg-0${rng.hex(16)}`),
    secrets: [`prod/${prefix}/db-password`, `prod/${prefix}/stripe-api-key`, `shared/github-token`],
    parameters: [`/${prefix}/prod/db-host`, `/${prefix}/prod/feature-flags`, `/${prefix}/shared/log-level`],
    logGroups: [`/aws/lambda/${prefix}-orders-handler`, `/aws/lambda/${prefix}-thumbnailer`, `/ecs/${prefix}-web`],
    stacks: [`${prefix}-network`, `${prefix}-app`, `${prefix}-data`, `${prefix}-monitoring`],
    clusters: [`${prefix}-prod`, `${prefix}-staging`],
    databases: [`${prefix}-prod-db`, `${prefix}-reporting-db`],
    repositories: [`${prefix}/web`, `${prefix}/worker`, `${prefix}/migrations`],
    roleNames,
    userNames,
  };
}

// ===================================================================================================
// The catalog of API actions, with realistic request parameters and responses

interface Ctx {
  rng: Rng;
  world: World;
  region: string;
  ms: number;
}

interface Action {
  source: string;
  name: string;
  readOnly: boolean;
  /** Logged in us-east-1 only (IAM, STS, Organizations…). */
  global?: boolean;
  apiVersion?: string;
  params?: (c: Ctx) => JsonObject | null;
  response?: (c: Ctx) => JsonObject | null;
  resources?: (c: Ctx) => ResourceRef[];
  /** S3 writes extra details into additionalEventData. */
  s3?: boolean;
}

const host = (service: string, region: string): string => `${service}.${region}.amazonaws.com`;
const bucketHost = (bucket: string, region: string): string => `${bucket}.s3.${region}.amazonaws.com`;
const keyArn = (c: Ctx, keyId: string): string => `arn:aws:kms:${c.region}:${c.world.account}:key/${keyId}`;
const roleArnOf = (account: string, name: string): string => `arn:aws:iam::${account}:role/${name}`;

function tagFilter(c: Ctx): JsonObject {
  return { items: [{ name: 'tag:Environment', valueSet: { items: [{ value: c.rng.pick(['prod', 'staging']) }] } }] };
}

function bucketAction(name: string, readOnly: boolean, subresource: string): Action {
  return {
    source: 's3.amazonaws.com',
    name,
    readOnly,
    s3: true,
    params: (c) => {
      const bucket = c.rng.pick(c.world.buckets);
      return { bucketName: bucket, Host: bucketHost(bucket, c.region), [subresource]: '' };
    },
    resources: (c) => [{ accountId: c.world.account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${c.rng.pick(c.world.buckets)}` }],
  };
}

const A = {
  ec2DescribeInstances: {
    source: 'ec2.amazonaws.com',
    name: 'DescribeInstances',
    readOnly: true,
    params: (c) =>
      c.rng.chance(0.5)
        ? { instancesSet: { items: [{ instanceId: c.rng.pick(c.world.instances) }] }, filterSet: {} }
        : { maxResults: 1000, instancesSet: {}, filterSet: tagFilter(c) },
  },
  ec2DescribeSecurityGroups: {
    source: 'ec2.amazonaws.com',
    name: 'DescribeSecurityGroups',
    readOnly: true,
    params: (c) => ({ securityGroupSet: {}, securityGroupIdSet: { items: [{ groupId: c.rng.pick(c.world.securityGroups) }] }, filterSet: {} }),
  },
  ec2DescribeVpcs: {
    source: 'ec2.amazonaws.com',
    name: 'DescribeVpcs',
    readOnly: true,
    params: (c) => ({ vpcSet: { items: [{ vpcId: c.rng.pick(c.world.vpcs) }] }, filterSet: {} }),
  },
  ec2DescribeSubnets: {
    source: 'ec2.amazonaws.com',
    name: 'DescribeSubnets',
    readOnly: true,
    params: (c) => ({ subnetSet: {}, filterSet: { items: [{ name: 'vpc-id', valueSet: { items: [{ value: c.rng.pick(c.world.vpcs) }] } }] } }),
  },
  ec2DescribeVolumes: {
    source: 'ec2.amazonaws.com',
    name: 'DescribeVolumes',
    readOnly: true,
    params: (c) => ({
      volumeSet: {},
      filterSet: { items: [{ name: 'attachment.instance-id', valueSet: { items: [{ value: c.rng.pick(c.world.instances) }] } }] },
    }),
  },
  ec2DescribeNetworkInterfaces: {
    source: 'ec2.amazonaws.com',
    name: 'DescribeNetworkInterfaces',
    readOnly: true,
    params: (c) => ({
      networkInterfaceIdSet: {},
      filterSet: { items: [{ name: 'subnet-id', valueSet: { items: [{ value: c.rng.pick(c.world.subnets) }] } }] },
    }),
  },
  ec2CreateTags: {
    source: 'ec2.amazonaws.com',
    name: 'CreateTags',
    readOnly: false,
    params: (c) => ({
      resourcesSet: { items: [{ resourceId: c.rng.pick(c.world.instances) }] },
      tagSet: { items: [{ key: 'LastPatched', value: ctTime(c.ms).slice(0, 10) }] },
    }),
    response: (c) => ({ requestId: c.rng.uuid(), _return: true }),
  },
  ec2CreateSnapshot: {
    source: 'ec2.amazonaws.com',
    name: 'CreateSnapshot',
    readOnly: false,
    params: (c) => ({ volumeId: c.rng.pick(c.world.volumes), description: 'AWS Backup job' }),
    response: (c) => ({
      requestId: c.rng.uuid(),
      snapshotId: `snap-0${c.rng.hex(16)}`,
      volumeId: c.rng.pick(c.world.volumes),
      status: 'pending',
      startTime: c.ms,
      progress: '',
      ownerId: c.world.account,
      volumeSize: c.rng.pick([8, 20, 100]),
      encrypted: true,
    }),
  },
  s3ListBuckets: {
    source: 's3.amazonaws.com',
    name: 'ListBuckets',
    readOnly: true,
    s3: true,
    params: (c) => ({ Host: `s3.${c.region}.amazonaws.com` }),
  },
  s3GetBucketPolicy: bucketAction('GetBucketPolicy', true, 'policy'),
  s3GetBucketAcl: bucketAction('GetBucketAcl', true, 'acl'),
  s3GetBucketLocation: bucketAction('GetBucketLocation', true, 'location'),
  s3GetBucketEncryption: bucketAction('GetBucketEncryption', true, 'encryption'),
  s3GetBucketVersioning: bucketAction('GetBucketVersioning', true, 'versioning'),
  s3PutBucketTagging: bucketAction('PutBucketTagging', false, 'tagging'),
  lambdaList: { source: 'lambda.amazonaws.com', name: 'ListFunctions20150331', readOnly: true, params: () => null },
  lambdaGet: {
    source: 'lambda.amazonaws.com',
    name: 'GetFunction20150331v2',
    readOnly: true,
    params: (c) => ({ functionName: c.rng.pick(c.world.functions) }),
  },
  lambdaUpdateCode: {
    source: 'lambda.amazonaws.com',
    name: 'UpdateFunctionCode20150331v2',
    readOnly: false,
    params: (c) => ({
      functionName: c.rng.pick(c.world.functions),
      s3Bucket: c.world.buckets[0] ?? 'artifacts',
      s3Key: `lambda/${c.rng.hex(12)}.zip`,
      publish: true,
      dryRun: false,
    }),
    response: (c) => {
      const fn = c.rng.pick(c.world.functions);
      return {
        functionName: fn,
        functionArn: `arn:aws:lambda:${c.region}:${c.world.account}:function:${fn}`,
        runtime: 'python3.12',
        role: roleArnOf(c.world.account, 'service-role/lambda-exec'),
        handler: 'app.handler',
        codeSize: c.rng.between(200_000, 9_000_000),
        description: '',
        timeout: 30,
        memorySize: 512,
        lastModified: `${ctTime(c.ms).slice(0, 19)}.000+0000`,
        codeSha256: c.rng.alnum(43) + '=',
        version: String(c.rng.between(10, 300)),
        tracingConfig: { mode: 'PassThrough' },
        revisionId: c.rng.uuid(),
        state: 'Active',
        lastUpdateStatus: 'InProgress',
        packageType: 'Zip',
        architectures: ['arm64'],
      };
    },
  },
  dynamoDescribeTable: {
    source: 'dynamodb.amazonaws.com',
    name: 'DescribeTable',
    readOnly: true,
    apiVersion: '2012-08-10',
    params: (c) => ({ tableName: c.rng.pick(c.world.tables) }),
    resources: (c) => [
      { accountId: c.world.account, type: 'AWS::DynamoDB::Table', ARN: `arn:aws:dynamodb:${c.region}:${c.world.account}:table/${c.rng.pick(c.world.tables)}` },
    ],
  },
  dynamoListTables: { source: 'dynamodb.amazonaws.com', name: 'ListTables', readOnly: true, apiVersion: '2012-08-10', params: () => null },
  dynamoCreateBackup: {
    source: 'dynamodb.amazonaws.com',
    name: 'CreateBackup',
    readOnly: false,
    apiVersion: '2012-08-10',
    params: (c) => ({ tableName: c.rng.pick(c.world.tables), backupName: `AwsBackup_${c.rng.uuid()}` }),
    response: (c) => ({
      backupDetails: {
        backupArn: `arn:aws:dynamodb:${c.region}:${c.world.account}:table/${c.rng.pick(c.world.tables)}/backup/0${c.ms}-${c.rng.hex(8)}`,
        backupStatus: 'CREATING',
        backupType: 'AWS_BACKUP',
      },
    }),
  },
  kmsDecrypt: {
    source: 'kms.amazonaws.com',
    name: 'Decrypt',
    readOnly: true,
    params: (c) => ({
      encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      encryptionContext: { 'aws:lambda:FunctionArn': `arn:aws:lambda:${c.region}:${c.world.account}:function:${c.rng.pick(c.world.functions)}` },
    }),
    resources: (c) => [{ accountId: c.world.account, type: 'AWS::KMS::Key', ARN: keyArn(c, c.rng.pick(c.world.keyIds)) }],
  },
  kmsGenerateDataKey: {
    source: 'kms.amazonaws.com',
    name: 'GenerateDataKey',
    readOnly: true,
    params: (c) => ({
      keyId: `alias/${c.rng.pick(['app-data', 'dynamodb', 'secrets'])}`,
      keySpec: 'AES_256',
      encryptionContext: { 'aws:dynamodb:tableName': c.rng.pick(c.world.tables), 'aws:dynamodb:subscriberId': c.world.account },
    }),
    resources: (c) => [{ accountId: c.world.account, type: 'AWS::KMS::Key', ARN: keyArn(c, c.rng.pick(c.world.keyIds)) }],
  },
  kmsDescribeKey: {
    source: 'kms.amazonaws.com',
    name: 'DescribeKey',
    readOnly: true,
    params: (c) => ({ keyId: keyArn(c, c.rng.pick(c.world.keyIds)) }),
    resources: (c) => [{ accountId: c.world.account, type: 'AWS::KMS::Key', ARN: keyArn(c, c.rng.pick(c.world.keyIds)) }],
  },
  kmsListAliases: { source: 'kms.amazonaws.com', name: 'ListAliases', readOnly: true, params: () => null },
  stsGetCallerIdentity: { source: 'sts.amazonaws.com', name: 'GetCallerIdentity', readOnly: true, global: true, params: () => null },
  iamListRoles: { source: 'iam.amazonaws.com', name: 'ListRoles', readOnly: true, global: true, params: () => ({ maxItems: 1000 }) },
  iamGetRole: {
    source: 'iam.amazonaws.com',
    name: 'GetRole',
    readOnly: true,
    global: true,
    params: (c) => ({ roleName: c.rng.pick(c.world.roleNames) }),
  },
  iamListAttachedRolePolicies: {
    source: 'iam.amazonaws.com',
    name: 'ListAttachedRolePolicies',
    readOnly: true,
    global: true,
    params: (c) => ({ roleName: c.rng.pick(c.world.roleNames) }),
  },
  iamGetUser: {
    source: 'iam.amazonaws.com',
    name: 'GetUser',
    readOnly: true,
    global: true,
    params: (c) => ({ userName: c.rng.pick(c.world.userNames) }),
  },
  iamListUsers: { source: 'iam.amazonaws.com', name: 'ListUsers', readOnly: true, global: true, params: () => null },
  iamListAccessKeys: {
    source: 'iam.amazonaws.com',
    name: 'ListAccessKeys',
    readOnly: true,
    global: true,
    params: (c) => ({ userName: c.rng.pick(c.world.userNames) }),
  },
  iamGetAccountSummary: { source: 'iam.amazonaws.com', name: 'GetAccountSummary', readOnly: true, global: true, params: () => null },
  iamListPolicies: {
    source: 'iam.amazonaws.com',
    name: 'ListPolicies',
    readOnly: true,
    global: true,
    params: () => ({ scope: 'Local', onlyAttached: false, maxItems: 100 }),
  },
  iamGetPolicyVersion: {
    source: 'iam.amazonaws.com',
    name: 'GetPolicyVersion',
    readOnly: true,
    global: true,
    params: (c) => ({ policyArn: `arn:aws:iam::${c.world.account}:policy/${c.rng.pick(['ci-deploy', 'read-only-extra', 'boundary'])}`, versionId: `v${c.rng.between(1, 9)}` }),
  },
  monitoringDescribeAlarms: {
    source: 'monitoring.amazonaws.com',
    name: 'DescribeAlarms',
    readOnly: true,
    params: () => ({ stateValue: 'ALARM', maxRecords: 100 }),
  },
  monitoringGetMetricData: {
    source: 'monitoring.amazonaws.com',
    name: 'GetMetricData',
    readOnly: true,
    params: (c) => ({
      metricDataQueries: [
        {
          id: 'm1',
          metricStat: {
            metric: { namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimensions: [{ name: 'InstanceId', value: c.rng.pick(c.world.instances) }] },
            period: 300,
            stat: 'Average',
          },
        },
      ],
      startTime: ctTime(c.ms - HOUR_MS),
      endTime: ctTime(c.ms),
    }),
  },
  logsDescribeLogGroups: { source: 'logs.amazonaws.com', name: 'DescribeLogGroups', readOnly: true, params: () => ({ limit: 50 }) },
  logsCreateLogStream: {
    source: 'logs.amazonaws.com',
    name: 'CreateLogStream',
    readOnly: false,
    params: (c) => ({ logGroupName: c.rng.pick(c.world.logGroups), logStreamName: `${ctTime(c.ms).slice(0, 10).replaceAll('-', '/')}/[$LATEST]${c.rng.hex(32)}` }),
  },
  ssmGetParameter: {
    source: 'ssm.amazonaws.com',
    name: 'GetParameter',
    readOnly: true,
    params: (c) => ({ name: c.rng.pick(c.world.parameters), withDecryption: true }),
  },
  ssmUpdateInstanceInformation: {
    source: 'ssm.amazonaws.com',
    name: 'UpdateInstanceInformation',
    readOnly: false,
    params: (c) => ({
      instanceId: c.rng.pick(c.world.instances),
      agentVersion: '3.3.987.0',
      agentStatus: 'Active',
      platformType: 'Linux',
      platformName: 'Amazon Linux',
      platformVersion: '2023',
      iPAddress: `10.0.${c.rng.int(16)}.${c.rng.between(4, 250)}`,
      computerName: `ip-10-0-${c.rng.int(16)}-${c.rng.between(4, 250)}.ec2.internal`,
      agentName: 'amazon-ssm-agent',
      availabilityZone: `${c.region}${c.rng.pick(['a', 'b', 'c'])}`,
    }),
  },
  ssmDescribeParameters: { source: 'ssm.amazonaws.com', name: 'DescribeParameters', readOnly: true, params: () => ({ maxResults: 50 }) },
  secretsGetValue: {
    source: 'secretsmanager.amazonaws.com',
    name: 'GetSecretValue',
    readOnly: true,
    params: (c) => ({ secretId: c.rng.pick(c.world.secrets) }),
  },
  secretsDescribe: {
    source: 'secretsmanager.amazonaws.com',
    name: 'DescribeSecret',
    readOnly: true,
    params: (c) => ({ secretId: c.rng.pick(c.world.secrets) }),
  },
  secretsList: { source: 'secretsmanager.amazonaws.com', name: 'ListSecrets', readOnly: true, params: () => null },
  cfnDescribeStacks: {
    source: 'cloudformation.amazonaws.com',
    name: 'DescribeStacks',
    readOnly: true,
    params: (c) => ({ stackName: c.rng.pick(c.world.stacks) }),
  },
  cfnGetTemplate: {
    source: 'cloudformation.amazonaws.com',
    name: 'GetTemplate',
    readOnly: true,
    params: (c) => ({ stackName: c.rng.pick(c.world.stacks), templateStage: 'Original' }),
  },
  cfnCreateChangeSet: {
    source: 'cloudformation.amazonaws.com',
    name: 'CreateChangeSet',
    readOnly: false,
    params: (c) => ({
      stackName: c.rng.pick(c.world.stacks),
      changeSetName: `deploy-${c.rng.hex(7)}`,
      changeSetType: 'UPDATE',
      capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
      templateURL: `https://${c.world.buckets[0] ?? 'artifacts'}.s3.amazonaws.com/cfn/${c.rng.hex(12)}.yaml`,
    }),
    response: (c) => ({
      id: `arn:aws:cloudformation:${c.region}:${c.world.account}:changeSet/deploy/${c.rng.uuid()}`,
      stackId: `arn:aws:cloudformation:${c.region}:${c.world.account}:stack/${c.rng.pick(c.world.stacks)}/${c.rng.uuid()}`,
    }),
  },
  cfnCreateStack: {
    source: 'cloudformation.amazonaws.com',
    name: 'CreateStack',
    readOnly: false,
    params: (c) => ({ stackName: `${c.rng.pick(c.world.stacks)}-preview`, capabilities: ['CAPABILITY_IAM'] }),
  },
  ecrGetAuthorizationToken: {
    source: 'ecr.amazonaws.com',
    name: 'GetAuthorizationToken',
    readOnly: true,
    params: (c) => ({ registryIds: [c.world.account] }),
  },
  ecrDescribeImages: {
    source: 'ecr.amazonaws.com',
    name: 'DescribeImages',
    readOnly: true,
    params: (c) => ({ repositoryName: c.rng.pick(c.world.repositories), imageIds: [{ imageTag: `v1.${c.rng.between(0, 40)}.${c.rng.between(0, 9)}` }] }),
  },
  eksDescribeCluster: {
    source: 'eks.amazonaws.com',
    name: 'DescribeCluster',
    readOnly: true,
    params: (c) => ({ name: c.rng.pick(c.world.clusters) }),
  },
  rdsDescribeDBInstances: {
    source: 'rds.amazonaws.com',
    name: 'DescribeDBInstances',
    readOnly: true,
    params: (c) => ({ dBInstanceIdentifier: c.rng.pick(c.world.databases) }),
  },
  autoscalingDescribe: {
    source: 'autoscaling.amazonaws.com',
    name: 'DescribeAutoScalingGroups',
    readOnly: true,
    params: (c) => ({ autoScalingGroupNames: [`eks-${c.rng.pick(c.world.clusters)}-nodes-${c.rng.hex(8)}`] }),
  },
  elbDescribeTargetHealth: {
    source: 'elasticloadbalancing.amazonaws.com',
    name: 'DescribeTargetHealth',
    readOnly: true,
    apiVersion: '2015-12-01',
    params: (c) => ({
      targetGroupArn: `arn:aws:elasticloadbalancing:${c.region}:${c.world.account}:targetgroup/web-${c.rng.hex(6)}/${c.rng.hex(16)}`,
    }),
  },
  cloudtrailDescribeTrails: { source: 'cloudtrail.amazonaws.com', name: 'DescribeTrails', readOnly: true, params: () => ({ includeShadowTrails: true }) },
  cloudtrailGetTrailStatus: {
    source: 'cloudtrail.amazonaws.com',
    name: 'GetTrailStatus',
    readOnly: true,
    params: (c) => ({ name: `arn:aws:cloudtrail:us-east-1:${c.world.account}:trail/${TRAIL_NAME}` }),
  },
  cloudtrailStopLogging: {
    source: 'cloudtrail.amazonaws.com',
    name: 'StopLogging',
    readOnly: false,
    params: (c) => ({ name: `arn:aws:cloudtrail:us-east-1:${c.world.account}:trail/${TRAIL_NAME}` }),
  },
  configDescribeRules: { source: 'config.amazonaws.com', name: 'DescribeConfigRules', readOnly: true, params: () => null },
  securityhubGetFindings: {
    source: 'securityhub.amazonaws.com',
    name: 'GetFindings',
    readOnly: true,
    params: () => ({ filters: { RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }], SeverityLabel: [{ Value: 'CRITICAL', Comparison: 'EQUALS' }] }, maxResults: 100 }),
  },
  athenaStartQuery: {
    source: 'athena.amazonaws.com',
    name: 'StartQueryExecution',
    readOnly: false,
    params: (c) => ({
      queryString: `SELECT order_id, status, total FROM orders WHERE dt = '${ctTime(c.ms).slice(0, 10)}' LIMIT 1000`,
      clientRequestToken: c.rng.uuid(),
      queryExecutionContext: { database: 'analytics' },
      workGroup: 'primary',
    }),
    response: (c) => ({ queryExecutionId: c.rng.uuid() }),
  },
  glueGetTable: {
    source: 'glue.amazonaws.com',
    name: 'GetTable',
    readOnly: true,
    params: () => ({ databaseName: 'analytics', name: 'orders' }),
  },
  glueStartJobRun: {
    source: 'glue.amazonaws.com',
    name: 'StartJobRun',
    readOnly: false,
    params: () => ({ jobName: 'orders-to-parquet', arguments: { '--enable-metrics': 'true', '--job-bookmark-option': 'job-bookmark-enable' } }),
    response: (c) => ({ jobRunId: `jr_${c.rng.hex(64)}` }),
  },
  ceGetCostAndUsage: {
    source: 'ce.amazonaws.com',
    name: 'GetCostAndUsage',
    readOnly: true,
    global: true,
    params: (c) => ({
      timePeriod: { start: ctTime(c.ms - 30 * DAY_MS).slice(0, 10), end: ctTime(c.ms).slice(0, 10) },
      granularity: 'DAILY',
      metrics: ['UnblendedCost'],
      groupBy: [{ type: 'DIMENSION', key: 'SERVICE' }],
    }),
  },
  orgDescribeOrganization: { source: 'organizations.amazonaws.com', name: 'DescribeOrganization', readOnly: true, global: true, params: () => null },
  iamGetAccountAuthorizationDetails: {
    source: 'iam.amazonaws.com',
    name: 'GetAccountAuthorizationDetails',
    readOnly: true,
    global: true,
    params: () => ({ filter: ['User', 'Role', 'Group', 'LocalManagedPolicy'] }),
  },
  iamCreateUser: { source: 'iam.amazonaws.com', name: 'CreateUser', readOnly: false, global: true, params: () => ({ userName: 'support-backup' }) },
  iamDeleteRole: { source: 'iam.amazonaws.com', name: 'DeleteRole', readOnly: false, global: true, params: (c) => ({ roleName: c.rng.pick(c.world.roleNames) }) },
  ec2RunInstances: {
    source: 'ec2.amazonaws.com',
    name: 'RunInstances',
    readOnly: false,
    params: () => ({
      instancesSet: { items: [{ imageId: 'ami-0abcdef1234567890', minCount: 1, maxCount: 1 }] },
      instanceType: 'p4d.24xlarge',
      blockDeviceMapping: {},
      monitoring: { enabled: false },
      disableApiTermination: false,
      disableApiStop: false,
    }),
  },
  ec2CreateKeyPair: { source: 'ec2.amazonaws.com', name: 'CreateKeyPair', readOnly: false, params: () => ({ keyName: 'tmp', keyType: 'rsa', keyFormat: 'pem' }) },
} satisfies Record<string, Action>;

type ActionKey = keyof typeof A;
type Mix = Partial<Record<ActionKey, number>>;

// ===================================================================================================
// Actors

type AgentKind = 'cli' | 'boto' | 'go' | 'terraform' | 'js' | 'console' | 'kubelet';

/**
 * When an actor is active, relative to asOf. `until8d` stops 8 days before asOf, so it is absent from
 * a 7-day window even one day earlier; `stale` stops 32 days before asOf, outside a 30-day window.
 */
type Profile = 'always' | 'until8d' | 'mid' | 'brief' | 'stale' | 'never';

interface ActorBase {
  account: string;
  name: string;
  profile: Profile;
  /** Share of the noise among the actors of its kind. */
  weight: number;
  mix: Mix;
  agent: AgentKind;
  /** Source IPs; a VPC endpoint caller uses private ones. */
  ips: string[];
  /** Calls come from console sessions (sessionContext, sessionCredentialFromConsole). */
  console?: boolean;
  /** Console sessions signed in with MFA. */
  mfa?: boolean;
  vpcEndpoint?: string;
}

interface UserActor extends ActorBase {
  kind: 'user';
  arn: string;
  id: string;
  accessKey: string;
}

interface RoleActor extends ActorBase {
  kind: 'role';
  /** Path plus name, e.g. `service-role/lambda-orders-exec`. */
  pathName: string;
  arn: string;
  id: string;
  sessionNames: string[];
  /** A service acting with the role (AWS Backup…). */
  invokedBy?: string;
}

type Actor = UserActor | RoleActor;

interface ActiveRange {
  from: number;
  to: number;
}

function activeRange(profile: Profile, c: Clock): ActiveRange {
  switch (profile) {
    case 'always':
      return { from: -Infinity, to: Infinity };
    case 'until8d':
      return { from: -Infinity, to: ago(c, 8) };
    case 'mid':
      return { from: ago(c, 25), to: ago(c, 8) };
    case 'brief':
      return { from: ago(c, 20), to: ago(c, 10) };
    case 'stale':
      return { from: -Infinity, to: ago(c, 32) };
    case 'never':
      return { from: Infinity, to: -Infinity };
  }
}

const OFFICE_IPS = ['203.0.113.10', '203.0.113.11', '203.0.113.24', '203.0.113.57'];
const CI_IPS = ['192.0.2.15', '192.0.2.16', '192.0.2.88'];
const NAT_IPS = ['198.51.100.4', '198.51.100.5', '198.51.100.6'];
const ATTACKER_IP = '198.51.100.77';

interface UserSpec {
  name: string;
  profile: Profile;
  weight: number;
  mix: Mix;
  agent: AgentKind;
  ips: string[];
  console?: boolean;
  mfa?: boolean;
}

interface RoleSpec extends UserSpec {
  pathName: string;
  sessions: (rng: Rng) => string[];
  invokedBy?: string;
  vpcEndpoint?: string;
}

const READ_INFRA: Mix = { ec2DescribeInstances: 4, ec2DescribeSecurityGroups: 2, ec2DescribeVpcs: 1, ec2DescribeSubnets: 1, s3ListBuckets: 1 };

function usersFor(account: string): UserSpec[] {
  const dev: Mix = { ...READ_INFRA, lambdaGet: 2, cfnDescribeStacks: 2, logsDescribeLogGroups: 1, stsGetCallerIdentity: 2, s3GetBucketLocation: 1 };
  const admin: Mix = { ...READ_INFRA, iamListRoles: 2, iamGetRole: 2, iamListAttachedRolePolicies: 1, iamGetUser: 1, cloudtrailDescribeTrails: 1, securityhubGetFindings: 1 };
  const bot: Mix = { s3ListBuckets: 2, s3GetBucketLocation: 2, ec2DescribeInstances: 3, monitoringGetMetricData: 3, ssmGetParameter: 2, stsGetCallerIdentity: 1 };
  const audit: Mix = { iamGetAccountSummary: 1, iamListUsers: 2, iamListAccessKeys: 2, iamListPolicies: 1, iamGetPolicyVersion: 1, configDescribeRules: 1, s3GetBucketPolicy: 2 };
  if (account === DEMO_ACCOUNTS[0]) {
    return [
      { name: 'alice.admin', profile: 'always', weight: 3, mix: admin, agent: 'console', ips: OFFICE_IPS, console: true, mfa: true },
      { name: 'bob.dev', profile: 'always', weight: 4, mix: dev, agent: 'cli', ips: OFFICE_IPS },
      { name: 'carol.ops', profile: 'always', weight: 3, mix: { ...READ_INFRA, monitoringDescribeAlarms: 2, rdsDescribeDBInstances: 1 }, agent: 'console', ips: OFFICE_IPS, console: true },
      { name: 'dave.readonly', profile: 'until8d', weight: 2, mix: READ_INFRA, agent: 'cli', ips: OFFICE_IPS },
      { name: 'erin.audit', profile: 'stale', weight: 2, mix: audit, agent: 'boto', ips: OFFICE_IPS },
      { name: 'frank.legacy', profile: 'never', weight: 1, mix: READ_INFRA, agent: 'cli', ips: OFFICE_IPS },
      // A name that is a spreadsheet formula: reports and CSV evidence must neutralise it.
      { name: '=ops-bot', profile: 'always', weight: 5, mix: bot, agent: 'boto', ips: NAT_IPS },
      { name: 'Svc-Reporting', profile: 'always', weight: 2, mix: { athenaStartQuery: 3, glueGetTable: 2, s3GetBucketLocation: 1 }, agent: 'js', ips: NAT_IPS },
    ];
  }
  return [
    { name: 'gina.finance', profile: 'always', weight: 2, mix: { ceGetCostAndUsage: 3, s3ListBuckets: 1, stsGetCallerIdentity: 1 }, agent: 'console', ips: OFFICE_IPS, console: true },
    { name: 'harry.data', profile: 'always', weight: 4, mix: { athenaStartQuery: 3, glueGetTable: 3, glueStartJobRun: 1, s3GetBucketLocation: 2, dynamoDescribeTable: 1 }, agent: 'boto', ips: OFFICE_IPS },
    { name: 'ivan.sre', profile: 'always', weight: 4, mix: { ...READ_INFRA, eksDescribeCluster: 2, autoscalingDescribe: 1, monitoringDescribeAlarms: 2 }, agent: 'cli', ips: OFFICE_IPS },
    { name: 'judy.security', profile: 'until8d', weight: 2, mix: audit, agent: 'cli', ips: OFFICE_IPS },
    { name: 'ken.contractor', profile: 'always', weight: 2, mix: dev, agent: 'cli', ips: ['198.51.100.140'] },
    { name: '=ops-bot', profile: 'always', weight: 5, mix: bot, agent: 'boto', ips: NAT_IPS },
    { name: 'old-migration', profile: 'stale', weight: 2, mix: { dynamoDescribeTable: 2, s3GetBucketLocation: 1, rdsDescribeDBInstances: 1 }, agent: 'go', ips: NAT_IPS },
    { name: 'lena.intern', profile: 'never', weight: 1, mix: READ_INFRA, agent: 'console', ips: OFFICE_IPS },
  ];
}

const instanceSessions = (n: number) => (rng: Rng): string[] => Array.from({ length: n }, () => `i-0${rng.hex(16)}`);
const fixedSessions = (...names: string[]) => (): string[] => names;
const botoSessions = (n: number) => (rng: Rng): string[] => Array.from({ length: n }, () => `botocore-session-${1_790_000_000 + rng.int(9_000_000)}`);

function rolesFor(account: string, prefix: string): RoleSpec[] {
  const first = account === DEMO_ACCOUNTS[0];
  const sso = (set: string, suffix: string, people: string[], mix: Mix): RoleSpec => ({
    name: `AWSReservedSSO_${set}_${suffix}`,
    pathName: `aws-reserved/sso.amazonaws.com/AWSReservedSSO_${set}_${suffix}`,
    profile: 'always',
    weight: 3,
    mix,
    agent: 'console',
    ips: OFFICE_IPS,
    console: true,
    sessions: fixedSessions(...people),
  });
  return [
    {
      name: first ? 'ci-deployer' : 'gh-actions-deploy',
      pathName: first ? 'ci-deployer' : 'gh-actions-deploy',
      profile: 'always',
      weight: 5,
      mix: { cfnDescribeStacks: 3, cfnCreateChangeSet: 1, cfnGetTemplate: 1, lambdaUpdateCode: 1, ecrGetAuthorizationToken: 2, ecrDescribeImages: 2, stsGetCallerIdentity: 2, s3GetBucketLocation: 1, iamGetRole: 1 },
      agent: 'terraform',
      ips: CI_IPS,
      sessions: (rng) => Array.from({ length: 12 }, () => `GitHubActions-${rng.between(6_000_000_000, 9_000_000_000)}`),
    },
    {
      name: first ? 'lambda-orders-exec' : 'ingest-lambda-exec',
      pathName: first ? 'service-role/lambda-orders-exec' : 'service-role/ingest-lambda-exec',
      profile: 'always',
      weight: 8,
      mix: { kmsDecrypt: 3, kmsGenerateDataKey: 2, dynamoDescribeTable: 2, logsCreateLogStream: 2, secretsGetValue: 2, ssmGetParameter: 2 },
      agent: 'boto',
      ips: NAT_IPS,
      sessions: fixedSessions(`${prefix}-orders-handler`, `${prefix}-thumbnailer`, `${prefix}-nightly-report`),
    },
    {
      name: first ? 'eks-node-group' : 'batch-compute-node',
      pathName: first ? 'eks-node-group' : 'batch-compute-node',
      profile: 'always',
      weight: 7,
      mix: { ec2DescribeInstances: 3, ec2DescribeNetworkInterfaces: 2, ec2DescribeVolumes: 1, ecrGetAuthorizationToken: 3, ssmUpdateInstanceInformation: 2, eksDescribeCluster: 1, autoscalingDescribe: 1 },
      agent: 'kubelet',
      ips: NAT_IPS,
      sessions: instanceSessions(6),
    },
    sso('AdministratorAccess', first ? '5a1b2c3d4e5f6a7b' : '0f9e8d7c6b5a4f3e', first ? ['jane.doe@example.com', 'omar.haddad@example.com'] : ['sam.lee@example.com'], {
      ...READ_INFRA,
      iamListRoles: 1,
      iamGetRole: 1,
      cloudtrailDescribeTrails: 1,
      monitoringDescribeAlarms: 1,
      s3GetBucketPolicy: 1,
    }),
    sso('ReadOnlyAccess', first ? '9c8b7a6f5e4d3c2b' : '1a2b3c4d5e6f7a8b', first ? ['li.wei@example.com'] : ['sam.lee@example.com', 'rosa.garcia@example.com'], {
      ...READ_INFRA,
      rdsDescribeDBInstances: 1,
      dynamoListTables: 1,
      lambdaList: 1,
    }),
    {
      name: first ? 'data-pipeline' : 'analytics-etl',
      pathName: first ? 'data-pipeline' : 'analytics-etl',
      profile: 'always',
      weight: 5,
      mix: { athenaStartQuery: 2, glueGetTable: 3, glueStartJobRun: 1, s3GetBucketLocation: 2, dynamoDescribeTable: 1, kmsDecrypt: 1 },
      agent: 'boto',
      ips: ['10.20.4.17', '10.20.5.33'],
      vpcEndpoint: first ? 'vpce-0a1b2c3d4e5f67890' : 'vpce-0f1e2d3c4b5a69788',
      sessions: botoSessions(8),
    },
    {
      name: 'security-audit',
      pathName: 'security-audit',
      profile: 'always',
      weight: 3,
      mix: { iamGetAccountSummary: 1, iamListRoles: 1, iamListAttachedRolePolicies: 2, s3GetBucketPolicy: 2, s3GetBucketAcl: 2, s3GetBucketEncryption: 1, s3GetBucketVersioning: 1, cloudtrailGetTrailStatus: 1, configDescribeRules: 1, securityhubGetFindings: 1, kmsDescribeKey: 1 },
      agent: 'boto',
      ips: NAT_IPS,
      sessions: fixedSessions('prowler-scan', 'nightly-audit'),
    },
    {
      name: first ? 'monitoring-collector' : 'prometheus-exporter',
      pathName: first ? 'monitoring-collector' : 'prometheus-exporter',
      profile: 'always',
      weight: 6,
      mix: { monitoringGetMetricData: 4, monitoringDescribeAlarms: 1, ec2DescribeInstances: 2, rdsDescribeDBInstances: 1, elbDescribeTargetHealth: 2 },
      agent: 'go',
      ips: NAT_IPS,
      sessions: fixedSessions('cloudwatch-exporter'),
    },
    {
      name: first ? 'billing-reader' : 'finops-reader',
      pathName: first ? 'billing-reader' : 'finops-reader',
      profile: 'mid',
      weight: 1,
      mix: { ceGetCostAndUsage: 4, s3ListBuckets: 1 },
      agent: 'boto',
      ips: NAT_IPS,
      sessions: fixedSessions('cost-report'),
    },
    {
      name: first ? 'incident-responder' : 'breakglass-admin',
      pathName: first ? 'incident-responder' : 'breakglass-admin',
      profile: 'brief',
      weight: 1,
      mix: { ...READ_INFRA, iamListAccessKeys: 1, cloudtrailDescribeTrails: 1, iamGetUser: 1 },
      agent: 'cli',
      ips: OFFICE_IPS,
      sessions: fixedSessions('ir-2026-1107'),
    },
    {
      name: first ? 'legacy-etl' : 'old-reporting',
      pathName: first ? 'legacy-etl' : 'old-reporting',
      profile: 'stale',
      weight: 2,
      mix: { s3GetBucketLocation: 2, dynamoDescribeTable: 2, rdsDescribeDBInstances: 1 },
      agent: 'js',
      ips: NAT_IPS,
      sessions: botoSessions(3),
    },
    {
      name: 'AWSBackupDefaultServiceRole',
      pathName: 'service-role/AWSBackupDefaultServiceRole',
      profile: 'always',
      weight: 1,
      mix: { dynamoCreateBackup: 1, ec2CreateSnapshot: 1, dynamoDescribeTable: 1 },
      agent: 'console',
      ips: ['backup.amazonaws.com'],
      invokedBy: 'backup.amazonaws.com',
      sessions: fixedSessions('AWSBackup-AWSBackupDefaultServiceRole'),
    },
    {
      name: 'OrganizationAccountAccessRole',
      pathName: 'OrganizationAccountAccessRole',
      profile: 'never',
      weight: 1,
      mix: READ_INFRA,
      agent: 'cli',
      ips: OFFICE_IPS,
      sessions: fixedSessions('org-admin'),
    },
  ];
}

interface AccountActors {
  world: World;
  users: UserActor[];
  roles: RoleActor[];
}

function buildAccount(account: string, seed: number): AccountActors {
  const rng = new Rng(subSeed(seed, `account:${account}`));
  const prefix = account === DEMO_ACCOUNTS[0] ? 'acme-shop' : 'acme-data';
  const userSpecs = usersFor(account);
  const roleSpecs = rolesFor(account, prefix);
  const world = makeWorld(
    account,
    rng,
    prefix,
    roleSpecs.map((r) => r.name),
    userSpecs.map((u) => u.name),
  );
  const users = userSpecs.map(
    (u): UserActor => ({
      ...u,
      kind: 'user',
      account,
      arn: `arn:aws:iam::${account}:user/${u.name}`,
      id: `AIDA${rng.upperAlnum(17)}`,
      accessKey: `AKIA${rng.upperAlnum(16)}`,
    }),
  );
  const roles = roleSpecs.map(
    ({ sessions, ...r }): RoleActor => ({
      ...r,
      kind: 'role',
      account,
      arn: roleArnOf(account, r.pathName),
      id: `AROA${rng.upperAlnum(17)}`,
      sessionNames: sessions(rng),
    }),
  );
  return { world, users, roles };
}

// ===================================================================================================
// Record building

const EVENT_VERSIONS = ['1.08', '1.09', '1.10', '1.11'];
const EVENT_VERSION_WEIGHTS = [15, 35, 20, 30];
const BROWSER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const BROWSER_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

function kebab(name: string): string {
  return name.replace(/\d+(v\d+)?$/, '').replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function userAgent(kind: AgentKind, action: Action, rng: Rng): string {
  const service = action.source.split('.')[0] ?? 'sts';
  switch (kind) {
    case 'cli':
      return `aws-cli/2.22.${rng.between(4, 9)} md/awscrt#0.22.0 ua/2.0 os/linux#6.1.119-129.201.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off md/command#${service}.${kebab(action.name)}`;
    case 'boto':
      return 'Boto3/1.35.76 md/Botocore#1.35.76 ua/2.0 os/linux#5.10.230-223.885.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.8 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.35.76';
    case 'go':
      return `aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64 api/${service}#1.${rng.between(20, 190)}.0 m/E`;
    case 'terraform':
      return `APN/1.0 HashiCorp/1.0 Terraform/1.10.2 (+https://www.terraform.io) terraform-provider-aws/5.81.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/${service}#1.${rng.between(20, 190)}.0`;
    case 'js':
      return `aws-sdk-js/3.709.0 ua/2.1 os/linux#5.10.230-223.885.amzn2.x86_64 lang/js md/nodejs#20.18.1 api/${service}#3.709.0 m/E,J`;
    case 'console':
      return rng.chance(0.7) ? 'AWS Internal' : rng.pick([BROWSER, BROWSER_WIN]);
    case 'kubelet':
      return 'aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64 exec-env/EKS kubelet/v1.31.3';
  }
}

const TLS_SUITES: [string, string][] = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256'],
  ['TLSv1.3', 'TLS_AES_256_GCM_SHA384'],
  ['TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256'],
];

function tlsDetails(action: Action, region: string, rng: Rng): CloudTrailRecord['tlsDetails'] {
  const [tlsVersion, cipherSuite] = rng.pick(TLS_SUITES);
  const service = action.source.split('.')[0] ?? 'sts';
  const hostHeader = action.global
    ? `${service}.amazonaws.com`
    : action.s3
      ? `s3.${region}.amazonaws.com`
      : host(service === 'monitoring' ? 'monitoring' : service, region);
  return { tlsVersion, cipherSuite, clientProvidedHostHeader: hostHeader };
}

function s3Extra(rng: Rng): JsonObject {
  return {
    SignatureVersion: 'SigV4',
    CipherSuite: 'TLS_AES_128_GCM_SHA256',
    bytesTransferredIn: 0,
    AuthenticationMethod: 'AuthHeader',
    'x-amz-id-2': `${rng.alnum(56)}/${rng.alnum(19)}=`,
    bytesTransferredOut: rng.between(120, 4000),
  };
}

interface RecordSpec {
  identity: UserIdentity;
  ms: number;
  account: string;
  region: string;
  source: string;
  name: string;
  sourceIP: string;
  userAgent?: string | undefined;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  requestParameters?: JsonObject | null | undefined;
  responseElements?: JsonObject | null | undefined;
  additionalEventData?: JsonObject | undefined;
  requestID?: string | undefined;
  readOnly?: boolean | undefined;
  resources?: ResourceRef[] | undefined;
  eventType?: string;
  apiVersion?: string | undefined;
  serviceEventDetails?: JsonObject | undefined;
  sharedEventID?: string | undefined;
  vpcEndpointId?: string | undefined;
  tlsDetails?: CloudTrailRecord['tlsDetails'];
  sessionCredentialFromConsole?: boolean;
}

/** Assembles a record with the keys in CloudTrail's own order. */
function buildRecord(s: RecordSpec, rng: Rng): CloudTrailRecord {
  return {
    eventVersion: rng.weighted(EVENT_VERSIONS, EVENT_VERSION_WEIGHTS),
    userIdentity: s.identity,
    eventTime: ctTime(s.ms),
    eventSource: s.source,
    eventName: s.name,
    awsRegion: s.region,
    sourceIPAddress: s.sourceIP,
    userAgent: s.userAgent,
    errorCode: s.errorCode,
    errorMessage: s.errorMessage,
    requestParameters: s.requestParameters,
    responseElements: s.responseElements,
    additionalEventData: s.additionalEventData,
    requestID: s.requestID ?? rng.uuid(),
    eventID: rng.uuid(),
    readOnly: s.readOnly,
    resources: s.resources,
    eventType: s.eventType ?? 'AwsApiCall',
    apiVersion: s.apiVersion,
    managementEvent: true,
    recipientAccountId: s.account,
    serviceEventDetails: s.serviceEventDetails,
    sharedEventID: s.sharedEventID,
    vpcEndpointId: s.vpcEndpointId,
    eventCategory: 'Management',
    tlsDetails: s.tlsDetails,
    sessionCredentialFromConsole: s.sessionCredentialFromConsole ? 'true' : undefined,
  };
}

function userIdentityOf(actor: Actor, ms: number, rng: Rng): UserIdentity {
  const creationDate = ctTime(ms - rng.int(3600) * SECOND_MS);
  const mfa = actor.mfa === true;
  if (actor.kind === 'user') {
    return {
      type: 'IAMUser',
      principalId: actor.id,
      arn: actor.arn,
      accountId: actor.account,
      accessKeyId: actor.console ? `ASIA${rng.upperAlnum(16)}` : actor.accessKey,
      userName: actor.name,
      sessionContext: actor.console ? { attributes: { creationDate, mfaAuthenticated: mfa ? 'true' : 'false' } } : undefined,
    };
  }
  const session = rng.pick(actor.sessionNames);
  return {
    type: 'AssumedRole',
    principalId: `${actor.id}:${session}`,
    arn: `arn:aws:sts::${actor.account}:assumed-role/${actor.name}/${session}`,
    accountId: actor.account,
    accessKeyId: `ASIA${rng.upperAlnum(16)}`,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: actor.id, arn: actor.arn, accountId: actor.account, userName: actor.name },
      webIdFederationData: {},
      attributes: { creationDate, mfaAuthenticated: mfa ? 'true' : 'false' },
      // Instance-profile credentials say which metadata service version delivered them.
      ec2RoleDelivery: session.startsWith('i-') ? '2.0' : undefined,
    },
    invokedBy: actor.invokedBy,
  };
}

/** The error a refused call gets, as each service spells it. */
function deniedError(action: Action, principalArn: string, rng: Rng): { code: string; message: string } {
  const service = action.source.split('.')[0] ?? '';
  const iamAction = `${service}:${action.name.replace(/\d{8}(v\d+)?$/, '')}`;
  if (service === 'ec2') {
    return {
      code: 'Client.UnauthorizedOperation',
      message: `You are not authorized to perform this operation. User: ${principalArn} is not authorized to perform: ${iamAction} because no identity-based policy allows the ${iamAction} action. Encoded authorization failure message: ${rng.alnum(96)}`,
    };
  }
  const code = ['iam', 's3', 'sts', 'rds', 'cloudformation', 'monitoring'].includes(service) ? 'AccessDenied' : 'AccessDeniedException';
  return {
    code,
    message: `User: ${principalArn} is not authorized to perform: ${iamAction} because no identity-based policy allows the ${iamAction} action`,
  };
}

interface ApiCallOptions {
  userAgent?: string;
  sourceIP?: string;
  error?: { code: string; message: string };
  denied?: boolean;
  identity?: UserIdentity;
}

/** A call by a user or role session, with the action's own parameters. */
function apiCall(actor: Actor, actionKey: ActionKey, world: World, region: string, ms: number, rng: Rng, o: ApiCallOptions = {}): CloudTrailRecord {
  const action: Action = A[actionKey];
  const ctx: Ctx = { rng, world, region, ms };
  const identity = o.identity ?? userIdentityOf(actor, ms, rng);
  const principalArn = identity.arn ?? actor.arn;
  const error = o.error ?? (o.denied ? deniedError(action, principalArn, rng) : undefined);
  // Regional calls from inside a VPC go through its endpoint (private source IP); global ones leave by NAT.
  const viaEndpoint = actor.vpcEndpoint !== undefined && !action.global;
  const ips = actor.vpcEndpoint !== undefined && !viaEndpoint ? NAT_IPS : actor.ips;
  const invokedBy = actor.kind === 'role' ? actor.invokedBy : undefined;
  const params = action.params ? action.params(ctx) : null;
  return buildRecord(
    {
      identity,
      ms,
      account: actor.account,
      region,
      source: action.source,
      name: action.name,
      sourceIP: o.sourceIP ?? rng.pick(ips),
      // A service acting with a role signs as itself.
      userAgent: o.userAgent ?? invokedBy ?? userAgent(actor.agent, action, rng),
      errorCode: error?.code,
      errorMessage: error?.message,
      // A call without parameters is logged with null, or without the key at all: readers must take both.
      requestParameters: params === null && rng.chance(0.3) ? undefined : params,
      responseElements: error ? null : action.response ? action.response(ctx) : null,
      additionalEventData: action.s3 ? s3Extra(rng) : undefined,
      requestID: action.s3 ? rng.upperAlnum(16) : undefined,
      readOnly: action.readOnly,
      resources: action.resources && !error ? action.resources(ctx) : undefined,
      apiVersion: action.apiVersion,
      vpcEndpointId: viaEndpoint ? actor.vpcEndpoint : undefined,
      tlsDetails: invokedBy === undefined && rng.chance(0.92) ? tlsDetails(action, region, rng) : undefined,
      sessionCredentialFromConsole: actor.console === true,
    },
    rng,
  );
}

// --- AWS services acting on their own -------------------------------------------------------------

function serviceEvent(world: World, region: string, ms: number, rng: Rng, roles: RoleActor[]): CloudTrailRecord {
  const account = world.account;
  const roll = rng.next();
  if (region === GLOBAL_REGION && roll < 0.6) {
    // A service assuming an execution role: the bulk of real AWSService records.
    const service = rng.pick(['lambda.amazonaws.com', 'ec2.amazonaws.com', 'ecs-tasks.amazonaws.com', 'glue.amazonaws.com']);
    const role = rng.pick(roles);
    const session = service === 'ec2.amazonaws.com' ? `i-0${rng.hex(16)}` : rng.pick(role.sessionNames);
    return buildRecord(
      {
        identity: { type: 'AWSService', invokedBy: service },
        ms,
        account,
        region,
        source: 'sts.amazonaws.com',
        name: 'AssumeRole',
        sourceIP: service,
        userAgent: service,
        requestParameters: { roleArn: role.arn, roleSessionName: session, durationSeconds: 3600 },
        responseElements: {
          credentials: {
            accessKeyId: `ASIA${rng.upperAlnum(16)}`,
            sessionToken: `IQoJb3JpZ2luX2VjE${rng.alnum(120)}`,
            expiration: new Date(ms + HOUR_MS).toUTCString(),
          },
          assumedRoleUser: { assumedRoleId: `${role.id}:${session}`, arn: `arn:aws:sts::${account}:assumed-role/${role.name}/${session}` },
        },
        readOnly: true,
        resources: [
          { accountId: account, type: 'AWS::IAM::Role', ARN: role.arn },
        ],
        sharedEventID: rng.uuid(),
      },
      rng,
    );
  }
  if (roll < 0.9) {
    // CloudTrail and Config checking a bucket's ACL, and EBS using KMS for volume encryption.
    if (rng.chance(0.5)) {
      const bucket = rng.pick(world.buckets);
      const service = rng.pick(['cloudtrail.amazonaws.com', 'config.amazonaws.com']);
      return buildRecord(
        {
          identity: { type: 'AWSService', invokedBy: service },
          ms,
          account,
          region,
          source: 's3.amazonaws.com',
          name: 'GetBucketAcl',
          sourceIP: service,
          userAgent: service,
          requestParameters: { bucketName: bucket, Host: bucketHost(bucket, region), acl: '' },
          additionalEventData: s3Extra(rng),
          requestID: rng.upperAlnum(16),
          readOnly: true,
          resources: [{ accountId: account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }],
          sharedEventID: rng.uuid(),
        },
        rng,
      );
    }
    const keyId = rng.pick(world.keyIds);
    return buildRecord(
      {
        identity: { type: 'AWSService', invokedBy: 'ebs.amazonaws.com' },
        ms,
        account,
        region,
        source: 'kms.amazonaws.com',
        name: 'Decrypt',
        sourceIP: 'ebs.amazonaws.com',
        userAgent: 'ebs.amazonaws.com',
        requestParameters: { encryptionContext: { 'aws:ebs:id': rng.pick(world.volumes) }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
        readOnly: true,
        resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${account}:key/${keyId}` }],
        sharedEventID: rng.uuid(),
      },
      rng,
    );
  }
  if (rng.chance(0.5)) {
    // KMS's yearly automatic key rotation: an AwsServiceEvent whose userIdentity has no type at all.
    const keyId = rng.pick(world.keyIds);
    return buildRecord(
      {
        identity: { accountId: account, invokedBy: 'kms.amazonaws.com' },
        ms,
        account,
        region,
        source: 'kms.amazonaws.com',
        name: 'RotateKey',
        sourceIP: 'kms.amazonaws.com',
        userAgent: 'kms.amazonaws.com',
        requestParameters: null,
        responseElements: null,
        readOnly: false,
        resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${account}:key/${keyId}` }],
        eventType: 'AwsServiceEvent',
        serviceEventDetails: { keyId },
      },
      rng,
    );
  }
  return buildRecord(
    {
      identity: { type: 'AWSService', invokedBy: 'backup.amazonaws.com' },
      ms,
      account,
      region,
      source: 'backup.amazonaws.com',
      name: 'BackupJobCompleted',
      sourceIP: 'backup.amazonaws.com',
      userAgent: 'backup.amazonaws.com',
      readOnly: false,
      eventType: 'AwsServiceEvent',
      serviceEventDetails: {
        backupJobId: rng.uuid().toUpperCase(),
        backupVaultName: 'Default',
        resourceType: 'DynamoDB',
        state: 'COMPLETED',
        percentDone: '100.0',
        backupSizeInBytes: String(rng.between(10_000, 90_000_000)),
        iamRoleArn: roleArnOf(account, 'service-role/AWSBackupDefaultServiceRole'),
        creationDate: { seconds: Math.floor(ms / 1000) - 600, nanos: 0 },
      },
    },
    rng,
  );
}

// ===================================================================================================
// Console sign-ins and root

/** Additional data of a console sign-in; `null` leaves the field out, as some real records do. */
function signInData(mfa: 'Yes' | 'No' | null, account: string, rng: Rng): JsonObject | undefined {
  if (mfa === null) return undefined;
  return {
    LoginTo: `https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_${rng.hex(16)}`,
    MobileVersion: 'No',
    MFAIdentifier: mfa === 'Yes' ? `arn:aws:iam::${account}:mfa/${rng.pick(['yubikey', 'authenticator'])}` : undefined,
    MFAUsed: mfa,
  };
}

interface SignIn {
  account: string;
  ms: number;
  identity: UserIdentity;
  success: boolean;
  mfa: 'Yes' | 'No' | null;
  ip: string;
  ua?: string;
}

/** signin.amazonaws.com ConsoleLogin: a failure has errorMessage "Failed authentication" and no errorCode. */
function consoleLogin(s: SignIn, rng: Rng): CloudTrailRecord {
  return buildRecord(
    {
      identity: s.identity,
      ms: s.ms,
      account: s.account,
      region: GLOBAL_REGION,
      source: 'signin.amazonaws.com',
      name: 'ConsoleLogin',
      sourceIP: s.ip,
      userAgent: s.ua ?? rng.pick([BROWSER, BROWSER_WIN]),
      errorMessage: s.success ? undefined : 'Failed authentication',
      requestParameters: null,
      responseElements: { ConsoleLogin: s.success ? 'Success' : 'Failure' },
      additionalEventData: signInData(s.mfa, s.account, rng),
      readOnly: false,
      eventType: 'AwsConsoleSignIn',
      tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 'signin.aws.amazon.com' },
    },
    rng,
  );
}

/** The identity of a sign-in: an IAM user has no session yet; a federated sign-in is already a role session. */
function signInIdentity(actor: Actor, ms: number, rng: Rng): UserIdentity {
  if (actor.kind === 'user') {
    return { type: 'IAMUser', principalId: actor.id, arn: actor.arn, accountId: actor.account, userName: actor.name };
  }
  return { ...userIdentityOf(actor, ms, rng), accessKeyId: undefined };
}

/** An unknown user name: AWS hides it, and there is no ARN. */
function hiddenUserIdentity(account: string): UserIdentity {
  return { type: 'IAMUser', principalId: account, accountId: account, accessKeyId: '', userName: 'HIDDEN_DUE_TO_SECURITY_REASONS' };
}

/**
 * Root's identity: a console session by default; `session: false` for a sign-in (no session yet) or a
 * call signed with root's long-term access key (`accessKey`), which carries no session context either.
 */
function rootIdentity(account: string, ms: number, rng: Rng, o: { session?: boolean; accessKey?: string; invokedBy?: string } = {}): UserIdentity {
  const session = o.session !== false && o.accessKey === undefined;
  return {
    type: 'Root',
    principalId: account,
    arn: `arn:aws:iam::${account}:root`,
    accountId: account,
    accessKeyId: o.accessKey ?? (session ? `ASIA${rng.upperAlnum(16)}` : ''),
    sessionContext: session ? { attributes: { creationDate: ctTime(ms - rng.between(60, 1800) * SECOND_MS), mfaAuthenticated: 'true' } } : undefined,
    invokedBy: o.invokedBy,
  };
}

interface RootCall {
  account: string;
  region: string;
  ms: number;
  source: string;
  name: string;
  ua: string;
  ip: string;
  readOnly: boolean;
  params?: JsonObject | null;
  response?: JsonObject | null;
  errorCode?: string;
  errorMessage?: string;
  eventType?: string;
  invokedBy?: string;
  accessKey?: string;
}

function rootCall(r: RootCall, rng: Rng): CloudTrailRecord {
  const service = r.source.split('.')[0] ?? '';
  return buildRecord(
    {
      identity: rootIdentity(r.account, r.ms, rng, { invokedBy: r.invokedBy, accessKey: r.accessKey }),
      ms: r.ms,
      account: r.account,
      region: r.region,
      source: r.source,
      name: r.name,
      sourceIP: r.ip,
      userAgent: r.ua,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      requestParameters: r.params ?? null,
      responseElements: r.errorCode ? null : (r.response ?? null),
      readOnly: r.readOnly,
      eventType: r.eventType,
      tlsDetails: r.invokedBy
        ? undefined
        : { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: service === 'iam' ? 'iam.amazonaws.com' : host(service, r.region) },
      sessionCredentialFromConsole: r.invokedBy === undefined && r.eventType === undefined && r.accessKey === undefined,
    },
    rng,
  );
}

// ===================================================================================================
// The script: events placed on purpose so every check has something to show

/** Marks the events whose delivery file gets special treatment. */
type FileTag = 'plain' | 'corrupt' | 'duplicate' | 'digest';

interface Scripted {
  account: string;
  region: string;
  record: CloudTrailRecord;
  tag?: FileTag;
}

function findActor<T extends Actor>(actors: readonly T[], name: string): T {
  const actor = actors.find((a) => a.name === name);
  if (!actor) throw new Error(`demo script names an unknown actor: ${name}`);
  return actor;
}

/** Headless attacker tooling: shows up in the probing role's user agent. */
const RECON_AGENT = 'aws-cli/1.32.0 Python/3.11.6 Linux/6.5.0-kali3-amd64 botocore/1.34.0';

function scriptedEvents(clock: Clock, [a, b]: [AccountActors, AccountActors], rng: Rng): Scripted[] {
  const out: Scripted[] = [];
  const A1 = a.world.account;
  const B2 = b.world.account;
  const add = (account: string, region: string, record: CloudTrailRecord, tag?: FileTag): void => {
    out.push(tag ? { account, region, record, tag } : { account, region, record });
  };
  const call = (
    acct: AccountActors,
    actorName: string,
    action: ActionKey,
    region: string,
    ms: number,
    o: ApiCallOptions = {},
    tag?: FileTag,
  ): void => {
    const actor = acct.users.find((u) => u.name === actorName) ?? findActor(acct.roles, actorName);
    add(acct.world.account, region, apiCall(actor, action, acct.world, region, ms, rng, o), tag);
  };
  const login = (acct: AccountActors, actorName: string, ms: number, success: boolean, mfa: 'Yes' | 'No' | null, o: { ip?: string; ua?: string } = {}): void => {
    const actor = acct.users.find((u) => u.name === actorName) ?? findActor(acct.roles, actorName);
    const record = consoleLogin({ account: acct.world.account, ms, identity: signInIdentity(actor, ms, rng), success, mfa, ip: o.ip ?? rng.pick(OFFICE_IPS), ua: o.ua }, rng);
    add(acct.world.account, GLOBAL_REGION, record);
  };
  const hiddenFailure = (account: string, ms: number, ip: string, ua?: string): void => {
    add(account, GLOBAL_REGION, consoleLogin({ account, ms, identity: hiddenUserIdentity(account), success: false, mfa: 'No', ip, ua }, rng));
  };
  const day = (daysAgo: number, hms: string): number => dayAt(clock, daysAgo, hms);

  // --- Root, account 111111111111: counted in the last 7 days -----------------------------------
  const rootIp = '203.0.113.200';
  add(
    A1,
    GLOBAL_REGION,
    consoleLogin({ account: A1, ms: day(2, '09:12:33'), identity: rootIdentity(A1, 0, rng, { session: false }), success: true, mfa: 'Yes', ip: rootIp, ua: BROWSER }, rng),
    'duplicate',
  );
  add(
    A1,
    GLOBAL_REGION,
    rootCall(
      {
        account: A1,
        region: GLOBAL_REGION,
        ms: day(2, '09:15:02'),
        source: 'iam.amazonaws.com',
        name: 'CreateAccessKey',
        // Attacker-controlled text that a spreadsheet would run as a formula.
        ua: '=HYPERLINK("http://evil.example","x")',
        ip: rootIp,
        readOnly: false,
        params: {},
        response: { accessKey: { accessKeyId: `AKIA${rng.upperAlnum(16)}`, status: 'Active', createDate: ctTime(day(2, '09:15:02')) } },
      },
      rng,
    ),
  );
  add(
    A1,
    'eu-west-1',
    rootCall(
      {
        account: A1,
        region: 'eu-west-1',
        ms: day(2, '09:21:47'),
        source: 's3.amazonaws.com',
        name: 'PutBucketPolicy',
        // Attacker-controlled text that an HTML report must escape.
        ua: '<script>alert("root")</script>',
        ip: rootIp,
        readOnly: false,
        params: {
          bucketName: a.world.buckets[2] ?? 'static-site',
          Host: bucketHost(a.world.buckets[2] ?? 'static-site', 'eu-west-1'),
          bucketPolicy: {
            Version: '2012-10-17',
            Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${a.world.buckets[2] ?? 'static-site'}/*` }],
          },
          policy: '',
        },
      },
      rng,
    ),
  );
  add(
    A1,
    GLOBAL_REGION,
    rootCall(
      {
        account: A1,
        region: GLOBAL_REGION,
        ms: day(2, '09:24:10'),
        source: 'iam.amazonaws.com',
        name: 'GetAccountPasswordPolicy',
        ua: BROWSER,
        ip: rootIp,
        readOnly: true,
        errorCode: 'NoSuchEntity',
        errorMessage: `The Password Policy with domain name ${A1} cannot be found.`,
      },
      rng,
    ),
  );
  add(
    A1,
    GLOBAL_REGION,
    rootCall(
      { account: A1, region: GLOBAL_REGION, ms: day(3, '10:02:19'), source: 'billingconsole.amazonaws.com', name: 'GetBillingPreferences', ua: BROWSER, ip: rootIp, readOnly: true, eventType: 'AwsConsoleAction' },
      rng,
    ),
  );
  // Root's long-term access key used from a CLI, the day before asOf.
  add(
    A1,
    GLOBAL_REGION,
    rootCall(
      {
        account: A1,
        region: GLOBAL_REGION,
        ms: day(1, '18:42:10'),
        source: 'iam.amazonaws.com',
        name: 'ListUsers',
        ua: userAgent('cli', A.iamListUsers, rng),
        ip: '198.51.100.90',
        readOnly: true,
        accessKey: `AKIA${rng.upperAlnum(16)}`,
      },
      rng,
    ),
  );
  // Exactly on the 7-day edge: counted (the window is asOf-7d <= eventTime < asOf).
  add(A1, GLOBAL_REGION, rootCall({ account: A1, region: GLOBAL_REGION, ms: ago(clock, 7), source: 'iam.amazonaws.com', name: 'ListMFADevices', ua: BROWSER, ip: rootIp, readOnly: true, params: {} }, rng));
  // Exactly at asOf: not counted.
  add(A1, GLOBAL_REGION, rootCall({ account: A1, region: GLOBAL_REGION, ms: ago(clock, 0), source: 'iam.amazonaws.com', name: 'ListAccessKeys', ua: BROWSER, ip: rootIp, readOnly: true, params: {} }, rng));
  // Not counted: a service acting for root, a service event, and use 10 days ago.
  add(
    A1,
    GLOBAL_REGION,
    rootCall(
      { account: A1, region: GLOBAL_REGION, ms: day(1, '11:00:05'), source: 'iam.amazonaws.com', name: 'GetAccountSummary', ua: 'support.amazonaws.com', ip: 'support.amazonaws.com', readOnly: true, invokedBy: 'support.amazonaws.com' },
      rng,
    ),
  );
  add(
    A1,
    'eu-west-1',
    rootCall(
      { account: A1, region: 'eu-west-1', ms: day(4, '06:40:00'), source: 'ec2.amazonaws.com', name: 'SharedSnapshotCopyInitiated', ua: 'ec2.amazonaws.com', ip: 'ec2.amazonaws.com', readOnly: false, eventType: 'AwsServiceEvent' },
      rng,
    ),
  );
  add(A1, GLOBAL_REGION, consoleLogin({ account: A1, ms: day(10, '14:30:00'), identity: rootIdentity(A1, 0, rng, { session: false }), success: true, mfa: 'Yes', ip: rootIp, ua: BROWSER }, rng));

  // --- Root, account 222222222222: nothing counted in the last 7 days --------------------------
  add(B2, GLOBAL_REGION, consoleLogin({ account: B2, ms: day(15, '03:12:44'), identity: rootIdentity(B2, 0, rng, { session: false }), success: false, mfa: 'No', ip: '198.51.100.31' }, rng));
  add(
    B2,
    GLOBAL_REGION,
    rootCall(
      { account: B2, region: GLOBAL_REGION, ms: day(3, '12:00:00'), source: 'iam.amazonaws.com', name: 'GetAccountSummary', ua: 'organizations.amazonaws.com', ip: 'organizations.amazonaws.com', readOnly: true, invokedBy: 'organizations.amazonaws.com' },
      rng,
    ),
  );
  add(B2, GLOBAL_REGION, rootCall({ account: B2, region: GLOBAL_REGION, ms: day(12, '16:20:00'), source: 'iam.amazonaws.com', name: 'GetAccountSummary', ua: BROWSER, ip: '203.0.113.201', readOnly: true }, rng));

  // --- Console sign-ins -----------------------------------------------------------------------------
  for (const [d, t] of [[1, '08:55:10'], [5, '09:01:44'], [12, '08:47:00'], [20, '09:10:00']] as const) login(a, 'alice.admin', day(d, t), true, 'Yes');
  // Without MFA. The first one sits in the next day's folder (delivered after midnight).
  login(a, 'carol.ops', day(6, '23:58:41'), true, 'No');
  login(a, 'carol.ops', day(14, '10:31:05'), true, 'No');
  login(a, 'carol.ops', ago(clock, 0), true, 'No'); // at asOf: not counted
  login(b, 'gina.finance', day(8, '13:22:10'), true, 'No');
  login(b, 'harry.data', day(4, '15:05:55'), true, null); // no additionalEventData: counts as no MFA
  login(b, 'ivan.sre', day(33, '09:00:00'), true, 'No'); // before the 30-day window
  // Federated (Identity Center) sign-ins: assumed roles, never in the IAM-user MFA check.
  login(a, 'AWSReservedSSO_AdministratorAccess_5a1b2c3d4e5f6a7b', day(1, '07:45:00'), true, 'No');
  login(a, 'AWSReservedSSO_AdministratorAccess_5a1b2c3d4e5f6a7b', day(3, '08:05:00'), true, 'No');
  login(a, 'AWSReservedSSO_ReadOnlyAccess_9c8b7a6f5e4d3c2b', day(9, '11:30:00'), true, 'No');
  login(b, 'AWSReservedSSO_ReadOnlyAccess_1a2b3c4d5e6f7a8b', day(2, '14:14:14'), true, 'No');
  login(b, 'AWSReservedSSO_AdministratorAccess_0f9e8d7c6b5a4f3e', day(16, '10:00:00'), true, 'No');
  // Failures: more than 10 in 30 days, several for unknown user names.
  login(a, 'alice.admin', day(5, '08:59:30'), false, 'No');
  login(a, 'alice.admin', day(21, '09:00:01'), false, 'No');
  const guesser = '198.51.100.23';
  for (const t of ['03:11:00', '03:11:09', '03:11:21']) hiddenFailure(A1, day(2, t), guesser);
  hiddenFailure(A1, day(11, '22:40:00'), guesser);
  // Attacker-controlled user agent with a quote and markup.
  login(a, 'carol.ops', day(7, '10:10:10'), false, 'No', { ua: `Mozilla/5.0 (X11; Linux x86_64) it's <b>bold</b> Firefox/133.0` });
  hiddenFailure(B2, day(4, '23:59:12'), '198.51.100.61'); // delivered the next day
  hiddenFailure(B2, day(9, '04:04:04'), '198.51.100.61');
  hiddenFailure(B2, day(18, '19:19:19'), '198.51.100.62');
  login(b, 'ken.contractor', day(6, '17:45:00'), false, 'No', { ip: '198.51.100.140' });
  login(b, 'ken.contractor', day(6, '17:45:31'), false, 'No', { ip: '198.51.100.140' });
  // The 30-day edges: exactly asOf-30d counts, one second earlier does not; asOf-1s counts, asOf does not.
  hiddenFailure(B2, ago(clock, 30), '198.51.100.62');
  hiddenFailure(B2, ago(clock, 30, 1), '198.51.100.62');
  hiddenFailure(A1, ago(clock, 0, 1), guesser);
  hiddenFailure(A1, ago(clock, 0), guesser);

  // --- Unauthorized calls: a stolen node credential probing, in the last 7 days -------------------
  const node = findActor(a.roles, 'eks-node-group');
  const probeIdentity = userIdentityOf(node, day(3, '02:10:00'), rng);
  probeIdentity.principalId = `${node.id}:i-0a1b2c3d4e5f60718`;
  probeIdentity.arn = `arn:aws:sts::${A1}:assumed-role/${node.name}/i-0a1b2c3d4e5f60718`;
  const probe: [ActionKey, number, string][] = [
    ['iamListUsers', 6, GLOBAL_REGION],
    ['iamListRoles', 5, GLOBAL_REGION],
    ['iamGetAccountAuthorizationDetails', 4, GLOBAL_REGION],
    ['iamCreateUser', 2, GLOBAL_REGION],
    ['iamListAccessKeys', 2, GLOBAL_REGION],
    ['orgDescribeOrganization', 3, GLOBAL_REGION],
    ['secretsList', 3, GLOBAL_REGION],
    ['secretsList', 2, 'eu-west-1'],
    ['kmsListAliases', 2, GLOBAL_REGION],
    ['kmsListAliases', 2, 'ap-southeast-2'],
    ['s3ListBuckets', 3, GLOBAL_REGION],
    ['ec2RunInstances', 2, GLOBAL_REGION],
    ['ec2RunInstances', 2, 'ap-southeast-2'],
    ['ec2CreateKeyPair', 3, GLOBAL_REGION],
    ['lambdaList', 3, 'eu-west-1'],
    ['dynamoListTables', 2, 'eu-west-1'],
    ['rdsDescribeDBInstances', 2, GLOBAL_REGION],
    ['ssmDescribeParameters', 2, GLOBAL_REGION],
    ['cloudtrailStopLogging', 1, GLOBAL_REGION],
  ];
  let t = day(3, '02:14:00');
  for (const [action, count, region] of probe) {
    for (let i = 0; i < count; i++) {
      t += rng.between(4, 25) * SECOND_MS;
      call(a, node.name, action, region, t, { identity: probeIdentity, denied: true, userAgent: RECON_AGENT, sourceIP: ATTACKER_IP });
    }
  }
  // Decoys the check must ignore: throttling and validation errors in the same burst.
  call(a, node.name, 'iamListUsers', GLOBAL_REGION, t + 30 * SECOND_MS, { identity: probeIdentity, userAgent: RECON_AGENT, sourceIP: ATTACKER_IP, error: { code: 'ThrottlingException', message: 'Rate exceeded' } });
  call(a, node.name, 'ssmDescribeParameters', GLOBAL_REGION, t + 41 * SECOND_MS, { identity: probeIdentity, userAgent: RECON_AGENT, sourceIP: ATTACKER_IP, error: { code: 'ValidationException', message: '1 validation error detected: Value at \'maxResults\' failed to satisfy constraint' } });

  // A developer hitting missing permissions; one group starts exactly on the 7-day edge.
  for (const s of ['10:02:11', '10:02:40', '10:03:05']) call(a, 'bob.dev', 's3GetBucketPolicy', 'eu-west-1', day(1, s), { denied: true });
  call(a, 'bob.dev', 'iamDeleteRole', GLOBAL_REGION, day(5, '16:20:00'), { denied: true });
  call(a, 'bob.dev', 'iamListPolicies', GLOBAL_REGION, ago(clock, 7), { denied: true });
  call(a, 'bob.dev', 'iamListPolicies', GLOBAL_REGION, day(2, '11:11:11'), { denied: true });
  call(a, 'bob.dev', 'iamListPolicies', GLOBAL_REGION, ago(clock, 0), { denied: true }); // at asOf: not counted
  call(a, 'bob.dev', 's3GetBucketPolicy', 'eu-west-1', day(10, '10:00:00'), { denied: true }); // outside 7 days
  call(a, 'bob.dev', 'ssmGetParameter', GLOBAL_REGION, day(4, '09:30:00'), { error: { code: 'ValidationException', message: 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).' } });
  call(a, 'lambda-orders-exec', 'dynamoDescribeTable', 'eu-west-1', day(1, '12:00:00'), { error: { code: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' } });
  for (const s of ['15:01:00', '15:01:20', '15:02:02', '15:02:30']) call(b, 'ken.contractor', 'ec2DescribeInstances', 'eu-west-1', day(2, s), { denied: true });
  for (const s of ['15:04:00', '15:04:10']) call(b, 'ken.contractor', 's3ListBuckets', GLOBAL_REGION, day(2, s), { denied: true });
  for (const s of ['15:05:00', '15:05:45']) call(b, 'ken.contractor', 'iamListRoles', GLOBAL_REGION, day(2, s), { denied: true });
  for (const s of ['13:30:00', '13:31:30']) call(b, 'gh-actions-deploy', 'cfnCreateStack', 'eu-west-1', day(5, s), { denied: true });
  call(b, 'ingest-lambda-exec', 'iamGetRole', GLOBAL_REGION, day(2, '08:00:00'), { error: { code: 'NoSuchEntity', message: 'The role with name legacy-importer cannot be found.' } });
  // An AWS service refused access: it has no ARN and no principalId, so its principal is NULL.
  const bucket = b.world.buckets[3] ?? 'backups';
  add(
    B2,
    'eu-west-1',
    buildRecord(
      {
        identity: { type: 'AWSService', invokedBy: 'config.amazonaws.com' },
        ms: day(1, '04:00:00'),
        account: B2,
        region: 'eu-west-1',
        source: 's3.amazonaws.com',
        name: 'GetBucketAcl',
        sourceIP: 'config.amazonaws.com',
        userAgent: 'config.amazonaws.com',
        errorCode: 'AccessDenied',
        errorMessage: 'Access Denied',
        requestParameters: { bucketName: bucket, Host: bucketHost(bucket, 'eu-west-1'), acl: '' },
        responseElements: null,
        additionalEventData: s3Extra(rng),
        requestID: rng.upperAlnum(16),
        readOnly: true,
      },
      rng,
    ),
  );

  // --- Roles and users on the window edges ---------------------------------------------------------
  call(a, 'billing-reader', 'ceGetCostAndUsage', GLOBAL_REGION, ago(clock, 7)); // in the 7-day window
  call(a, 'incident-responder', 'iamGetUser', GLOBAL_REGION, ago(clock, 7, 1)); // one second outside it
  call(a, 'legacy-etl', 's3GetBucketLocation', GLOBAL_REGION, ago(clock, 30)); // in the 30-day window
  call(b, 'old-reporting', 's3GetBucketLocation', GLOBAL_REGION, ago(clock, 30, 1)); // outside it
  call(a, 'erin.audit', 'iamListUsers', GLOBAL_REGION, ago(clock, 30)); // in
  call(b, 'old-migration', 'dynamoDescribeTable', GLOBAL_REGION, ago(clock, 30, 1)); // out

  // --- Delivery files with special treatment, and events delivered after midnight ------------------
  call(a, 'monitoring-collector', 'monitoringDescribeAlarms', 'eu-west-1', day(5, '10:17:05'), {}, 'plain');
  call(b, 'prometheus-exporter', 'ec2DescribeInstances', 'ap-southeast-2', day(12, '14:03:10'), {}, 'corrupt');
  call(a, 'monitoring-collector', 'monitoringGetMetricData', GLOBAL_REGION, day(2, '05:20:00'), {}, 'digest');
  call(b, 'harry.data', 'glueGetTable', 'eu-west-1', day(9, '23:57:30'));
  call(a, 'eks-node-group', 'ec2DescribeInstances', 'ap-southeast-2', day(13, '23:56:50'));
  return out;
}

// ===================================================================================================
// Noise

const ACCOUNT_WEIGHT = [0.6, 0.4];
const REGION_WEIGHT = [0.5, 0.33, 0.17];
const SLOT_MS = 2 * HOUR_MS;

/** Busier on weekdays and in working hours, never silent. */
function slotWeight(startMs: number): number {
  const d = new Date(startMs);
  const weekday = d.getUTCDay() !== 0 && d.getUTCDay() !== 6;
  const hour = d.getUTCHours();
  return (weekday ? 1 : 0.35) * (hour >= 6 && hour < 20 ? 1 : 0.3);
}

/** An actor's action mix, split by whether the region may log each action. */
interface Picker {
  keys: ActionKey[];
  weights: number[];
}

function picker(mix: Mix, keep: (a: Action) => boolean): Picker {
  const keys: ActionKey[] = [];
  const weights: number[] = [];
  for (const [key, weight] of Object.entries(mix) as [ActionKey, number][]) {
    if (keep(A[key])) {
      keys.push(key);
      weights.push(weight);
    }
  }
  return { keys, weights };
}

interface NoiseActor {
  actor: Actor;
  range: ActiveRange;
  everywhere: Picker;
  regional: Picker;
}

function noiseActors(actors: readonly Actor[], clock: Clock): NoiseActor[] {
  return actors.map((actor) => ({
    actor,
    range: activeRange(actor.profile, clock),
    everywhere: picker(actor.mix, () => true),
    regional: picker(actor.mix, (a) => !a.global),
  }));
}

function decoyError(action: Action): { code: string; message: string } {
  const service = action.source.split('.')[0];
  if (service === 'iam') return { code: 'NoSuchEntity', message: 'The user with name deploy-old cannot be found.' };
  if (service === 'ec2') return { code: 'Client.RequestLimitExceeded', message: 'Request limit exceeded.' };
  if (service === 'dynamodb') return { code: 'ResourceNotFoundException', message: 'Requested resource not found' };
  return { code: 'ThrottlingException', message: 'Rate exceeded' };
}

/** The actors that may act in one slot, with their weights. */
interface SlotPools {
  roles: NoiseActor[];
  roleWeights: number[];
  users: NoiseActor[];
  userWeights: number[];
}

function slotPools(roles: readonly NoiseActor[], users: readonly NoiseActor[], from: number, to: number): SlotPools {
  const live = (list: readonly NoiseActor[]): NoiseActor[] => list.filter((n) => n.range.from < to && n.range.to > from);
  const liveRoles = live(roles);
  const liveUsers = live(users);
  return { roles: liveRoles, roleWeights: liveRoles.map((n) => n.actor.weight), users: liveUsers, userWeights: liveUsers.map((n) => n.actor.weight) };
}

/** About 62% role sessions, 18% IAM users and 20% AWS services, as in a typical account. */
function noiseEvent(acct: AccountActors, pools: SlotPools, region: string, ms: number, rng: Rng): CloudTrailRecord {
  const roll = rng.next();
  const [pool, weights] = roll < 0.62 ? [pools.roles, pools.roleWeights] : roll < 0.8 ? [pools.users, pools.userWeights] : [[], []];
  if (pool.length > 0) {
    const chosen = rng.weighted(pool, weights);
    const pick = region === GLOBAL_REGION ? chosen.everywhere : chosen.regional;
    if (ms >= chosen.range.from && ms < chosen.range.to && pick.keys.length > 0) {
      const key = rng.weighted(pick.keys, pick.weights);
      const errorRoll = rng.next();
      const options: ApiCallOptions =
        errorRoll < 0.004 ? { error: decoyError(A[key]) } : errorRoll < 0.0055 ? { denied: true } : {};
      return apiCall(chosen.actor, key, acct.world, region, ms, rng, options);
    }
  }
  return serviceEvent(acct.world, region, ms, rng, acct.roles);
}

// ===================================================================================================
// Writing the tree

const MARKER = '.trailwarden-demo';

/** The second account's logs come from the organization trail: `AWSLogs/<o-id>/<account>/…`. */
function organizationOf(account: string): string | undefined {
  return account === DEMO_ACCOUNTS[1] ? DEMO_ORGANIZATION_ID : undefined;
}

function datePath(ms: number): string {
  return ctTime(ms).slice(0, 10).replaceAll('-', '/');
}


function deliveryKey(account: string, region: string, deliveryMs: number, suffix: string, ext: string): string {
  return logKey({ organizationId: organizationOf(account), account, region, day: datePath(deliveryMs), name: logFileName(account, region, new Date(deliveryMs), suffix, ext) });
}

/** Writes files with a few compressions in flight, so zlib's thread pool works while the next file is built. */
class TreeWriter {
  readonly #root: string;
  readonly #dirs = new Set<string>();
  readonly #inflight: Promise<void>[] = [];
  files = 0;

  constructor(root: string) {
    this.#root = root;
  }

  async put(key: string, data: Buffer | string): Promise<void> {
    const file = path.join(this.#root, ...key.split('/'));
    const dir = path.dirname(file);
    if (!this.#dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#dirs.add(dir);
    }
    await writeFile(file, data);
    this.files++;
  }

  /** Starts a task; waits for the oldest one when too many are running. */
  async schedule(task: () => Promise<void>): Promise<void> {
    const running = task();
    // Marks the rejection as handled until drain() or the FIFO wait below awaits it.
    running.catch(() => undefined);
    this.#inflight.push(running);
    if (this.#inflight.length >= 16) await this.#inflight.shift();
  }

  async drain(): Promise<void> {
    while (this.#inflight.length > 0) await this.#inflight.shift();
  }
}

/** Refuses to clear a folder the generator did not make: `outDir` could be someone's real log copy. */
async function prepareOutDir(outDir: string): Promise<void> {
  const existing = await readdir(outDir).catch(() => [] as string[]);
  if (existing.includes('AWSLogs')) {
    if (!existing.includes(MARKER)) {
      throw new Error(`${outDir} already holds AWSLogs/ that the demo generator did not write; choose an empty folder`);
    }
    await rm(path.join(outDir, 'AWSLogs'), { recursive: true, force: true });
  }
  await rm(path.join(outDir, 'truth.json'), { force: true });
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, MARKER), 'Written by the trailwarden demo generator; safe to delete.\n');
}

function digestJson(account: string, region: string, key: string, startMs: number, endMs: number, logFile: { key: string; sha256: string; oldest: string; newest: string }, rng: Rng): string {
  const previousEnd = startMs;
  const previousKey = digestKey({ organizationId: organizationOf(account), account, region }, TRAIL_NAME, new Date(previousEnd));
  return JSON.stringify({
    awsAccountId: account,
    digestStartTime: ctTime(startMs),
    digestEndTime: ctTime(endMs),
    digestS3Bucket: TRAIL_BUCKET,
    digestS3Object: key,
    digestPublicKeyFingerprint: rng.hex(32),
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: logFile.newest,
    oldestEventTime: logFile.oldest,
    previousDigestS3Bucket: TRAIL_BUCKET,
    previousDigestS3Object: previousKey,
    previousDigestHashValue: rng.hex(64),
    previousDigestHashAlgorithm: 'SHA-256',
    previousDigestSignature: rng.hex(512),
    logFiles: [
      { s3Bucket: TRAIL_BUCKET, s3Object: logFile.key, hashValue: logFile.sha256, hashAlgorithm: 'SHA-256', newestEventTime: logFile.newest, oldestEventTime: logFile.oldest },
    ],
  });
}

/**
 * Makes truth records share their repeated strings. A million events name only a few thousand distinct
 * ARNs, agents and IPs, but each record built its own copy; sharing them saves hundreds of megabytes.
 */
function interner(): (event: TruthEvent) => TruthEvent {
  const seen = new Map<string, string>();
  const share = (value: string | null): string | null => {
    if (value === null) return null;
    const known = seen.get(value);
    if (known !== undefined) return known;
    seen.set(value, value);
    return value;
  };
  return (e) => {
    for (const key of INTERNED) e[key] = share(e[key]);
    return e;
  };
}

/** Every string field of a TruthEvent but the unique ones (eventID, eventTime) and the account. */
const INTERNED = [
  'eventSource', 'eventName', 'awsRegion', 'sourceIPAddress', 'userAgent', 'errorCode', 'errorMessage', 'eventType',
  'identityType', 'arn', 'userName', 'principalId', 'identityAccountId', 'invokedBy', 'issuerType', 'issuerArn',
  'issuerAccountId', 'mfaAuthenticated', 'consoleLogin', 'mfaUsed',
] as const satisfies readonly (keyof TruthEvent)[];

/** One delivery file, planned: names and random choices are fixed before the asynchronous write starts. */
interface Delivery {
  account: string;
  region: string;
  key: string;
  json: string;
  plain: boolean;
  corrupt: boolean;
  duplicateKey?: string;
  digest?: { startMs: number; oldest: string; newest: string; rng: Rng };
}

function planDelivery(account: string, region: string, records: readonly CloudTrailRecord[], tags: ReadonlySet<FileTag>, rng: Rng): Delivery {
  const oldest = records[0]?.eventTime ?? '';
  const newest = records[records.length - 1]?.eventTime ?? '';
  // CloudTrail delivers a few minutes after the last event, so 23:5x events land in the next day's folder.
  const deliveryMs = Date.parse(newest) + rng.between(240, 840) * SECOND_MS;
  const plain = tags.has('plain');
  const delivery: Delivery = {
    account,
    region,
    key: deliveryKey(account, region, deliveryMs, rng.alnum(16), plain ? '.json' : '.json.gz'),
    json: JSON.stringify({ Records: records }),
    plain,
    corrupt: tags.has('corrupt'),
  };
  if (tags.has('duplicate')) {
    delivery.duplicateKey = deliveryKey(account, region, deliveryMs + rng.between(60, 300) * SECOND_MS, rng.alnum(16), '.json.gz');
  }
  if (tags.has('digest')) {
    // The digest's hour ends after this delivery, so it lists it.
    delivery.digest = { startMs: deliveryMs - rng.between(300, 3000) * SECOND_MS, oldest, newest, rng: new Rng(rng.int(2 ** 32)) };
  }
  return delivery;
}

async function writeDelivery(writer: TreeWriter, d: Delivery): Promise<void> {
  if (d.plain) {
    await writer.put(d.key, d.json);
    return;
  }
  // Level 1: any gzip reads the same; the fastest level keeps a million events well under half a minute.
  const gz = await gzip(d.json, { level: 1 });
  if (d.corrupt) {
    // Cut mid-stream, as an interrupted copy would: gunzip fails on it.
    await writer.put(d.key, gz.subarray(0, Math.floor(gz.length / 2)));
    return;
  }
  await writer.put(d.key, gz);
  if (d.duplicateKey) await writer.put(d.duplicateKey, gz);
  if (d.digest) {
    const { startMs, oldest, newest, rng } = d.digest;
    const endMs = startMs + HOUR_MS;
    const digestFile = digestKey({ organizationId: organizationOf(d.account), account: d.account, region: d.region }, TRAIL_NAME, new Date(endMs));
    const sha256 = createHash('sha256').update(gz).digest('hex');
    const body = digestJson(d.account, d.region, digestFile, startMs, endMs, { key: d.key, sha256, oldest, newest }, rng);
    await writer.put(digestFile, await gzip(body, { level: 1 }));
  }
}

// ===================================================================================================
// The generator

/**
 * Writes the demo tree to `<outDir>/AWSLogs/` and, unless `withTruth` is false, `<outDir>/truth.json`.
 * The same options always give a byte-identical tree.
 */
export async function generateDemo(o: DemoOptions): Promise<DemoResult> {
  const seed = o.seed ?? DEMO_SEED;
  const asOfMs = parseIsoSeconds(o.asOf ?? DEMO_AS_OF);
  const clock: Clock = { asOfMs, midnightMs: Math.floor(asOfMs / DAY_MS) * DAY_MS };
  const rangeStart = Math.floor((asOfMs - (o.daysBefore ?? 35) * DAY_MS) / DAY_MS) * DAY_MS;
  const rangeEnd = asOfMs + (o.daysAfter ?? 1) * DAY_MS;
  const withTruth = o.withTruth ?? true;
  const target = o.targetEvents ?? 60_000;

  await prepareOutDir(o.outDir);
  const writer = new TreeWriter(o.outDir);

  const accounts = [buildAccount(DEMO_ACCOUNTS[0], seed), buildAccount(DEMO_ACCOUNTS[1], seed)] as [AccountActors, AccountActors];
  // Separate streams: the script and the file names stay the same whatever targetEvents is.
  const scriptRng = new Rng(subSeed(seed, 'script'));
  const noiseRng = new Rng(subSeed(seed, 'noise'));
  const fileRng = new Rng(subSeed(seed, 'files'));

  // Bucket the scripted events by (account, region, slot); those outside the generated range are dropped.
  const scripted = new Map<string, Scripted[]>();
  let scriptedCount = 0;
  for (const s of scriptedEvents(clock, accounts, scriptRng)) {
    const ms = Date.parse(s.record.eventTime);
    if (ms < rangeStart || ms >= rangeEnd) continue;
    const bucketKey = `${s.account}|${s.region}|${Math.floor((ms - rangeStart) / SLOT_MS)}`;
    const list = scripted.get(bucketKey) ?? [];
    list.push(s);
    scripted.set(bucketKey, list);
    scriptedCount++;
  }

  let totalWeight = 0;
  for (let s = rangeStart; s < rangeEnd; s += SLOT_MS) totalWeight += slotWeight(s) * ((Math.min(s + SLOT_MS, rangeEnd) - s) / SLOT_MS);
  const scale = Math.max(0, target - scriptedCount) / totalWeight;

  const pools = accounts.map((acct) => ({ roles: noiseActors(acct.roles, clock), users: noiseActors(acct.users, clock) }));
  const truthEvents: TruthEvent[] | undefined = withTruth ? [] : undefined;
  const compact = interner();
  const unreadableFiles: string[] = [];
  let events = 0;

  for (let slotStart = rangeStart, slot = 0; slotStart < rangeEnd; slotStart += SLOT_MS, slot++) {
    const slotEnd = Math.min(slotStart + SLOT_MS, rangeEnd);
    const slotSeconds = (slotEnd - slotStart) / SECOND_MS;
    const expected = scale * slotWeight(slotStart) * (slotSeconds / (SLOT_MS / SECOND_MS));
    for (const [ai, acct] of accounts.entries()) {
      const account = acct.world.account;
      const { roles, users } = pools[ai] ?? { roles: [], users: [] };
      // Actors active at some point of this slot; an event outside an actor's own range falls back to a service.
      const live = slotPools(roles, users, slotStart, slotEnd);
      for (const [ri, region] of DEMO_REGIONS.entries()) {
        const script = scripted.get(`${account}|${region}|${slot}`) ?? [];
        const records = script.map((s) => s.record);
        const n = Math.floor(expected * (ACCOUNT_WEIGHT[ai] ?? 0) * (REGION_WEIGHT[ri] ?? 0) + noiseRng.next());
        for (let i = 0; i < n; i++) {
          const ms = slotStart + noiseRng.int(slotSeconds) * SECOND_MS;
          records.push(noiseEvent(acct, live, region, ms, noiseRng));
        }
        if (records.length === 0) continue;
        records.sort((x, y) => (x.eventTime < y.eventTime ? -1 : x.eventTime > y.eventTime ? 1 : 0));

        const tags = new Set(script.flatMap((s) => (s.tag ? [s.tag] : [])));
        if (tags.has('corrupt') && script.length > 1) {
          // The truncated file loses its events: none of them may be one the script relies on.
          throw new Error('demo script error: the corrupt delivery file holds scripted events');
        }
        const delivery = planDelivery(account, region, records, tags, fileRng);
        events += records.length * (delivery.duplicateKey ? 2 : 1);
        if (delivery.corrupt) {
          unreadableFiles.push(delivery.key);
        } else if (truthEvents) {
          for (const r of records) {
            const event = compact(toTruthEvent(r, account));
            truthEvents.push(event);
            // The duplicate delivery holds the very same events: the truth must count them once.
            if (delivery.duplicateKey) truthEvents.push(event);
          }
        }
        await writer.schedule(() => writeDelivery(writer, delivery));
      }
    }
  }
  await writer.drain();

  const result: DemoResult = {
    outDir: o.outDir,
    files: writer.files,
    events,
    accounts: [...DEMO_ACCOUNTS],
    regions: [...DEMO_REGIONS].sort(),
    unreadableFiles,
  };
  if (truthEvents) {
    const truth = computeTruth(truthEvents, ctTime(asOfMs), unreadableFiles);
    await writeFile(path.join(o.outDir, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
    result.truth = truth;
    result.truthEvents = truthEvents;
  }
  return result;
}
