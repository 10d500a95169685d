/**
 * The compact per-event record the demo's ground truth is computed from, and how a CloudTrail record is
 * flattened into one the way the SQL sees it. Test support: the shipped generator knows nothing of it.
 */
import type { JsonValue } from '../../src/demo/cloudtrail-record.js';

/**
 * The compact form of one event: only what the checks read, already flattened the way the SQL sees it
 * (`null` = SQL NULL). `account` comes from the file path, as the `account` column of `cloudtrail_window`.
 * Kept small on purpose: a million of these must fit in memory.
 */
export interface TruthEvent {
  account: string;
  eventID: string | null;
  eventTime: string | null;
  eventSource: string | null;
  eventName: string | null;
  awsRegion: string | null;
  sourceIPAddress: string | null;
  userAgent: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  eventType: string | null;
  /** `useridentity.type`, `.arn`, `.username`, `.principalid`, `.accountid`, `.invokedby` */
  identityType: string | null;
  arn: string | null;
  userName: string | null;
  principalId: string | null;
  identityAccountId: string | null;
  invokedBy: string | null;
  /** `useridentity.sessioncontext.sessionissuer.type`, `.arn`, `.accountid` */
  issuerType: string | null;
  issuerArn: string | null;
  issuerAccountId: string | null;
  /** `useridentity.sessioncontext.attributes.mfaauthenticated` */
  mfaAuthenticated: string | null;
  /** `json_extract_scalar(responseelements, '$.ConsoleLogin')` */
  consoleLogin: string | null;
  /** `json_extract_scalar(additionaleventdata, '$.MFAUsed')` */
  mfaUsed: string | null;
  /** `eventcategory` */
  eventCategory: string | null;
  /** `json_extract_scalar(requestparameters, '$.roleArn')` */
  requestRoleArn: string | null;
}

/**
 * Trino's `json_extract_scalar(json, '$.key')` on a parsed object: the text of a scalar member; NULL when
 * the member is missing, JSON null, an object or an array (Trino returns NULL for non-scalars).
 */
export function jsonScalar(container: JsonValue | undefined, key: string): string | null {
  if (container === null || container === undefined || typeof container !== 'object' || Array.isArray(container)) {
    return null;
  }
  const value = container[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** A string field as SQL sees it: anything that is not a string (absent, null) is NULL. */
function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * Flattens a record (as parsed from a delivery file, or as about to be written) into a TruthEvent.
 * Takes `unknown` so a test can feed it records read back from disk without trusting their shape.
 */
export function toTruthEvent(record: unknown, account: string): TruthEvent {
  const r = isObject(record) ? record : {};
  const identity = isObject(r.userIdentity) ? r.userIdentity : {};
  const session = isObject(identity.sessionContext) ? identity.sessionContext : {};
  const issuer = isObject(session.sessionIssuer) ? session.sessionIssuer : {};
  const attributes = isObject(session.attributes) ? session.attributes : {};
  return {
    account,
    eventID: text(r.eventID),
    eventTime: text(r.eventTime),
    eventSource: text(r.eventSource),
    eventName: text(r.eventName),
    awsRegion: text(r.awsRegion),
    sourceIPAddress: text(r.sourceIPAddress),
    userAgent: text(r.userAgent),
    errorCode: text(r.errorCode),
    errorMessage: text(r.errorMessage),
    eventType: text(r.eventType),
    identityType: text(identity.type),
    arn: text(identity.arn),
    userName: text(identity.userName),
    principalId: text(identity.principalId),
    identityAccountId: text(identity.accountId),
    invokedBy: text(identity.invokedBy),
    issuerType: text(issuer.type),
    issuerArn: text(issuer.arn),
    issuerAccountId: text(issuer.accountId),
    mfaAuthenticated: text(attributes.mfaAuthenticated),
    consoleLogin: jsonScalar(r.responseElements as JsonValue | undefined, 'ConsoleLogin'),
    mfaUsed: jsonScalar(r.additionalEventData as JsonValue | undefined, 'MFAUsed'),
    eventCategory: text(r.eventCategory),
    requestRoleArn: jsonScalar(r.requestParameters as JsonValue | undefined, 'roleArn'),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Makes truth records share their repeated strings. A million events name only a few thousand distinct
 * ARNs, agents and IPs, but each record built its own copy; sharing them saves hundreds of megabytes.
 */
export function interner(): (event: TruthEvent) => TruthEvent {
  const seen = new Map<string, string>();
  const share = (value: string | null): string | null => {
    if (value === null) return null;
    const known = seen.get(value);
    if (known !== undefined) return known;
    seen.set(value, value);
    return value;
  };
  return (e) => {
    for (const key of INTERNED) e[key] = share(e[key]);
    return e;
  };
}

/** Every string field of a TruthEvent but the unique ones (eventID, eventTime) and the account. */
const INTERNED = [
  'eventSource',
  'eventName',
  'awsRegion',
  'sourceIPAddress',
  'userAgent',
  'errorCode',
  'errorMessage',
  'eventType',
  'identityType',
  'arn',
  'userName',
  'principalId',
  'identityAccountId',
  'invokedBy',
  'issuerType',
  'issuerArn',
  'issuerAccountId',
  'mfaAuthenticated',
  'consoleLogin',
  'mfaUsed',
  'eventCategory',
  'requestRoleArn',
] as const satisfies readonly (keyof TruthEvent)[];
