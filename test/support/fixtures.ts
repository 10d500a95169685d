import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import pino from 'pino';

/** A logger that keeps quiet in tests. */
export const silentLog = pino({ level: 'silent' });

export async function tempDir(prefix = 'trailwarden-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export interface RecordFields {
  eventTime: string;
  eventName?: string;
  eventSource?: string;
  userIdentity?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A minimal but real-shaped CloudTrail record; fields can be overridden. */
export function record(fields: RecordFields): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLE:session',
      arn: 'arn:aws:sts::111111111111:assumed-role/deploy/session',
      accountId: '111111111111',
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAEXAMPLE',
          arn: 'arn:aws:iam::111111111111:role/deploy',
          accountId: '111111111111',
          userName: 'deploy',
        },
        attributes: { creationDate: '2026-11-20T00:00:00Z', mfaAuthenticated: 'false' },
      },
    },
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: null,
    responseElements: null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111111111111',
    eventCategory: 'Management',
    ...fields,
  };
}

/**
 * A record with every element the CloudTrail table declares, keys spelled as AWS documents the record
 * contents (not taken from our table spec, so that a wrong spelling there shows).
 */
export function fullRecord(): Record<string, unknown> {
  return {
    eventVersion: '1.11',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLE:alice',
      arn: 'arn:aws:sts::111111111111:assumed-role/Admin/alice',
      accountId: '111111111111',
      accessKeyId: 'ASIAEXAMPLE',
      userName: 'alice',
      invokedBy: 'cloudformation.amazonaws.com',
      onBehalfOf: { userId: 'u-1', identityStoreArn: 'arn:aws:identitystore::111111111111:identitystore/d-1' },
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: 'arn:aws:iam::111111111111:role/Admin', accountId: '111111111111', userName: 'Admin' },
        webIdFederationData: { federatedProvider: 'arn:aws:iam::111111111111:oidc-provider/example.com', attributes: { 'example.com:aud': 'app' } },
        attributes: { creationDate: '2026-11-20T00:00:00Z', mfaAuthenticated: 'true' },
        ec2RoleDelivery: '2.0',
      },
    },
    eventTime: '2026-11-20T10:00:00Z',
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateUser',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-cli/2.15.0',
    errorCode: 'AccessDenied',
    errorMessage: 'User is not authorized',
    requestParameters: { userName: 'bob', tags: [{ key: 'team', value: 'ops' }] },
    responseElements: { user: { userName: 'bob', userId: 'AIDAEXAMPLE' }, requestId: 'r-9' },
    additionalEventData: { MFAUsed: 'Yes' },
    requestID: 'req-1',
    eventID: 'evt-1',
    readOnly: false,
    resources: [{ ARN: 'arn:aws:iam::111111111111:user/bob', accountId: '111111111111', type: 'AWS::IAM::User' }],
    eventType: 'AwsApiCall',
    apiVersion: '2010-05-08',
    managementEvent: true,
    recipientAccountId: '111111111111',
    serviceEventDetails: { keyId: 'k-1' },
    sharedEventID: 'shared-1',
    vpcEndpointId: 'vpce-1',
    vpcEndpointAccountId: '111111111111',
    eventCategory: 'Management',
    addendum: { reason: 'DELIVERY_DELAY', updatedFields: 'sourceIPAddress', originalRequestID: 'req-0', originalEventID: 'evt-0' },
    sessionCredentialFromConsole: 'true',
    edgeDeviceDetails: { deviceId: 'device-1' },
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 'iam.amazonaws.com' },
  };
}

export interface FileSpec {
  account?: string;
  region?: string;
  /** `YYYY/MM/DD` delivery folder. */
  day: string;
  name?: string;
  /** Records to write as `{"Records": [...]}`, or the exact bytes / text of the file. */
  records?: Record<string, unknown>[];
  content?: string | Buffer;
  gzip?: boolean;
  /** Put the file under `AWSLogs/<org>/...` (organization trail). */
  organization?: string;
  /** The trail sub-folder, `CloudTrail` by default (`CloudTrail-Digest` for digests). */
  trailFolder?: string;
}

/** Writes one delivery file where CloudTrail would put it; returns its path. */
export async function writeLogFile(root: string, spec: FileSpec): Promise<string> {
  const account = spec.account ?? '111111111111';
  const region = spec.region ?? 'us-east-1';
  const gzip = spec.gzip ?? true;
  const dir = path.join(
    root,
    'AWSLogs',
    ...(spec.organization ? [spec.organization] : []),
    account,
    spec.trailFolder ?? 'CloudTrail',
    region,
    ...spec.day.split('/'),
  );
  await mkdir(dir, { recursive: true });
  const name = spec.name ?? `${account}_CloudTrail_${region}_${spec.day.replaceAll('/', '')}T0000Z_${randomUUID().slice(0, 16)}.json${gzip ? '.gz' : ''}`;
  const body = spec.content ?? JSON.stringify({ Records: spec.records ?? [] });
  const bytes = gzip && spec.content === undefined ? gzipSync(body) : Buffer.from(body);
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}
