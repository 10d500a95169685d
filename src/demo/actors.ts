/**
 * Who acts in each demo account: its IAM users and roles, with their activity profiles (when they are
 * active relative to asOf), action mixes, user agents and source IPs.
 */
import { roleArnOf } from './action.js';
import type { Mix } from './catalog.js';
import { DEMO_ACCOUNTS } from './constants.js';
import { Rng, subSeed } from './rng.js';
import { ago, type Clock } from './time.js';
import { makeWorld, type World } from './world.js';

export type AgentKind = 'cli' | 'boto' | 'go' | 'terraform' | 'js' | 'console' | 'kubelet';

/**
 * When an actor is active, relative to asOf. `until8d` stops 8 days before asOf, so it is absent from
 * a 7-day window even one day earlier; `stale` stops 32 days before asOf, outside a 30-day window.
 */
export type Profile = 'always' | 'until8d' | 'mid' | 'brief' | 'stale' | 'never';

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

export interface UserActor extends ActorBase {
  kind: 'user';
  arn: string;
  id: string;
  accessKey: string;
}

export interface RoleActor extends ActorBase {
  kind: 'role';
  /** Path plus name, e.g. `service-role/lambda-orders-exec`. */
  pathName: string;
  arn: string;
  id: string;
  sessionNames: string[];
  /** A service acting with the role (AWS Backup…). */
  invokedBy?: string;
}

export type Actor = UserActor | RoleActor;

export interface ActiveRange {
  from: number;
  to: number;
}

/** The times, relative to asOf, an actor with this profile makes calls. */
export function activeRange(profile: Profile, c: Clock): ActiveRange {
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

export const OFFICE_IPS = ['203.0.113.10', '203.0.113.11', '203.0.113.24', '203.0.113.57'];
const CI_IPS = ['192.0.2.15', '192.0.2.16', '192.0.2.88'];
export const NAT_IPS = ['198.51.100.4', '198.51.100.5', '198.51.100.6'];
export const ATTACKER_IP = '198.51.100.77';

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
  const admin: Mix = {
    ...READ_INFRA,
    iamListRoles: 2,
    iamGetRole: 2,
    iamListAttachedRolePolicies: 1,
    iamGetUser: 1,
    cloudtrailDescribeTrails: 1,
    securityhubGetFindings: 1,
  };
  const bot: Mix = {
    s3ListBuckets: 2,
    s3GetBucketLocation: 2,
    ec2DescribeInstances: 3,
    monitoringGetMetricData: 3,
    ssmGetParameter: 2,
    stsGetCallerIdentity: 1,
  };
  const audit: Mix = {
    iamGetAccountSummary: 1,
    iamListUsers: 2,
    iamListAccessKeys: 2,
    iamListPolicies: 1,
    iamGetPolicyVersion: 1,
    configDescribeRules: 1,
    s3GetBucketPolicy: 2,
  };
  if (account === DEMO_ACCOUNTS[0]) {
    return [
      { name: 'alice.admin', profile: 'always', weight: 3, mix: admin, agent: 'console', ips: OFFICE_IPS, console: true, mfa: true },
      { name: 'bob.dev', profile: 'always', weight: 4, mix: dev, agent: 'cli', ips: OFFICE_IPS },
      {
        name: 'carol.ops',
        profile: 'always',
        weight: 3,
        mix: { ...READ_INFRA, monitoringDescribeAlarms: 2, rdsDescribeDBInstances: 1 },
        agent: 'console',
        ips: OFFICE_IPS,
        console: true,
      },
      { name: 'dave.readonly', profile: 'until8d', weight: 2, mix: READ_INFRA, agent: 'cli', ips: OFFICE_IPS },
      { name: 'erin.audit', profile: 'stale', weight: 2, mix: audit, agent: 'boto', ips: OFFICE_IPS },
      { name: 'frank.legacy', profile: 'never', weight: 1, mix: READ_INFRA, agent: 'cli', ips: OFFICE_IPS },
      // A name that is a spreadsheet formula: reports and CSV evidence must neutralise it.
      { name: '=ops-bot', profile: 'always', weight: 5, mix: bot, agent: 'boto', ips: NAT_IPS },
      { name: 'Svc-Reporting', profile: 'always', weight: 2, mix: { athenaStartQuery: 3, glueGetTable: 2, s3GetBucketLocation: 1 }, agent: 'js', ips: NAT_IPS },
    ];
  }
  return [
    {
      name: 'gina.finance',
      profile: 'always',
      weight: 2,
      mix: { ceGetCostAndUsage: 3, s3ListBuckets: 1, stsGetCallerIdentity: 1 },
      agent: 'console',
      ips: OFFICE_IPS,
      console: true,
    },
    {
      name: 'harry.data',
      profile: 'always',
      weight: 4,
      mix: { athenaStartQuery: 3, glueGetTable: 3, glueStartJobRun: 1, s3GetBucketLocation: 2, dynamoDescribeTable: 1 },
      agent: 'boto',
      ips: OFFICE_IPS,
    },
    {
      name: 'ivan.sre',
      profile: 'always',
      weight: 4,
      mix: { ...READ_INFRA, eksDescribeCluster: 2, autoscalingDescribe: 1, monitoringDescribeAlarms: 2 },
      agent: 'cli',
      ips: OFFICE_IPS,
    },
    { name: 'judy.security', profile: 'until8d', weight: 2, mix: audit, agent: 'cli', ips: OFFICE_IPS },
    { name: 'ken.contractor', profile: 'always', weight: 2, mix: dev, agent: 'cli', ips: ['198.51.100.140'] },
    { name: '=ops-bot', profile: 'always', weight: 5, mix: bot, agent: 'boto', ips: NAT_IPS },
    {
      name: 'old-migration',
      profile: 'stale',
      weight: 2,
      mix: { dynamoDescribeTable: 2, s3GetBucketLocation: 1, rdsDescribeDBInstances: 1 },
      agent: 'go',
      ips: NAT_IPS,
    },
    { name: 'lena.intern', profile: 'never', weight: 1, mix: READ_INFRA, agent: 'console', ips: OFFICE_IPS },
  ];
}

const instanceSessions =
  (n: number) =>
  (rng: Rng): string[] =>
    Array.from({ length: n }, () => `i-0${rng.hex(16)}`);
const fixedSessions =
  (...names: string[]) =>
  (): string[] =>
    names;
const botoSessions =
  (n: number) =>
  (rng: Rng): string[] =>
    Array.from({ length: n }, () => `botocore-session-${1_790_000_000 + rng.int(9_000_000)}`);

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
      mix: {
        cfnDescribeStacks: 3,
        cfnCreateChangeSet: 1,
        cfnGetTemplate: 1,
        lambdaUpdateCode: 1,
        ecrGetAuthorizationToken: 2,
        ecrDescribeImages: 2,
        stsGetCallerIdentity: 2,
        s3GetBucketLocation: 1,
        iamGetRole: 1,
      },
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
      mix: {
        ec2DescribeInstances: 3,
        ec2DescribeNetworkInterfaces: 2,
        ec2DescribeVolumes: 1,
        ecrGetAuthorizationToken: 3,
        ssmUpdateInstanceInformation: 2,
        eksDescribeCluster: 1,
        autoscalingDescribe: 1,
      },
      agent: 'kubelet',
      ips: NAT_IPS,
      sessions: instanceSessions(6),
    },
    sso(
      'AdministratorAccess',
      first ? '5a1b2c3d4e5f6a7b' : '0f9e8d7c6b5a4f3e',
      first ? ['jane.doe@example.com', 'omar.haddad@example.com'] : ['sam.lee@example.com'],
      {
        ...READ_INFRA,
        iamListRoles: 1,
        iamGetRole: 1,
        cloudtrailDescribeTrails: 1,
        monitoringDescribeAlarms: 1,
        s3GetBucketPolicy: 1,
      },
    ),
    sso(
      'ReadOnlyAccess',
      first ? '9c8b7a6f5e4d3c2b' : '1a2b3c4d5e6f7a8b',
      first ? ['li.wei@example.com'] : ['sam.lee@example.com', 'rosa.garcia@example.com'],
      {
        ...READ_INFRA,
        rdsDescribeDBInstances: 1,
        dynamoListTables: 1,
        lambdaList: 1,
      },
    ),
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
      mix: {
        iamGetAccountSummary: 1,
        iamListRoles: 1,
        iamListAttachedRolePolicies: 2,
        s3GetBucketPolicy: 2,
        s3GetBucketAcl: 2,
        s3GetBucketEncryption: 1,
        s3GetBucketVersioning: 1,
        cloudtrailGetTrailStatus: 1,
        configDescribeRules: 1,
        securityhubGetFindings: 1,
        kmsDescribeKey: 1,
      },
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

export interface AccountActors {
  world: World;
  users: UserActor[];
  roles: RoleActor[];
}

/** One account's world, users and roles, drawn from a stream of its own so neither account shifts the other. */
export function buildAccount(account: string, seed: number): AccountActors {
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
  const users = userSpecs.map((u): UserActor => ({
    ...u,
    kind: 'user',
    account,
    arn: `arn:aws:iam::${account}:user/${u.name}`,
    id: `AIDA${rng.upperAlnum(17)}`,
    accessKey: `AKIA${rng.upperAlnum(16)}`,
  }));
  const roles = roleSpecs.map(({ sessions, ...r }): RoleActor => ({
    ...r,
    kind: 'role',
    account,
    arn: roleArnOf(account, r.pathName),
    id: `AROA${rng.upperAlnum(17)}`,
    sessionNames: sessions(rng),
  }));
  return { world, users, roles };
}
