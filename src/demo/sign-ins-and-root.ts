/**
 * Console sign-ins (success, failure, with and without MFA, hidden user names) and calls made as the
 * account's root user: the records the scripted scenario builds its sign-in and root stories from.
 */
import { host } from './action.js';
import type { Actor } from './actors.js';
import type { CloudTrailRecord, JsonObject, UserIdentity } from './cloudtrail-record.js';
import { GLOBAL_REGION } from './constants.js';
import { BROWSER, BROWSER_WIN, buildRecord, userIdentityOf } from './records.js';
import type { Rng } from './rng.js';
import { SECOND_MS, ctTime } from './time.js';

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
export function consoleLogin(s: SignIn, rng: Rng): CloudTrailRecord {
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
export function signInIdentity(actor: Actor, ms: number, rng: Rng): UserIdentity {
  if (actor.kind === 'user') {
    return { type: 'IAMUser', principalId: actor.id, arn: actor.arn, accountId: actor.account, userName: actor.name };
  }
  return { ...userIdentityOf(actor, ms, rng), accessKeyId: undefined };
}

/** An unknown user name: AWS hides it, and there is no ARN. */
export function hiddenUserIdentity(account: string): UserIdentity {
  return { type: 'IAMUser', principalId: account, accountId: account, accessKeyId: '', userName: 'HIDDEN_DUE_TO_SECURITY_REASONS' };
}

/**
 * Root's identity: a console session by default; `session: false` for a sign-in (no session yet) or a
 * call signed with root's long-term access key (`accessKey`), which carries no session context either.
 */
export function rootIdentity(account: string, ms: number, rng: Rng, o: { session?: boolean; accessKey?: string; invokedBy?: string } = {}): UserIdentity {
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

/** A call made as root, signed by a console session, a long-term access key, or a service acting for root. */
export function rootCall(r: RootCall, rng: Rng): CloudTrailRecord {
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
        : {
            tlsVersion: 'TLSv1.3',
            cipherSuite: 'TLS_AES_128_GCM_SHA256',
            clientProvidedHostHeader: service === 'iam' ? 'iam.amazonaws.com' : host(service, r.region),
          },
      sessionCredentialFromConsole: r.invokedBy === undefined && r.eventType === undefined && r.accessKey === undefined,
    },
    rng,
  );
}
