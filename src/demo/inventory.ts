/**
 * The demo's IAM inventory: one `aws iam get-account-authorization-details` document per account, consistent with
 * the actors of its logs, plus what the inventory checks must tell apart — a role nobody used, a service-linked role
 * and its look-alike twin in the other account, a role created inside the lookback, a role used only through
 * AssumeRole, a role the logs never show but IAM's RoleLastUsed says was used, and a user created last week. The
 * policies hold wildcards, a NotAction, an unconditional and a conditional Deny, inline policies, an old policy
 * version, and AWS managed policies both present and missing from the file. Account 111111111111's documents are
 * JSON objects (as the CLI writes them), 222222222222's URL-encoded text (as the raw API and the SDK return them).
 */
import type { AccountActors } from './actors.js';
import { DEMO_ACCOUNTS } from './constants.js';
import { ASSUME_ONLY_ROLE } from './inventory-events.js';
import { DAY_MS, ctTime, type Clock } from './time.js';

type Json = Record<string, unknown>;

const statement = (effect: 'Allow' | 'Deny', actions: string[], extra: Json = {}): Json => ({ Effect: effect, Action: actions, Resource: '*', ...extra });
const policy = (...statements: Json[]): Json => ({ Version: '2012-10-17', Statement: statements });

/** Customer managed policies, by name. */
const CUSTOMER_POLICIES: Record<string, Json> = {
  'ci-deploy': policy(
    statement('Allow', [
      'cloudformation:Describe*',
      'cloudformation:CreateChangeSet',
      'cloudformation:ExecuteChangeSet',
      'cloudformation:GetTemplate',
      'lambda:UpdateFunctionCode',
      'lambda:GetFunction',
      'ecr:GetAuthorizationToken',
      'ecr:DescribeImages',
      'ecr:BatchGetImage',
      's3:GetBucketLocation',
      's3:GetObject',
      's3:PutObject',
      'iam:GetRole',
      'iam:PassRole',
      'sts:GetCallerIdentity',
    ]),
  ),
  'data-access': policy(
    statement('Allow', [
      'athena:StartQueryExecution',
      'athena:GetQueryExecution',
      'athena:GetQueryResults',
      'glue:GetTable',
      'glue:GetTables',
      'glue:GetDatabase',
      'glue:StartJobRun',
      's3:*',
      'dynamodb:DescribeTable',
      'kms:Decrypt',
    ]),
    // Unconditional, on every resource: removes every s3:Delete* the s3:* above grants.
    statement('Deny', ['s3:Delete*']),
    // Conditional: removes nothing (the action stays granted when the condition does not hold).
    statement('Deny', ['s3:PutBucketPolicy'], { Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'false' } } }),
  ),
  'audit-readonly': policy(
    statement('Allow', [
      'iam:GenerateCredentialReport',
      'iam:Get*',
      'iam:List*',
      's3:GetBucket*',
      's3:GetEncryptionConfiguration',
      'cloudtrail:*',
      'config:Describe*',
      'securityhub:GetFindings',
      'kms:DescribeKey',
    ]),
    // Everything but reads is denied: cloudtrail:* keeps only its Describe/Get/List/LookupEvents actions.
    {
      Effect: 'Deny',
      NotAction: [
        'iam:Get*',
        'iam:List*',
        's3:Get*',
        'cloudtrail:Describe*',
        'cloudtrail:Get*',
        'cloudtrail:List*',
        'cloudtrail:LookupEvents',
        'config:*',
        'securityhub:*',
        'kms:DescribeKey',
      ],
      Resource: '*',
    },
  ),
  'metrics-read': policy(
    statement('Allow', [
      'cloudwatch:GetMetricData',
      'cloudwatch:DescribeAlarms',
      'cloudwatch:ListMetrics',
      'ec2:DescribeInstances',
      'rds:DescribeDBInstances',
      'elasticloadbalancing:DescribeTargetHealth',
    ]),
  ),
  'billing-read': policy(statement('Allow', ['ce:GetCostAndUsage', 'ce:GetCostForecast', 's3:ListAllMyBuckets'])),
  'incident-response': policy(
    statement('Allow', [
      'iam:ListAccessKeys',
      'iam:GetUser',
      'cloudtrail:DescribeTrails',
      'ec2:DescribeInstances',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeVpcs',
      'ec2:DescribeSubnets',
      's3:ListAllMyBuckets',
    ]),
  ),
  'legacy-etl': policy(statement('Allow', ['s3:GetBucketLocation', 's3:GetObject', 'dynamodb:DescribeTable', 'rds:DescribeDBInstances'])),
  'developer-read': policy(
    statement('Allow', ['ec2:Describe*', 'lambda:GetFunction', 'cloudformation:DescribeStacks', 'logs:DescribeLogGroups', 's3:ListAllMyBuckets']),
  ),
};

/** AWS managed policies the file holds (attached ones the call returned). */
const AWS_POLICIES_PRESENT: Record<string, Json> = {
  AWSLambdaBasicExecutionRole: policy(statement('Allow', ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'])),
  AmazonEC2ContainerRegistryReadOnly: policy(
    statement('Allow', [
      'ecr:GetAuthorizationToken',
      'ecr:BatchCheckLayerAvailability',
      'ecr:GetDownloadUrlForLayer',
      'ecr:DescribeRepositories',
      'ecr:ListImages',
      'ecr:DescribeImages',
      'ecr:BatchGetImage',
    ]),
  ),
};

// Attached but absent from the file, so their actions are unknown: AdministratorAccess, ReadOnlyAccess,
// AWSBackupServiceRolePolicyForBackup, AWSSupportServiceRolePolicy.

const awsPolicyArn = (name: string, path = '/'): string => `arn:aws:iam::aws:policy${path}${name}`;
const awsPath = (name: string): string =>
  name === 'AWSLambdaBasicExecutionRole' || name === 'AWSBackupServiceRolePolicyForBackup'
    ? '/service-role/'
    : name === 'AWSSupportServiceRolePolicy'
      ? '/aws-service-role/'
      : '/';

/** What each role gets: customer and AWS managed policies by name, and inline policies. */
interface Grant {
  customer?: string[];
  aws?: string[];
  inline?: Record<string, Json>;
  lastUsedDaysAgo?: number;
  createdDaysAgo?: number;
  instanceProfile?: boolean;
}

function grantsOf(roleName: string): Grant {
  if (/^(ci-deployer|gh-actions-deploy)$/.test(roleName)) return { customer: ['ci-deploy'] };
  if (/^(lambda-orders-exec|ingest-lambda-exec)$/.test(roleName)) {
    return {
      aws: ['AWSLambdaBasicExecutionRole'],
      inline: {
        'orders-runtime': policy(
          statement('Allow', [
            'kms:Decrypt',
            'kms:GenerateDataKey',
            'dynamodb:DescribeTable',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'secretsmanager:GetSecretValue',
            'ssm:GetParameter',
            'ssm:GetParameters',
          ]),
        ),
      },
    };
  }
  if (/^(eks-node-group|batch-compute-node)$/.test(roleName)) {
    return {
      aws: ['AmazonEC2ContainerRegistryReadOnly'],
      inline: {
        'node-describe': policy(
          statement('Allow', [
            'ec2:DescribeInstances',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeVolumes',
            'ssm:UpdateInstanceInformation',
            'eks:DescribeCluster',
            'autoscaling:Describe*',
          ]),
        ),
      },
      instanceProfile: true,
    };
  }
  if (roleName.startsWith('AWSReservedSSO_AdministratorAccess')) return { aws: ['AdministratorAccess'] };
  if (roleName.startsWith('AWSReservedSSO_ReadOnlyAccess')) return { aws: ['ReadOnlyAccess'] };
  if (/^(data-pipeline|analytics-etl)$/.test(roleName)) return { customer: ['data-access'] };
  if (roleName === 'security-audit') return { customer: ['audit-readonly'] };
  if (/^(monitoring-collector|prometheus-exporter)$/.test(roleName)) return { customer: ['metrics-read'] };
  if (/^(billing-reader|finops-reader)$/.test(roleName)) return { customer: ['billing-read'] };
  if (/^(incident-responder|breakglass-admin)$/.test(roleName)) return { customer: ['incident-response'] };
  if (/^(legacy-etl|old-reporting)$/.test(roleName)) return { customer: ['legacy-etl'] };
  if (roleName === 'AWSBackupDefaultServiceRole') return { aws: ['AWSBackupServiceRolePolicyForBackup'] };
  if (roleName === 'OrganizationAccountAccessRole') return { aws: ['AdministratorAccess'] };
  throw new Error(`demo inventory: no grants for role ${roleName}`);
}

/** Roles only the inventory knows of (the logs never show their sessions), per account: name, path and grants. */
function extraRoles(account: string): { name: string; path: string; grant: Grant }[] {
  if (account === DEMO_ACCOUNTS[0]) {
    return [
      { name: 'old-jenkins', path: '/', grant: { customer: ['ci-deploy'] } },
      { name: 'AWSServiceRoleForSupport', path: '/aws-service-role/support.amazonaws.com/', grant: { aws: ['AWSSupportServiceRolePolicy'] } },
      { name: 'new-analytics', path: '/', grant: { customer: ['data-access'], createdDaysAgo: 10 } },
      { name: 'quarterly-report', path: '/', grant: { customer: ['billing-read'], lastUsedDaysAgo: 40 } },
    ];
  }
  return [
    // Not service-linked, whatever its name says: only the path /aws-service-role/ makes a role service-linked.
    { name: 'AWSServiceRoleForSupport', path: '/', grant: { aws: ['AWSSupportServiceRolePolicy'] } },
    { name: ASSUME_ONLY_ROLE, path: '/', grant: { inline: { 'upload-objects': policy(statement('Allow', ['s3:PutObject', 's3:GetObject'])) } } },
  ];
}

const USER_GROUPS: Record<string, string[]> = {
  'alice.admin': ['admins'],
  'bob.dev': ['developers'],
  'carol.ops': ['developers', 'operators'],
  'dave.readonly': ['developers'],
  'erin.audit': ['auditors'],
  'frank.legacy': ['developers'],
  'ken.contractor': ['developers'],
  'judy.security': ['auditors'],
  'lena.intern': ['developers'],
};

/** The demo's inventory documents, by account, as the text of each file. */
export function demoInventory(clock: Clock, accounts: readonly AccountActors[]): { account: string; text: string }[] {
  const created = (daysAgo: number): string => `${ctTime(clock.midnightMs - daysAgo * DAY_MS).slice(0, 19)}+00:00`;
  return accounts.map(({ world, roles, users }, accountIndex) => {
    const account = world.account;
    // 222222222222's documents arrive URL-encoded, as GetAccountAuthorizationDetails itself returns them.
    const doc = (json: Json): unknown => (accountIndex === 0 ? json : encodeURIComponent(JSON.stringify(json)));
    const customerArn = (name: string): string => `arn:aws:iam::${account}:policy/${name}`;
    const role = (name: string, path: string, arn: string, grant: Grant, index: number): Json => ({
      Path: path,
      RoleName: name,
      RoleId: `AROA${account.slice(0, 6)}${String(index).padStart(11, '0')}`,
      Arn: arn,
      CreateDate: created(grant.createdDaysAgo ?? 400 + index * 7),
      AssumeRolePolicyDocument: doc(policy({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' })),
      InstanceProfileList: grant.instanceProfile
        ? [{ Path: '/', InstanceProfileName: name, Arn: `arn:aws:iam::${account}:instance-profile/${name}`, Roles: [] }]
        : [],
      RolePolicyList: Object.entries(grant.inline ?? {}).map(([PolicyName, document]) => ({ PolicyName, PolicyDocument: doc(document) })),
      AttachedManagedPolicies: [
        ...(grant.customer ?? []).map((p) => ({ PolicyName: p, PolicyArn: customerArn(p) })),
        ...(grant.aws ?? []).map((p) => ({ PolicyName: p, PolicyArn: awsPolicyArn(p, awsPath(p)) })),
      ],
      Tags: [],
      RoleLastUsed: grant.lastUsedDaysAgo === undefined ? {} : { LastUsedDate: created(grant.lastUsedDaysAgo), Region: 'us-east-1' },
    });
    const roleList = [
      ...roles.map((r, i) => {
        const slash = r.pathName.lastIndexOf('/');
        return role(r.name, slash === -1 ? '/' : `/${r.pathName.slice(0, slash + 1)}`, r.arn, grantsOf(r.name), i);
      }),
      ...extraRoles(account).map((r, i) => role(r.name, r.path, `arn:aws:iam::${account}:role${r.path}${r.name}`, r.grant, roles.length + i)),
    ];
    const userList = [
      ...users.map((u, i) => ({
        Path: '/',
        UserName: u.name,
        UserId: u.id,
        Arn: u.arn,
        CreateDate: created(500 + i * 11),
        UserPolicyList: [],
        GroupList: USER_GROUPS[u.name] ?? [],
        AttachedManagedPolicies: [],
        Tags: [],
      })),
      ...(accountIndex === 0
        ? [
            {
              Path: '/',
              UserName: 'new.hire',
              UserId: 'AIDANEWHIRE0000000001',
              Arn: `arn:aws:iam::${account}:user/new.hire`,
              CreateDate: created(5),
              UserPolicyList: [],
              GroupList: ['developers'],
              AttachedManagedPolicies: [],
              Tags: [],
            },
          ]
        : []),
    ];
    const groups = [...new Set(Object.values(USER_GROUPS).flat())].sort().map((name) => ({
      Path: '/',
      GroupName: name,
      GroupId: `AGPA${name.toUpperCase().padEnd(17, 'X').slice(0, 17)}`,
      Arn: `arn:aws:iam::${account}:group/${name}`,
      CreateDate: created(800),
      GroupPolicyList: [],
      AttachedManagedPolicies: name === 'developers' ? [{ PolicyName: 'developer-read', PolicyArn: customerArn('developer-read') }] : [],
    }));
    const used = new Set(roleList.flatMap((r) => (r.AttachedManagedPolicies as { PolicyArn: string }[]).map((p) => p.PolicyArn)));
    used.add(customerArn('developer-read'));
    const policies = [
      ...Object.entries(CUSTOMER_POLICIES).map(([name, document]) => ({ name, arn: customerArn(name), path: '/', document })),
      ...Object.entries(AWS_POLICIES_PRESENT).map(([name, document]) => ({ name, arn: awsPolicyArn(name, awsPath(name)), path: awsPath(name), document })),
    ]
      .filter((p) => used.has(p.arn))
      .map((p, i) => ({
        PolicyName: p.name,
        PolicyId: `ANPA${account.slice(0, 6)}${String(i).padStart(11, '0')}`,
        Arn: p.arn,
        Path: p.path,
        DefaultVersionId: 'v2',
        AttachmentCount: 1,
        PermissionsBoundaryUsageCount: 0,
        IsAttachable: true,
        CreateDate: created(700),
        UpdateDate: created(300),
        // v1 granted everything; only the default version counts.
        PolicyVersionList: [
          { Document: doc(p.document), VersionId: 'v2', IsDefaultVersion: true, CreateDate: created(300) },
          { Document: doc(policy(statement('Allow', ['*']))), VersionId: 'v1', IsDefaultVersion: false, CreateDate: created(700) },
        ],
      }));
    const document = { UserDetailList: userList, GroupDetailList: groups, RoleDetailList: roleList, Policies: policies };
    return { account, text: `${JSON.stringify(document, null, 2)}\n` };
  });
}
