/**
 * The catalog's workload actions: EC2, S3, Lambda, DynamoDB and KMS, with realistic request parameters and
 * responses. `catalog.ts` joins them with the operations actions.
 */
import type { JsonObject } from './cloudtrail-record.js';
import { bucketHost, roleArnOf, type Action, type Ctx } from './action.js';
import { ctTime } from './time.js';

const keyArn = (c: Ctx, keyId: string): string => `arn:aws:kms:${c.region}:${c.world.account}:key/${keyId}`;

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

export const WORKLOAD_ACTIONS = {
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
} satisfies Record<string, Action>;
