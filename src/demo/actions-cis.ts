/**
 * The catalog's change actions that the CIS AWS Foundations monitoring controls 4.4–4.15 watch (IAM policies,
 * trails, KMS keys, bucket policies, AWS Config, security groups, NACLs, gateways, routes, VPCs, Organizations),
 * and the look-alikes from other services that must not be mistaken for them (Auto Scaling's DeletePolicy, API
 * Gateway's CreateRoute). Only the script calls them: no actor's mix names them.
 */
import { bucketHost, roleArnOf, type Action, type Ctx } from './action.js';
import { TRAIL_NAME } from './constants.js';
import type { JsonObject } from './cloudtrail-record.js';

const policyArn = (c: Ctx, name: string): string => `arn:aws:iam::${c.world.account}:policy/${name}`;
const trailArn = (c: Ctx): string => `arn:aws:cloudtrail:${c.region}:${c.world.account}:trail/${TRAIL_NAME}`;
const keyId = (c: Ctx): string => c.rng.pick(c.world.keyIds);
const bucket = (c: Ctx): JsonObject => {
  const name = c.rng.pick(c.world.buckets);
  return { bucketName: name, Host: bucketHost(name, c.region) };
};
const sg = (c: Ctx): string => c.rng.pick(c.world.securityGroups);
const vpc = (c: Ctx): string => c.rng.pick(c.world.vpcs);
const hex = (c: Ctx, prefix: string): string => `${prefix}-0${c.rng.hex(16)}`;
const ingress = (c: Ctx, port: number, cidr: string): JsonObject => ({
  groupId: sg(c),
  ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: port, toPort: port, ipRanges: { items: [{ cidrIp: cidr }] } }] },
});
const SCP = 'p-examplescp1';

export const CIS_CHANGE_ACTIONS = {
  // 4.4 IAM policy changes
  iamCreatePolicy: {
    source: 'iam.amazonaws.com',
    name: 'CreatePolicy',
    readOnly: false,
    global: true,
    params: () => ({ policyName: 'deploy-artifacts-write', policyDocument: '{"Version":"2012-10-17","Statement":[]}' }),
  },
  iamCreatePolicyVersion: {
    source: 'iam.amazonaws.com',
    name: 'CreatePolicyVersion',
    readOnly: false,
    global: true,
    params: (c) => ({ policyArn: policyArn(c, 'deploy-artifacts-write'), setAsDefault: true }),
  },
  iamAttachRolePolicy: {
    source: 'iam.amazonaws.com',
    name: 'AttachRolePolicy',
    readOnly: false,
    global: true,
    params: (c) => ({ roleName: c.rng.pick(c.world.roleNames), policyArn: policyArn(c, 'deploy-artifacts-write') }),
  },
  iamDeletePolicy: {
    source: 'iam.amazonaws.com',
    name: 'DeletePolicy',
    readOnly: false,
    global: true,
    params: (c) => ({ policyArn: policyArn(c, 'legacy-s3-read') }),
  },
  iamPutUserPolicy: {
    source: 'iam.amazonaws.com',
    name: 'PutUserPolicy',
    readOnly: false,
    global: true,
    params: (c) => ({ userName: c.rng.pick(c.world.userNames), policyName: 'self-admin', policyDocument: '{"Version":"2012-10-17","Statement":[]}' }),
  },
  iamPutRolePolicy: {
    source: 'iam.amazonaws.com',
    name: 'PutRolePolicy',
    readOnly: false,
    global: true,
    params: (c) => ({ roleName: c.rng.pick(c.world.roleNames), policyName: 'inline-logs', policyDocument: '{"Version":"2012-10-17","Statement":[]}' }),
  },
  iamDetachGroupPolicy: {
    source: 'iam.amazonaws.com',
    name: 'DetachGroupPolicy',
    readOnly: false,
    global: true,
    params: () => ({ groupName: 'developers', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }),
  },
  iamAttachUserPolicy: {
    source: 'iam.amazonaws.com',
    name: 'AttachUserPolicy',
    readOnly: false,
    global: true,
    params: (c) => ({ userName: c.rng.pick(c.world.userNames), policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }),
  },
  // 4.5 CloudTrail configuration changes
  cloudtrailCreateTrail: {
    source: 'cloudtrail.amazonaws.com',
    name: 'CreateTrail',
    readOnly: false,
    params: () => ({ name: 'regional-data-events', s3BucketName: 'acme-regional-trail', isMultiRegionTrail: false }),
  },
  cloudtrailUpdateTrail: {
    source: 'cloudtrail.amazonaws.com',
    name: 'UpdateTrail',
    readOnly: false,
    params: (c) => ({ name: trailArn(c), includeGlobalServiceEvents: true, isMultiRegionTrail: true }),
  },
  cloudtrailStopLoggingRegional: { source: 'cloudtrail.amazonaws.com', name: 'StopLogging', readOnly: false, params: (c) => ({ name: trailArn(c) }) },
  cloudtrailStartLogging: { source: 'cloudtrail.amazonaws.com', name: 'StartLogging', readOnly: false, params: (c) => ({ name: trailArn(c) }) },
  // 4.7 KMS keys disabled or scheduled for deletion, and a key enabled (not in the list)
  kmsDisableKey: { source: 'kms.amazonaws.com', name: 'DisableKey', readOnly: false, params: (c) => ({ keyId: keyId(c) }) },
  kmsScheduleKeyDeletion: {
    source: 'kms.amazonaws.com',
    name: 'ScheduleKeyDeletion',
    readOnly: false,
    params: (c) => ({ keyId: keyId(c), pendingWindowInDays: 7 }),
  },
  kmsEnableKey: { source: 'kms.amazonaws.com', name: 'EnableKey', readOnly: false, params: (c) => ({ keyId: keyId(c) }) },
  // 4.8 S3 bucket policy changes, and a tagging change (not in the list)
  s3PutBucketLifecycle: { source: 's3.amazonaws.com', name: 'PutBucketLifecycle', readOnly: false, s3: true, params: (c) => ({ ...bucket(c), lifecycle: '' }) },
  s3PutBucketAcl: { source: 's3.amazonaws.com', name: 'PutBucketAcl', readOnly: false, s3: true, params: (c) => ({ ...bucket(c), acl: '' }) },
  s3DeleteBucketReplication: {
    source: 's3.amazonaws.com',
    name: 'DeleteBucketReplication',
    readOnly: false,
    s3: true,
    params: (c) => ({ ...bucket(c), replication: '' }),
  },
  s3PutBucketCors: { source: 's3.amazonaws.com', name: 'PutBucketCors', readOnly: false, s3: true, params: (c) => ({ ...bucket(c), cors: '' }) },
  s3PutBucketTagging: { source: 's3.amazonaws.com', name: 'PutBucketTagging', readOnly: false, s3: true, params: (c) => ({ ...bucket(c), tagging: '' }) },
  // 4.9 AWS Config changes
  configPutConfigurationRecorder: {
    source: 'config.amazonaws.com',
    name: 'PutConfigurationRecorder',
    readOnly: false,
    params: (c) => ({
      configurationRecorder: { name: 'default', roleARN: roleArnOf(c.world.account, 'aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig') },
    }),
  },
  configPutDeliveryChannel: {
    source: 'config.amazonaws.com',
    name: 'PutDeliveryChannel',
    readOnly: false,
    params: () => ({ deliveryChannel: { name: 'default', s3BucketName: 'acme-config-history' } }),
  },
  configStopConfigurationRecorder: {
    source: 'config.amazonaws.com',
    name: 'StopConfigurationRecorder',
    readOnly: false,
    params: () => ({ configurationRecorderName: 'default' }),
  },
  configDeleteDeliveryChannel: {
    source: 'config.amazonaws.com',
    name: 'DeleteDeliveryChannel',
    readOnly: false,
    params: () => ({ deliveryChannelName: 'default' }),
  },
  // 4.10 security groups
  ec2AuthorizeSecurityGroupIngress: {
    source: 'ec2.amazonaws.com',
    name: 'AuthorizeSecurityGroupIngress',
    readOnly: false,
    params: (c) => ingress(c, 22, '0.0.0.0/0'),
  },
  ec2CreateSecurityGroup: {
    source: 'ec2.amazonaws.com',
    name: 'CreateSecurityGroup',
    readOnly: false,
    params: (c) => ({ groupName: 'web-tmp', groupDescription: 'temporary', vpcId: vpc(c) }),
  },
  ec2RevokeSecurityGroupEgress: {
    source: 'ec2.amazonaws.com',
    name: 'RevokeSecurityGroupEgress',
    readOnly: false,
    params: (c) => ingress(c, 443, '10.0.0.0/8'),
  },
  ec2DeleteSecurityGroup: { source: 'ec2.amazonaws.com', name: 'DeleteSecurityGroup', readOnly: false, params: (c) => ({ groupId: sg(c) }) },
  // 4.11 network ACLs
  ec2CreateNetworkAclEntry: {
    source: 'ec2.amazonaws.com',
    name: 'CreateNetworkAclEntry',
    readOnly: false,
    params: (c) => ({ networkAclId: hex(c, 'acl'), ruleNumber: 90, egress: false, ruleAction: 'allow', cidrBlock: '0.0.0.0/0' }),
  },
  ec2ReplaceNetworkAclAssociation: {
    source: 'ec2.amazonaws.com',
    name: 'ReplaceNetworkAclAssociation',
    readOnly: false,
    params: (c) => ({ associationId: hex(c, 'aclassoc'), networkAclId: hex(c, 'acl') }),
  },
  ec2DeleteNetworkAclEntry: {
    source: 'ec2.amazonaws.com',
    name: 'DeleteNetworkAclEntry',
    readOnly: false,
    params: (c) => ({ networkAclId: hex(c, 'acl'), ruleNumber: 100, egress: false }),
  },
  ec2CreateNetworkAcl: { source: 'ec2.amazonaws.com', name: 'CreateNetworkAcl', readOnly: false, params: (c) => ({ vpcId: vpc(c) }) },
  // 4.12 network gateways
  ec2CreateInternetGateway: { source: 'ec2.amazonaws.com', name: 'CreateInternetGateway', readOnly: false, params: () => ({}) },
  ec2AttachInternetGateway: {
    source: 'ec2.amazonaws.com',
    name: 'AttachInternetGateway',
    readOnly: false,
    params: (c) => ({ internetGatewayId: hex(c, 'igw'), vpcId: vpc(c) }),
  },
  ec2CreateCustomerGateway: {
    source: 'ec2.amazonaws.com',
    name: 'CreateCustomerGateway',
    readOnly: false,
    params: () => ({ type: 'ipsec.1', ipAddress: '198.51.100.250', bgpAsn: 65000 }),
  },
  ec2DetachInternetGateway: {
    source: 'ec2.amazonaws.com',
    name: 'DetachInternetGateway',
    readOnly: false,
    params: (c) => ({ internetGatewayId: hex(c, 'igw'), vpcId: vpc(c) }),
  },
  // 4.13 route tables, and an API Gateway route (not a network route)
  ec2CreateRoute: {
    source: 'ec2.amazonaws.com',
    name: 'CreateRoute',
    readOnly: false,
    params: (c) => ({ routeTableId: hex(c, 'rtb'), destinationCidrBlock: '0.0.0.0/0', gatewayId: hex(c, 'igw') }),
  },
  ec2ReplaceRouteTableAssociation: {
    source: 'ec2.amazonaws.com',
    name: 'ReplaceRouteTableAssociation',
    readOnly: false,
    params: (c) => ({ associationId: hex(c, 'rtbassoc'), routeTableId: hex(c, 'rtb') }),
  },
  ec2DeleteRoute: {
    source: 'ec2.amazonaws.com',
    name: 'DeleteRoute',
    readOnly: false,
    params: (c) => ({ routeTableId: hex(c, 'rtb'), destinationCidrBlock: '10.20.0.0/16' }),
  },
  ec2CreateRouteTable: { source: 'ec2.amazonaws.com', name: 'CreateRouteTable', readOnly: false, params: (c) => ({ vpcId: vpc(c) }) },
  apigatewayCreateRoute: {
    source: 'apigateway.amazonaws.com',
    name: 'CreateRoute',
    readOnly: false,
    params: (c) => ({ apiId: c.rng.alnum(10).toLowerCase(), routeKey: 'GET /orders' }),
  },
  // 4.14 VPCs
  ec2CreateVpc: { source: 'ec2.amazonaws.com', name: 'CreateVpc', readOnly: false, params: () => ({ cidrBlock: '10.42.0.0/16' }) },
  ec2CreateVpcPeeringConnection: {
    source: 'ec2.amazonaws.com',
    name: 'CreateVpcPeeringConnection',
    readOnly: false,
    params: (c) => ({ vpcId: vpc(c), peerVpcId: hex(c, 'vpc'), peerOwnerId: '333333333333' }),
  },
  ec2AcceptVpcPeeringConnection: {
    source: 'ec2.amazonaws.com',
    name: 'AcceptVpcPeeringConnection',
    readOnly: false,
    params: (c) => ({ vpcPeeringConnectionId: hex(c, 'pcx') }),
  },
  ec2ModifyVpcAttribute: {
    source: 'ec2.amazonaws.com',
    name: 'ModifyVpcAttribute',
    readOnly: false,
    params: (c) => ({ vpcId: vpc(c), enableDnsHostnames: { value: true } }),
  },
  ec2DeleteVpc: { source: 'ec2.amazonaws.com', name: 'DeleteVpc', readOnly: false, params: (c) => ({ vpcId: vpc(c) }) },
  // 4.15 Organizations (a global service), and Auto Scaling's DeletePolicy (a scaling policy, not IAM's)
  orgCreatePolicy: {
    source: 'organizations.amazonaws.com',
    name: 'CreatePolicy',
    readOnly: false,
    global: true,
    params: () => ({ name: 'deny-leave-org', type: 'SERVICE_CONTROL_POLICY', content: '{"Version":"2012-10-17","Statement":[]}' }),
  },
  orgAttachPolicy: {
    source: 'organizations.amazonaws.com',
    name: 'AttachPolicy',
    readOnly: false,
    global: true,
    params: () => ({ policyId: SCP, targetId: 'ou-a1b2-c3d4e5f6' }),
  },
  orgDeletePolicy: { source: 'organizations.amazonaws.com', name: 'DeletePolicy', readOnly: false, global: true, params: () => ({ policyId: 'p-oldscp0001' }) },
  orgInviteAccount: {
    source: 'organizations.amazonaws.com',
    name: 'InviteAccountToOrganization',
    readOnly: false,
    global: true,
    params: () => ({ target: { id: '333333333333', type: 'ACCOUNT' } }),
  },
  orgAcceptHandshake: {
    source: 'organizations.amazonaws.com',
    name: 'AcceptHandshake',
    readOnly: false,
    global: true,
    params: () => ({ handshakeId: 'h-a1b2c3d4e5' }),
  },
  orgLeaveOrganization: { source: 'organizations.amazonaws.com', name: 'LeaveOrganization', readOnly: false, global: true, params: () => null },
  autoscalingDeletePolicy: {
    source: 'autoscaling.amazonaws.com',
    name: 'DeletePolicy',
    readOnly: false,
    params: () => ({ autoScalingGroupName: 'web-asg', policyName: 'scale-out-cpu' }),
  },
} satisfies Record<string, Action>;
