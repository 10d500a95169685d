/**
 * Shared pieces of the demo data generator and its ground truth: the CloudTrail record shape, the
 * compact per-event record the truth is computed from, a seeded random source and time helpers.
 * Nothing here touches the file system or the clock.
 */

/** Any JSON value, as CloudTrail writes free-form fields (`requestParameters`, …). */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue | undefined;
}

/** `userIdentity.sessionContext` as CloudTrail writes it. */
export interface SessionContext {
  sessionIssuer?: { type: string; principalId: string; arn: string; accountId: string; userName: string };
  webIdFederationData?: JsonObject;
  attributes?: { creationDate: string; mfaAuthenticated: 'true' | 'false' };
  ec2RoleDelivery?: string;
}

export interface UserIdentity {
  /** Absent in some service events (KMS key rotation writes only accountId and invokedBy). */
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  sessionContext?: SessionContext;
  invokedBy?: string;
}

export interface ResourceRef {
  ARN: string;
  accountId: string;
  type: string;
}

/**
 * One CloudTrail management-event record. Keys are CloudTrail's exact camelCase, declared in the order
 * AWS writes them (JSON.stringify keeps insertion order). `undefined` means the key is absent from the
 * file, `null` that it is written as JSON null: AWS does both and readers must cope with either.
 */
export interface CloudTrailRecord {
  eventVersion: string;
  userIdentity: UserIdentity;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters?: JsonObject | null;
  responseElements?: JsonObject | null;
  additionalEventData?: JsonObject;
  requestID?: string;
  eventID: string;
  readOnly?: boolean;
  resources?: ResourceRef[];
  eventType: string;
  apiVersion?: string;
  managementEvent: boolean;
  recipientAccountId: string;
  serviceEventDetails?: JsonObject;
  sharedEventID?: string;
  vpcEndpointId?: string;
  eventCategory: string;
  tlsDetails?: { tlsVersion: string; cipherSuite: string; clientProvidedHostHeader: string };
  sessionCredentialFromConsole?: string;
}

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
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------
// Time

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** CloudTrail's `YYYY-MM-DDTHH:MM:SSZ` for an epoch-millisecond time (milliseconds dropped). */
export function ctTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

/** Parses an ISO time and floors it to the second: event times have whole seconds, so window edges must too. */
export function parseIsoSeconds(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO-8601 time: ${iso}`);
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}

// ---------------------------------------------------------------------------------------------------
// Seeded random source

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';

/**
 * mulberry32: a tiny, fast 32-bit PRNG. Not cryptographic; chosen because the same seed must give the
 * same byte-identical tree on every machine and Node version (Math.random cannot be seeded).
 */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Picks by weight; `weights[i]` belongs to `items[i]`. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      x -= weights[i] ?? 0;
      if (x < 0) return items[i] as T;
    }
    return items[items.length - 1] as T;
  }

  #chars(alphabet: string, n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  alnum(n: number): string {
    return this.#chars(ALNUM, n);
  }

  upperAlnum(n: number): string {
    return this.#chars(UPPER_ALNUM, n);
  }

  hex(n: number): string {
    return this.#chars(HEX, n);
  }

  /** A version-4 UUID, as CloudTrail's eventID and most requestIDs are. */
  uuid(): string {
    const h = this.hex(32);
    const variant = HEX[8 + this.int(4)] ?? '8';
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/** Derives an independent seed from a base seed and a label, so one stream's use never shifts another's. */
export function subSeed(seed: number, label: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  }
  return (h ^ (h >>> 16)) >>> 0;
}
