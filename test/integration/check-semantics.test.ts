/**
 * The built-in checks' SQL against hand-written records whose expected outcome comes from the CIS AWS
 * Foundations Benchmark's monitoring rules (v1.4, 4.1 unauthorized calls, 4.2 sign-in without MFA, 4.3 root use,
 * 4.6 failed sign-ins, 4.4–4.15 the changes their metric filters match; Security Hub CloudWatch.1–14) —
 * independent of the demo generator's ground truth.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/config/load.js';
import type { Check } from '../../src/core/catalog.js';
import { resolveParameters } from '../../src/core/params.js';
import { DuckDbEngine } from '../../src/engines/duckdb.js';
import { LocalLogSource } from '../../src/source/local.js';
import { record, silentLog, tempDir, writeLogFile } from '../support/fixtures.js';

const AS_OF = new Date('2026-11-23T00:00:00Z');
const ROOT = { type: 'Root', principalId: '111111111111', arn: 'arn:aws:iam::111111111111:root', accountId: '111111111111' };
const user = (name: string) => ({
  type: 'IAMUser',
  principalId: `AIDA${name}`,
  arn: `arn:aws:iam::111111111111:user/${name}`,
  accountId: '111111111111',
  userName: name,
});
const consoleLogin = (id: string, identity: Record<string, unknown>, result: 'Success' | 'Failure', extra: Record<string, unknown> = {}) =>
  record({
    eventTime: '2026-11-20T09:00:00Z',
    eventID: id,
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    eventType: 'AwsConsoleSignIn',
    userIdentity: identity,
    responseElements: { ConsoleLogin: result },
    ...(result === 'Failure' ? { errorMessage: 'Failed authentication' } : {}),
    ...extra,
  });

const ADMIN_SESSION = {
  type: 'AssumedRole',
  principalId: 'AROAADMIN:mallory',
  arn: 'arn:aws:sts::111111111111:assumed-role/admin/mallory',
  accountId: '111111111111',
  sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAADMIN', arn: 'arn:aws:iam::111111111111:role/admin', accountId: '111111111111' } },
};
/** A change made in an admin role session at 12:00 on 2026-11-20 (inside every 7-day window ending 2026-11-23). */
const change = (id: string, source: string, name: string, extra: Record<string, unknown> = {}) =>
  record({ eventTime: '2026-11-20T12:00:00Z', eventID: id, eventSource: source, eventName: name, userIdentity: ADMIN_SESSION, ...extra });

let engine: DuckDbEngine;
let checks: Map<string, Check>;

beforeAll(async () => {
  const root = await tempDir();
  await writeLogFile(root, {
    day: '2026/11/20',
    records: [
      // root_activity_7d: counted
      record({ eventTime: '2026-11-20T10:00:00Z', eventID: 'root-api', userIdentity: ROOT, eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey' }),
      consoleLogin('root-console', ROOT, 'Success', { additionalEventData: { MFAUsed: 'Yes' } }),
      // root_activity_7d: not counted (a service acting for root; a service event; too old)
      record({ eventTime: '2026-11-20T10:01:00Z', eventID: 'root-invoked', userIdentity: { ...ROOT, invokedBy: 'support.amazonaws.com' } }),
      record({ eventTime: '2026-11-20T10:02:00Z', eventID: 'root-service-event', userIdentity: ROOT, eventType: 'AwsServiceEvent' }),
      // console_login_without_mfa_30d: counted (No; MFAUsed missing)
      consoleLogin('alice-no-mfa', user('alice'), 'Success', { additionalEventData: { MFAUsed: 'No' } }),
      consoleLogin('bob-unknown-mfa', user('bob'), 'Success'),
      // ...not counted: with MFA, failed, a federated role session
      consoleLogin('carol-mfa', user('carol'), 'Success', { additionalEventData: { MFAUsed: 'Yes' } }),
      consoleLogin('dave-failed', user('dave'), 'Failure', { additionalEventData: { MFAUsed: 'No' } }),
      consoleLogin(
        'sso-role',
        { type: 'AssumedRole', arn: 'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Admin/erin', accountId: '111111111111' },
        'Success',
        {
          additionalEventData: { MFAUsed: 'No' },
        },
      ),
      consoleLogin(
        'hidden-user',
        { type: 'IAMUser', principalId: '111111111111', accountId: '111111111111', userName: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
        'Failure',
      ),
      // unauthorized_api_calls_7d: counted, and decoys
      record({ eventTime: '2026-11-20T11:00:00Z', eventID: 'denied-1', errorCode: 'AccessDenied', eventName: 'GetObject', eventSource: 's3.amazonaws.com' }),
      record({ eventTime: '2026-11-20T11:01:00Z', eventID: 'denied-2', errorCode: 'Client.UnauthorizedOperation', eventName: 'RunInstances' }),
      record({
        eventTime: '2026-11-20T11:02:00Z',
        eventID: 'denied-3',
        errorCode: 'AccessDeniedException',
        eventName: 'Decrypt',
        eventSource: 'kms.amazonaws.com',
      }),
      record({ eventTime: '2026-11-20T11:03:00Z', eventID: 'not-denied', errorCode: 'ThrottlingException' }),
      // 4.4–4.15: the filters' event names, each from its own service; look-alikes from other services are not changes.
      change('iam-delete-policy', 'iam.amazonaws.com', 'DeletePolicy'),
      change('asg-delete-policy', 'autoscaling.amazonaws.com', 'DeletePolicy'),
      change('org-delete-policy', 'organizations.amazonaws.com', 'DeletePolicy'),
      change('iam-attach-group', 'iam.amazonaws.com', 'AttachGroupPolicy', { errorCode: 'AccessDenied' }),
      change('iam-read', 'iam.amazonaws.com', 'GetPolicy'),
      change('trail-stop-denied', 'cloudtrail.amazonaws.com', 'StopLogging', { errorCode: 'AccessDenied' }),
      change('trail-stop', 'cloudtrail.amazonaws.com', 'StopLogging'),
      change('trail-delete', 'cloudtrail.amazonaws.com', 'DeleteTrail'),
      change('trail-create', 'cloudtrail.amazonaws.com', 'CreateTrail'),
      change('kms-schedule', 'kms.amazonaws.com', 'ScheduleKeyDeletion'),
      change('kms-enable', 'kms.amazonaws.com', 'EnableKey'),
      change('s3-replication', 's3.amazonaws.com', 'DeleteBucketReplication'),
      change('s3-tagging', 's3.amazonaws.com', 'PutBucketTagging'),
      change('config-stop', 'config.amazonaws.com', 'StopConfigurationRecorder'),
      change('config-put', 'config.amazonaws.com', 'PutConfigurationRecorder'),
      change('sg-egress', 'ec2.amazonaws.com', 'RevokeSecurityGroupEgress'),
      change('nacl-assoc', 'ec2.amazonaws.com', 'ReplaceNetworkAclAssociation'),
      change('cgw', 'ec2.amazonaws.com', 'CreateCustomerGateway'),
      change('ec2-route', 'ec2.amazonaws.com', 'DisassociateRouteTable'),
      change('api-route', 'apigateway.amazonaws.com', 'CreateRoute'),
      change('vpc-classiclink', 'ec2.amazonaws.com', 'EnableVpcClassicLink'),
      change('org-leave', 'organizations.amazonaws.com', 'LeaveOrganization', { errorCode: 'AccessDeniedException' }),
      // Not in the CIS 4.15 filter (CLOUDTRAIL.md listed it; the benchmark's filter does not).
      change('org-enable-all', 'organizations.amazonaws.com', 'EnableAllFeatures'),
      change('too-old', 'ec2.amazonaws.com', 'CreateVpc', { eventTime: '2026-11-15T23:59:59Z' }),
      // users_active_30d: a user seen only 31 days ago is not active
      record({ eventTime: '2026-10-22T12:00:00Z', eventID: 'old-user', userIdentity: user('frank') }),
    ],
  });
  await writeLogFile(root, { day: '2026/10/22', records: [record({ eventTime: '2026-10-22T12:00:00Z', eventID: 'old-user-2', userIdentity: user('frank') })] });
  checks = new Map((await loadCatalog(path.resolve('config/checks'))).map((c) => [c.id, c]));
  engine = await DuckDbEngine.create({ threads: 2 }, silentLog);
  const window = { start: new Date('2026-10-20T00:00:00Z'), end: AS_OF };
  await engine.loadWindow({ window, files: (await new LocalLogSource({ path: root }).list(window)).files });
});

afterAll(async () => engine.close());

async function run(id: string, column: string): Promise<(string | null)[]> {
  const check = checks.get(id)!;
  const result = await engine.query(check.sql, resolveParameters(check, AS_OF));
  const index = result.columns.indexOf(column);
  return result.rows.map((row) => row[index] ?? null);
}

describe('the built-in checks follow the CIS AWS Foundations semantics', () => {
  it('4.3 root use: no invokedBy, not an AwsServiceEvent; console sign-ins marked as console', async () => {
    expect(await run('root_activity_7d', 'event_id')).toEqual(['root-console', 'root-api']);
    expect(await run('root_activity_7d', 'access')).toEqual(['console', 'api']);
  });

  it('4.2 console sign-in without MFA: successful IAM-user sign-ins whose MFAUsed is not Yes', async () => {
    expect(await run('console_login_without_mfa_30d', 'event_id')).toEqual(['alice-no-mfa', 'bob-unknown-mfa']);
  });

  it('4.6 console authentication failures, including unknown user names', async () => {
    expect(await run('console_login_failures_30d', 'event_id')).toEqual(['dave-failed', 'hidden-user']);
    expect(await run('console_login_failures_30d', 'principal')).toEqual(['arn:aws:iam::111111111111:user/dave', 'HIDDEN_DUE_TO_SECURITY_REASONS']);
  });

  it('4.1 unauthorized calls: AccessDenied* and *UnauthorizedOperation, nothing else', async () => {
    expect([...new Set(await run('unauthorized_api_calls_7d', 'error_code'))].sort()).toEqual([
      'AccessDenied',
      'AccessDeniedException',
      'Client.UnauthorizedOperation',
    ]);
  });

  it('4.4–4.15: every event of the filter from its own service, refused ones with their error code, look-alikes left out', async () => {
    expect(await run('iam_policy_changes_7d', 'event_id')).toEqual(['iam-attach-group', 'iam-delete-policy']);
    expect(await run('iam_policy_changes_7d', 'error_code')).toEqual(['AccessDenied', null]);
    expect(await run('organizations_changes_7d', 'event_id')).toEqual(['org-delete-policy', 'org-leave']);
    expect(await run('cloudtrail_config_changes_7d', 'event_id')).toEqual(['trail-create', 'trail-delete', 'trail-stop', 'trail-stop-denied']);
    // Only a stop or delete that succeeded counts towards the threshold.
    expect(await run('cloudtrail_config_changes_7d', 'logging_stopped')).toEqual(['0', '1', '1', '0']);
    expect(await run('kms_key_disabled_or_deleted_7d', 'event_id')).toEqual(['kms-schedule']);
    expect(await run('s3_bucket_policy_changes_7d', 'event_id')).toEqual(['s3-replication']);
    expect(await run('config_recorder_changes_7d', 'event_id')).toEqual(['config-put', 'config-stop']);
    expect(await run('config_recorder_changes_7d', 'recording_stopped')).toEqual(['0', '1']);
    expect(await run('security_group_changes_7d', 'event_id')).toEqual(['sg-egress']);
    expect(await run('nacl_changes_7d', 'event_id')).toEqual(['nacl-assoc']);
    expect(await run('network_gateway_changes_7d', 'event_id')).toEqual(['cgw']);
    expect(await run('route_table_changes_7d', 'event_id')).toEqual(['ec2-route']);
    expect(await run('vpc_changes_7d', 'event_id')).toEqual(['vpc-classiclink']);
    // The session, not only the role: who made the change.
    expect(await run('vpc_changes_7d', 'principal')).toEqual(['arn:aws:sts::111111111111:assumed-role/admin/mallory']);
  });

  it('activity windows end at their lookback: a user last seen 31 days ago is not active', async () => {
    expect(await run('users_active_30d', 'user_name')).toEqual(['alice', 'bob', 'carol', 'dave']);
  });

  it('role_actions_30d narrows to the configured roles, and an empty list means every role', async () => {
    const check = checks.get('role_actions_30d')!;
    const all = await engine.query(check.sql, resolveParameters(check, AS_OF));
    expect(all.rows.length).toBeGreaterThan(0);
    const narrowed = { ...check, optionValues: { role_arns: ['arn:aws:iam::111111111111:role/nobody'] } };
    expect((await engine.query(narrowed.sql, resolveParameters(narrowed, AS_OF))).rows).toEqual([]);
  });
});
