/**
 * What one entry of the demo's API-action catalog is, and the host names and ARNs that actions, identities
 * and records spell alike.
 */
import type { JsonObject, ResourceRef } from './cloudtrail-record.js';
import type { Rng } from './rng.js';
import type { World } from './world.js';

/** What an action's parameter and response builders draw on: the random source, the account, where and when. */
export interface Ctx {
  rng: Rng;
  world: World;
  region: string;
  ms: number;
}

/** One API action as CloudTrail logs it; the builders make its request parameters, response and resources. */
export interface Action {
  source: string;
  name: string;
  readOnly: boolean;
  /** Logged in us-east-1 only (IAM, STS, Organizations…). */
  global?: boolean;
  apiVersion?: string;
  params?: (c: Ctx) => JsonObject | null;
  response?: (c: Ctx) => JsonObject | null;
  resources?: (c: Ctx) => ResourceRef[];
  /** S3 writes extra details into additionalEventData. */
  s3?: boolean;
}

/** A service's regional endpoint host, e.g. `ec2.eu-west-1.amazonaws.com`. */
export const host = (service: string, region: string): string => `${service}.${region}.amazonaws.com`;
/** An S3 bucket's virtual-hosted endpoint host. */
export const bucketHost = (bucket: string, region: string): string => `${bucket}.s3.${region}.amazonaws.com`;
/** A role's ARN; `name` may carry a path (`service-role/…`). */
export const roleArnOf = (account: string, name: string): string => `arn:aws:iam::${account}:role/${name}`;
