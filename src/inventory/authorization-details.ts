/**
 * The output of `aws iam get-account-authorization-details` (one account), as the CLI writes it and as the SDK's
 * `GetAccountAuthorizationDetails` pages are merged into it, parsed with zod where it enters. Pure: no fs, no SDK.
 *
 * What real files hold and this accepts: policy documents as JSON objects (the CLI decodes them) or as URL-encoded
 * JSON strings (the raw API and the SDK); dates as ISO-8601 text or `Date`s; keys AWS adds later are ignored.
 */
import { z } from 'zod';

/** A policy document: a JSON object, or its URL-encoded (or plain) JSON text. */
const PolicyDocumentInput = z.union([z.record(z.string(), z.unknown()), z.string()]);

const DateInput = z.union([z.string(), z.date()]);

const InlinePolicy = z.looseObject({ PolicyName: z.string(), PolicyDocument: PolicyDocumentInput });
const AttachedPolicy = z.looseObject({ PolicyName: z.string(), PolicyArn: z.string() });

export const RoleDetail = z.looseObject({
  Path: z.string().default('/'),
  RoleName: z.string(),
  Arn: z.string(),
  CreateDate: DateInput,
  RoleLastUsed: z.looseObject({ LastUsedDate: DateInput.optional(), Region: z.string().optional() }).optional(),
  AttachedManagedPolicies: z.array(AttachedPolicy).default([]),
  RolePolicyList: z.array(InlinePolicy).default([]),
  InstanceProfileList: z.array(z.looseObject({ InstanceProfileName: z.string() })).default([]),
  PermissionsBoundary: z.looseObject({ PermissionsBoundaryArn: z.string().optional() }).optional(),
});

export const UserDetail = z.looseObject({
  Path: z.string().default('/'),
  UserName: z.string(),
  Arn: z.string(),
  CreateDate: DateInput,
  GroupList: z.array(z.string()).default([]),
  AttachedManagedPolicies: z.array(AttachedPolicy).default([]),
  UserPolicyList: z.array(InlinePolicy).default([]),
});

export const GroupDetail = z.looseObject({
  GroupName: z.string(),
  Arn: z.string(),
  AttachedManagedPolicies: z.array(AttachedPolicy).default([]),
  GroupPolicyList: z.array(InlinePolicy).default([]),
});

export const ManagedPolicyDetail = z.looseObject({
  PolicyName: z.string(),
  Arn: z.string(),
  PolicyVersionList: z
    .array(z.looseObject({ Document: PolicyDocumentInput.optional(), IsDefaultVersion: z.boolean(), VersionId: z.string().optional() }))
    .default([]),
});

export const AuthorizationDetails = z.looseObject({
  UserDetailList: z.array(UserDetail).default([]),
  GroupDetailList: z.array(GroupDetail).default([]),
  RoleDetailList: z.array(RoleDetail).default([]),
  Policies: z.array(ManagedPolicyDetail).default([]),
});
export type AuthorizationDetails = z.infer<typeof AuthorizationDetails>;

/** One statement of a policy, normalised: lists where IAM allows a string or a list. */
export interface PolicyStatement {
  readonly effect: 'Allow' | 'Deny';
  /** `Action` patterns, or undefined when the statement uses `NotAction`. */
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  readonly resources?: readonly string[];
  readonly notResources?: readonly string[];
  readonly hasCondition: boolean;
}

export interface PolicyDocument {
  readonly statements: readonly PolicyStatement[];
}

/** A problem with one document, reported with where it came from. */
export class PolicyDocumentError extends Error {}

const list = (value: unknown): string[] | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new PolicyDocumentError(`expected a string or a list of strings, found ${JSON.stringify(value)}`);
};

/**
 * A policy document in either form AWS hands it out: a JSON object (the CLI), or URL-encoded JSON text (the raw API
 * and the SDK). Plain JSON text is accepted too. Throws PolicyDocumentError with the reason.
 */
export function parsePolicyDocument(input: unknown): PolicyDocument {
  let raw = input;
  if (typeof raw === 'string') {
    const text = raw.trimStart().startsWith('{') ? raw : decodeURIComponent(raw.replace(/\+/g, '%20'));
    try {
      raw = JSON.parse(text) as unknown;
    } catch (error) {
      throw new PolicyDocumentError(`not JSON after URL-decoding: ${(error as Error).message}`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new PolicyDocumentError('expected a JSON object');
  const statement = (raw as { Statement?: unknown }).Statement;
  const statements = statement === undefined ? [] : Array.isArray(statement) ? statement : [statement];
  return {
    statements: statements.map((s: unknown): PolicyStatement => {
      if (typeof s !== 'object' || s === null) throw new PolicyDocumentError('a Statement entry is not an object');
      const entry = s as Record<string, unknown>;
      if (entry.Effect !== 'Allow' && entry.Effect !== 'Deny')
        throw new PolicyDocumentError(`Effect: expected "Allow" or "Deny", found ${JSON.stringify(entry.Effect)}`);
      return {
        effect: entry.Effect,
        actions: list(entry.Action),
        notActions: list(entry.NotAction),
        resources: list(entry.Resource),
        notResources: list(entry.NotResource),
        hasCondition: entry.Condition !== undefined && Object.keys(entry.Condition as object).length > 0,
      };
    }),
  };
}

/** A date as the CloudTrail tables spell times: `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds); undefined when unreadable. */
export function inventoryTime(value: string | Date | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return undefined;
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The account id inside an IAM ARN (`arn:aws:iam::<account>:role/…`). */
export function accountOfArn(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(arn)?.[1];
}
