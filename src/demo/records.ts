/**
 * Building CloudTrail records: keys in CloudTrail's own order, user agents, TLS details and the identity of
 * a user or role session; `apiCall` makes one call from the catalog as an actor.
 */
import { host, type Action, type Ctx } from './action.js';
import { NAT_IPS, type Actor, type AgentKind } from './actors.js';
import { ACTIONS, type ActionKey } from './catalog.js';
import type { CloudTrailRecord, JsonObject, ResourceRef, UserIdentity } from './cloudtrail-record.js';
import type { Rng } from './rng.js';
import { SECOND_MS, ctTime } from './time.js';
import type { World } from './world.js';

const EVENT_VERSIONS = ['1.08', '1.09', '1.10', '1.11'];
const EVENT_VERSION_WEIGHTS = [15, 35, 20, 30];
export const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
export const BROWSER_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

function kebab(name: string): string {
  return name
    .replace(/\d+(v\d+)?$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

/** The user agent an SDK, the CLI, Terraform or the console sends for this action. */
export function userAgent(kind: AgentKind, action: Action, rng: Rng): string {
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

/** The additionalEventData S3 writes for every call. */
export function s3Extra(rng: Rng): JsonObject {
  return {
    SignatureVersion: 'SigV4',
    CipherSuite: 'TLS_AES_128_GCM_SHA256',
    bytesTransferredIn: 0,
    AuthenticationMethod: 'AuthHeader',
    'x-amz-id-2': `${rng.alnum(56)}/${rng.alnum(19)}=`,
    bytesTransferredOut: rng.between(120, 4000),
  };
}

export interface RecordSpec {
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
export function buildRecord(s: RecordSpec, rng: Rng): CloudTrailRecord {
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

/** The identity of a call by an IAM user or a role session, with a fresh session where there is one. */
export function userIdentityOf(actor: Actor, ms: number, rng: Rng): UserIdentity {
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

export interface ApiCallOptions {
  userAgent?: string;
  sourceIP?: string;
  error?: { code: string; message: string };
  denied?: boolean;
  identity?: UserIdentity;
}

/** A call by a user or role session, with the action's own parameters. */
export function apiCall(actor: Actor, actionKey: ActionKey, world: World, region: string, ms: number, rng: Rng, o: ApiCallOptions = {}): CloudTrailRecord {
  const action: Action = ACTIONS[actionKey];
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
