/**
 * Which IAM action a CloudTrail event exercises, and which actions the logs can say nothing about. Kept as data with
 * its exceptions (AWS's Service Authorization Reference, "Actions, resources, and condition keys"), validated against
 * the catalogue by a unit test. Pure.
 *
 * The rule is `<prefix>:<eventName>`, the prefix being the first label of `eventSource`; the exceptions below are
 * the events whose action has another name, lives under another prefix, or is two actions. An event that maps to
 * no action of the catalogue (ConsoleLogin, say) is counted and listed by the report, never silently dropped.
 */
import type { ActionCatalogue } from './action-catalogue.js';

/** eventSource → IAM service prefix where it is not the source's first label. */
export const PREFIX_OF_SOURCE: Readonly<Record<string, string>> = {
  'monitoring.amazonaws.com': 'cloudwatch',
  'email.amazonaws.com': 'ses',
  'elasticfilesystem.amazonaws.com': 'elasticfilesystem',
  'es.amazonaws.com': 'es',
  'execute-api.amazonaws.com': 'execute-api',
  'sso.amazonaws.com': 'sso',
  'tagging.amazonaws.com': 'tag',
  'streams.dynamodb.amazonaws.com': 'dynamodb',
};

/** `eventSource eventName` → the action(s) it needs, where the rule gets it wrong. */
export const EVENT_ACTION_EXCEPTIONS: Readonly<Record<string, readonly string[]>> = {
  's3.amazonaws.com ListObjects': ['s3:ListBucket'],
  's3.amazonaws.com ListObjectsV2': ['s3:ListBucket'],
  's3.amazonaws.com ListObjectVersions': ['s3:ListBucketVersions'],
  's3.amazonaws.com HeadBucket': ['s3:ListBucket'],
  's3.amazonaws.com HeadObject': ['s3:GetObject'],
  's3.amazonaws.com ListBuckets': ['s3:ListAllMyBuckets'],
  's3.amazonaws.com GetBucketEncryption': ['s3:GetEncryptionConfiguration'],
  's3.amazonaws.com PutBucketEncryption': ['s3:PutEncryptionConfiguration'],
  's3.amazonaws.com GetBucketLifecycleConfiguration': ['s3:GetLifecycleConfiguration'],
  's3.amazonaws.com PutBucketLifecycleConfiguration': ['s3:PutLifecycleConfiguration'],
  's3.amazonaws.com DeleteObjects': ['s3:DeleteObject'],
  's3.amazonaws.com CreateMultipartUpload': ['s3:PutObject'],
  's3.amazonaws.com UploadPart': ['s3:PutObject'],
  's3.amazonaws.com CompleteMultipartUpload': ['s3:PutObject'],
  // A copy reads the source object and writes the target: two permissions for one event.
  's3.amazonaws.com CopyObject': ['s3:GetObject', 's3:PutObject'],
  's3.amazonaws.com UploadPartCopy': ['s3:GetObject', 's3:PutObject'],
  'lambda.amazonaws.com Invoke': ['lambda:InvokeFunction'],
  'dynamodb.amazonaws.com BatchGetItem': ['dynamodb:BatchGetItem'],
  'kms.amazonaws.com ReEncrypt': ['kms:ReEncryptFrom', 'kms:ReEncryptTo'],
};

/**
 * Actions that are data-plane: CloudTrail logs them only as data events, which a trail records only when asked to.
 * Without evidence that such events were logged for the account, their use is unknown, never "unused".
 */
export const DATA_PLANE_ACTIONS: ReadonlySet<string> = new Set([
  's3:GetObject',
  's3:GetObjectVersion',
  's3:GetObjectAcl',
  's3:GetObjectTagging',
  's3:GetObjectAttributes',
  's3:PutObject',
  's3:PutObjectAcl',
  's3:PutObjectTagging',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:DeleteObjectTagging',
  's3:RestoreObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
  's3:ListBucket',
  's3:ListBucketVersions',
  's3:ListBucketMultipartUploads',
  'lambda:InvokeFunction',
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'sns:Publish',
  'sqs:SendMessage',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'secretsmanager:BatchGetSecretValue',
]);

/**
 * Actions that are permissions only, never an API call of their own: no event ever names them, so the logs can't say
 * whether they are used (iam:PassRole is checked when a role is handed to a service, inside that service's call).
 */
export const PERMISSION_ONLY_ACTIONS: ReadonlySet<string> = new Set([
  'iam:PassRole',
  's3:ListAllMyBuckets',
  'sts:TagSession',
  'sts:SetSourceIdentity',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'ecr:BatchCheckLayerAvailability',
  'lambda:InvokeFunctionUrl',
  'cloudwatch:GetMetricStream',
  'execute-api:Invoke',
]);

/** How the logs can judge an action: as an API call (management event), a data event, or not at all. */
export type ActionKind = 'management' | 'data' | 'permission_only';

export function actionKind(action: string): ActionKind {
  if (PERMISSION_ONLY_ACTIONS.has(action)) return 'permission_only';
  if (DATA_PLANE_ACTIONS.has(action)) return 'data';
  return 'management';
}

/** The IAM service prefix of an eventSource (`monitoring.amazonaws.com` → `cloudwatch`). */
export function prefixOfSource(eventSource: string): string {
  return PREFIX_OF_SOURCE[eventSource] ?? eventSource.split('.')[0] ?? eventSource;
}

/** The eventSource that logs a service prefix's calls (`cloudwatch` → `monitoring.amazonaws.com`): the inverse of the above. */
export function sourceOfPrefix(prefix: string): string {
  const special = Object.entries(PREFIX_OF_SOURCE).find(([source, p]) => p === prefix && source !== 'streams.dynamodb.amazonaws.com');
  return special ? special[0] : `${prefix}.amazonaws.com`;
}

/** Lambda's event names carry its API version (`UpdateFunctionCode20150331v2`); the action has none. */
function withoutApiVersion(eventSource: string, eventName: string): string {
  return eventSource === 'lambda.amazonaws.com' ? eventName.replace(/\d{8}(v\d+)?$/, '') : eventName;
}

/** The actions an event exercises, in the catalogue's spelling; empty when it maps to none. */
export function actionsForEvent(eventSource: string, eventName: string, catalogue: ActionCatalogue): string[] {
  const name = withoutApiVersion(eventSource, eventName);
  const listed = EVENT_ACTION_EXCEPTIONS[`${eventSource} ${name}`];
  const candidates = listed ?? [`${prefixOfSource(eventSource)}:${name}`];
  return candidates.flatMap((action) => {
    const canonical = catalogue.canonical(action);
    return canonical ? [canonical] : [];
  });
}
