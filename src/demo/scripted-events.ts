/**
 * The script: events placed on purpose so every check has something to show — root use, console sign-ins
 * without MFA, failed sign-ins, a principal probing for permissions, events exactly on the window edges —
 * and the events whose delivery file gets special treatment (plain, corrupt, duplicate, digest).
 */
import { bucketHost } from './action.js';
import { ATTACKER_IP, OFFICE_IPS, type AccountActors, type Actor } from './actors.js';
import { ACTIONS, type ActionKey } from './catalog.js';
import type { CloudTrailRecord } from './cloudtrail-record.js';
import { GLOBAL_REGION } from './constants.js';
import { BROWSER, apiCall, buildRecord, s3Extra, userAgent, userIdentityOf, type ApiCallOptions } from './records.js';
import type { Rng } from './rng.js';
import { consoleLogin, hiddenUserIdentity, rootCall, rootIdentity, signInIdentity } from './sign-ins-and-root.js';
import { SECOND_MS, ago, ctTime, dayAt, type Clock } from './time.js';

/** Marks the events whose delivery file gets special treatment. */
export type FileTag = 'plain' | 'corrupt' | 'duplicate' | 'digest';

export interface Scripted {
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

/** Every scripted event of both accounts, with its account, region and delivery treatment; `rng` is the script's own stream. */
export function scriptedEvents(clock: Clock, [a, b]: [AccountActors, AccountActors], rng: Rng): Scripted[] {
  const out: Scripted[] = [];
  const A1 = a.world.account;
  const B2 = b.world.account;
  const add = (account: string, region: string, record: CloudTrailRecord, tag?: FileTag): void => {
    out.push(tag ? { account, region, record, tag } : { account, region, record });
  };
  const call = (acct: AccountActors, actorName: string, action: ActionKey, region: string, ms: number, o: ApiCallOptions = {}, tag?: FileTag): void => {
    const actor = acct.users.find((u) => u.name === actorName) ?? findActor(acct.roles, actorName);
    add(acct.world.account, region, apiCall(actor, action, acct.world, region, ms, rng, o), tag);
  };
  const login = (
    acct: AccountActors,
    actorName: string,
    ms: number,
    success: boolean,
    mfa: 'Yes' | 'No' | null,
    o: { ip?: string; ua?: string } = {},
  ): void => {
    const actor = acct.users.find((u) => u.name === actorName) ?? findActor(acct.roles, actorName);
    const record = consoleLogin(
      { account: acct.world.account, ms, identity: signInIdentity(actor, ms, rng), success, mfa, ip: o.ip ?? rng.pick(OFFICE_IPS), ua: o.ua },
      rng,
    );
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
    consoleLogin(
      { account: A1, ms: day(2, '09:12:33'), identity: rootIdentity(A1, 0, rng, { session: false }), success: true, mfa: 'Yes', ip: rootIp, ua: BROWSER },
      rng,
    ),
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
            Statement: [
              { Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${a.world.buckets[2] ?? 'static-site'}/*` },
            ],
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
      {
        account: A1,
        region: GLOBAL_REGION,
        ms: day(3, '10:02:19'),
        source: 'billingconsole.amazonaws.com',
        name: 'GetBillingPreferences',
        ua: BROWSER,
        ip: rootIp,
        readOnly: true,
        eventType: 'AwsConsoleAction',
      },
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
        ua: userAgent('cli', ACTIONS.iamListUsers, rng),
        ip: '198.51.100.90',
        readOnly: true,
        accessKey: `AKIA${rng.upperAlnum(16)}`,
      },
      rng,
    ),
  );
  // Exactly on the 7-day edge: counted (the window is asOf-7d <= eventTime < asOf).
  add(
    A1,
    GLOBAL_REGION,
    rootCall(
      {
        account: A1,
        region: GLOBAL_REGION,
        ms: ago(clock, 7),
        source: 'iam.amazonaws.com',
        name: 'ListMFADevices',
        ua: BROWSER,
        ip: rootIp,
        readOnly: true,
        params: {},
      },
      rng,
    ),
  );
  // Exactly at asOf: not counted.
  add(
    A1,
    GLOBAL_REGION,
    rootCall(
      {
        account: A1,
        region: GLOBAL_REGION,
        ms: ago(clock, 0),
        source: 'iam.amazonaws.com',
        name: 'ListAccessKeys',
        ua: BROWSER,
        ip: rootIp,
        readOnly: true,
        params: {},
      },
      rng,
    ),
  );
  // Not counted: a service acting for root, a service event, and use 10 days ago.
  add(
    A1,
    GLOBAL_REGION,
    rootCall(
      {
        account: A1,
        region: GLOBAL_REGION,
        ms: day(1, '11:00:05'),
        source: 'iam.amazonaws.com',
        name: 'GetAccountSummary',
        ua: 'support.amazonaws.com',
        ip: 'support.amazonaws.com',
        readOnly: true,
        invokedBy: 'support.amazonaws.com',
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
        ms: day(4, '06:40:00'),
        source: 'ec2.amazonaws.com',
        name: 'SharedSnapshotCopyInitiated',
        ua: 'ec2.amazonaws.com',
        ip: 'ec2.amazonaws.com',
        readOnly: false,
        eventType: 'AwsServiceEvent',
      },
      rng,
    ),
  );
  add(
    A1,
    GLOBAL_REGION,
    consoleLogin(
      { account: A1, ms: day(10, '14:30:00'), identity: rootIdentity(A1, 0, rng, { session: false }), success: true, mfa: 'Yes', ip: rootIp, ua: BROWSER },
      rng,
    ),
  );

  // --- Root, account 222222222222: nothing counted in the last 7 days --------------------------
  add(
    B2,
    GLOBAL_REGION,
    consoleLogin(
      { account: B2, ms: day(15, '03:12:44'), identity: rootIdentity(B2, 0, rng, { session: false }), success: false, mfa: 'No', ip: '198.51.100.31' },
      rng,
    ),
  );
  add(
    B2,
    GLOBAL_REGION,
    rootCall(
      {
        account: B2,
        region: GLOBAL_REGION,
        ms: day(3, '12:00:00'),
        source: 'iam.amazonaws.com',
        name: 'GetAccountSummary',
        ua: 'organizations.amazonaws.com',
        ip: 'organizations.amazonaws.com',
        readOnly: true,
        invokedBy: 'organizations.amazonaws.com',
      },
      rng,
    ),
  );
  add(
    B2,
    GLOBAL_REGION,
    rootCall(
      {
        account: B2,
        region: GLOBAL_REGION,
        ms: day(12, '16:20:00'),
        source: 'iam.amazonaws.com',
        name: 'GetAccountSummary',
        ua: BROWSER,
        ip: '203.0.113.201',
        readOnly: true,
      },
      rng,
    ),
  );

  // --- Console sign-ins -----------------------------------------------------------------------------
  for (const [d, t] of [
    [1, '08:55:10'],
    [5, '09:01:44'],
    [12, '08:47:00'],
    [20, '09:10:00'],
  ] as const)
    login(a, 'alice.admin', day(d, t), true, 'Yes');
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
  call(a, node.name, 'iamListUsers', GLOBAL_REGION, t + 30 * SECOND_MS, {
    identity: probeIdentity,
    userAgent: RECON_AGENT,
    sourceIP: ATTACKER_IP,
    error: { code: 'ThrottlingException', message: 'Rate exceeded' },
  });
  call(a, node.name, 'ssmDescribeParameters', GLOBAL_REGION, t + 41 * SECOND_MS, {
    identity: probeIdentity,
    userAgent: RECON_AGENT,
    sourceIP: ATTACKER_IP,
    error: { code: 'ValidationException', message: "1 validation error detected: Value at 'maxResults' failed to satisfy constraint" },
  });

  // A developer hitting missing permissions; one group starts exactly on the 7-day edge.
  for (const s of ['10:02:11', '10:02:40', '10:03:05']) call(a, 'bob.dev', 's3GetBucketPolicy', 'eu-west-1', day(1, s), { denied: true });
  call(a, 'bob.dev', 'iamDeleteRole', GLOBAL_REGION, day(5, '16:20:00'), { denied: true });
  call(a, 'bob.dev', 'iamListPolicies', GLOBAL_REGION, ago(clock, 7), { denied: true });
  call(a, 'bob.dev', 'iamListPolicies', GLOBAL_REGION, day(2, '11:11:11'), { denied: true });
  call(a, 'bob.dev', 'iamListPolicies', GLOBAL_REGION, ago(clock, 0), { denied: true }); // at asOf: not counted
  call(a, 'bob.dev', 's3GetBucketPolicy', 'eu-west-1', day(10, '10:00:00'), { denied: true }); // outside 7 days
  call(a, 'bob.dev', 'ssmGetParameter', GLOBAL_REGION, day(4, '09:30:00'), {
    error: { code: 'ValidationException', message: 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).' },
  });
  call(a, 'lambda-orders-exec', 'dynamoDescribeTable', 'eu-west-1', day(1, '12:00:00'), {
    error: { code: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' },
  });
  for (const s of ['15:01:00', '15:01:20', '15:02:02', '15:02:30']) call(b, 'ken.contractor', 'ec2DescribeInstances', 'eu-west-1', day(2, s), { denied: true });
  for (const s of ['15:04:00', '15:04:10']) call(b, 'ken.contractor', 's3ListBuckets', GLOBAL_REGION, day(2, s), { denied: true });
  for (const s of ['15:05:00', '15:05:45']) call(b, 'ken.contractor', 'iamListRoles', GLOBAL_REGION, day(2, s), { denied: true });
  for (const s of ['13:30:00', '13:31:30']) call(b, 'gh-actions-deploy', 'cfnCreateStack', 'eu-west-1', day(5, s), { denied: true });
  call(b, 'ingest-lambda-exec', 'iamGetRole', GLOBAL_REGION, day(2, '08:00:00'), {
    error: { code: 'NoSuchEntity', message: 'The role with name legacy-importer cannot be found.' },
  });
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

  // --- Changes the CIS 4.4–4.15 monitoring checks list: each list in both accounts and (but for the global IAM and
  // Organizations, logged in us-east-1 only) in more than one region, refused attempts included, with look-alikes
  // from other services that must not match. The prober's refused StopLogging above is one of them.
  const E = 'eu-west-1';
  const P = 'ap-southeast-2';
  const changes: [AccountActors, string, ActionKey, string, number, boolean?][] = [
    // 4.4 IAM policy changes; an Organizations CreatePolicy/DeletePolicy and Auto Scaling's DeletePolicy are not.
    [a, 'alice.admin', 'iamCreatePolicy', GLOBAL_REGION, day(5, '10:00:00')],
    [a, 'alice.admin', 'iamCreatePolicyVersion', GLOBAL_REGION, day(5, '10:04:12')],
    [a, 'alice.admin', 'iamAttachRolePolicy', GLOBAL_REGION, day(5, '10:06:40')],
    [a, 'bob.dev', 'iamPutUserPolicy', GLOBAL_REGION, day(2, '16:45:00'), true],
    [a, 'alice.admin', 'iamDeletePolicy', GLOBAL_REGION, day(9, '09:30:00')], // outside 7 days
    [b, 'ivan.sre', 'iamPutRolePolicy', GLOBAL_REGION, day(4, '11:20:00')],
    [b, 'ivan.sre', 'iamDetachGroupPolicy', GLOBAL_REGION, day(3, '14:02:33')],
    [b, 'ken.contractor', 'iamAttachUserPolicy', GLOBAL_REGION, day(1, '19:05:00'), true],
    [b, 'ivan.sre', 'autoscalingDeletePolicy', E, day(2, '13:13:13')],
    // 4.5 CloudTrail: a trail stopped and restarted in ap-southeast-2, a refused stop in eu-west-1.
    [a, 'alice.admin', 'cloudtrailUpdateTrail', GLOBAL_REGION, day(4, '09:40:00')],
    [a, 'alice.admin', 'cloudtrailCreateTrail', E, day(6, '15:00:00')],
    [b, 'ken.contractor', 'cloudtrailStopLoggingRegional', E, day(2, '22:10:00'), true],
    [b, 'ivan.sre', 'cloudtrailStopLoggingRegional', P, day(3, '01:02:03')],
    [b, 'ivan.sre', 'cloudtrailStartLogging', P, day(3, '01:24:10')],
    // 4.7 KMS; EnableKey is not in the list.
    [a, 'bob.dev', 'kmsDisableKey', E, day(2, '10:30:00')],
    [a, 'bob.dev', 'kmsEnableKey', E, day(2, '10:41:00')],
    [b, 'ivan.sre', 'kmsScheduleKeyDeletion', P, day(5, '17:00:00')],
    [b, 'ken.contractor', 'kmsScheduleKeyDeletion', E, day(1, '19:07:30'), true],
    // 4.8 S3 (with root's PutBucketPolicy above); PutBucketTagging is not in the list.
    [a, 'carol.ops', 's3PutBucketLifecycle', E, day(3, '12:00:00')],
    [a, 'bob.dev', 's3PutBucketAcl', GLOBAL_REGION, day(4, '08:08:08'), true],
    [b, 'harry.data', 's3DeleteBucketReplication', P, day(2, '07:15:00')],
    [b, 'ivan.sre', 's3PutBucketCors', E, day(6, '16:30:00')],
    [b, 'harry.data', 's3PutBucketTagging', P, day(2, '07:16:00')],
    // 4.9 AWS Config: set up in eu-west-1, the recorder stopped in ap-southeast-2.
    [a, 'alice.admin', 'configPutConfigurationRecorder', E, day(6, '11:00:00')],
    [a, 'alice.admin', 'configPutDeliveryChannel', E, day(6, '11:01:30')],
    [b, 'ivan.sre', 'configStopConfigurationRecorder', P, day(1, '02:00:00')],
    [b, 'ken.contractor', 'configDeleteDeliveryChannel', GLOBAL_REGION, day(2, '22:12:00'), true],
    // 4.10 security groups, one exactly on the 7-day edge (in) and one a second before it (out).
    [a, 'bob.dev', 'ec2CreateSecurityGroup', E, day(1, '14:00:00')],
    [a, 'bob.dev', 'ec2AuthorizeSecurityGroupIngress', E, day(1, '14:00:45')],
    [a, 'carol.ops', 'ec2DeleteSecurityGroup', P, day(5, '09:09:09')],
    [a, 'bob.dev', 'ec2AuthorizeSecurityGroupIngress', P, ago(clock, 7)],
    [a, 'bob.dev', 'ec2AuthorizeSecurityGroupIngress', P, ago(clock, 7, 1)],
    [b, 'ivan.sre', 'ec2RevokeSecurityGroupEgress', P, day(3, '10:10:10')],
    [b, 'ken.contractor', 'ec2AuthorizeSecurityGroupIngress', GLOBAL_REGION, day(2, '22:15:00'), true],
    // 4.11 network ACLs
    [a, 'carol.ops', 'ec2CreateNetworkAclEntry', E, day(4, '13:00:00')],
    [a, 'carol.ops', 'ec2ReplaceNetworkAclAssociation', E, day(4, '13:02:00')],
    [b, 'ivan.sre', 'ec2DeleteNetworkAclEntry', P, day(2, '09:00:00')],
    [b, 'ken.contractor', 'ec2CreateNetworkAcl', GLOBAL_REGION, day(5, '18:00:00'), true],
    // 4.12 network gateways
    [a, 'alice.admin', 'ec2CreateInternetGateway', P, day(3, '15:00:00')],
    [a, 'alice.admin', 'ec2AttachInternetGateway', P, day(3, '15:00:30')],
    [b, 'ivan.sre', 'ec2CreateCustomerGateway', E, day(6, '10:00:00')],
    [b, 'ken.contractor', 'ec2DetachInternetGateway', E, day(1, '19:10:00'), true],
    // 4.13 route tables; API Gateway's CreateRoute is not a network route.
    [a, 'bob.dev', 'ec2CreateRoute', E, day(2, '11:00:00')],
    [a, 'bob.dev', 'ec2ReplaceRouteTableAssociation', E, day(2, '11:01:00')],
    [b, 'ivan.sre', 'ec2CreateRouteTable', P, day(4, '16:00:00')],
    [b, 'ivan.sre', 'ec2DeleteRoute', P, day(4, '16:02:00')],
    [b, 'ken.contractor', 'ec2CreateRoute', GLOBAL_REGION, day(2, '22:25:00'), true],
    [b, 'ivan.sre', 'apigatewayCreateRoute', E, day(3, '09:30:00')],
    // 4.14 VPCs
    [a, 'alice.admin', 'ec2CreateVpc', P, day(3, '14:50:00')],
    [a, 'alice.admin', 'ec2CreateVpcPeeringConnection', E, day(3, '15:30:00')],
    [b, 'ivan.sre', 'ec2AcceptVpcPeeringConnection', E, day(3, '15:45:00')],
    [b, 'ivan.sre', 'ec2ModifyVpcAttribute', P, day(5, '12:00:00')],
    [b, 'ken.contractor', 'ec2DeleteVpc', GLOBAL_REGION, day(2, '22:20:00'), true],
    // 4.15 Organizations: the management account's changes, a member's refused attempt to leave.
    [a, 'alice.admin', 'orgCreatePolicy', GLOBAL_REGION, day(4, '10:00:00')],
    [a, 'alice.admin', 'orgAttachPolicy', GLOBAL_REGION, day(4, '10:02:00')],
    [a, 'alice.admin', 'orgDeletePolicy', GLOBAL_REGION, day(2, '09:00:00')],
    [a, 'alice.admin', 'orgInviteAccount', GLOBAL_REGION, day(6, '08:30:00')],
    [b, 'ivan.sre', 'orgAcceptHandshake', GLOBAL_REGION, day(6, '09:15:00')],
    [b, 'ken.contractor', 'orgLeaveOrganization', GLOBAL_REGION, day(1, '19:12:00'), true],
  ];
  for (const [acct, actor, action, region, ms, denied] of changes) call(acct, actor, action, region, ms, denied ? { denied: true } : {});
  return out;
}
