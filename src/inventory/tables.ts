/**
 * The IAM inventory as the small tables the checks read next to the window, built from each account's
 * authorization details. Pure: the catalogue comes in as a value.
 *
 * - `iam_roles`: one row per role, with IAM's own `RoleLastUsed` and the policies attached.
 * - `iam_users`: one row per user, with its groups.
 * - `iam_role_grants`: one row per (role, action its identity policies allow); an attached policy whose document is
 *   not in the inventory (an AWS managed policy the call left out) is one row with no action and kind
 *   `unknown_policy`: its actions are unknown, never "none".
 */
import type { ActionCatalogue } from './action-catalogue.js';
import { inventoryTime, parsePolicyDocument, PolicyDocumentError, type AuthorizationDetails, type PolicyDocument } from './authorization-details.js';
import { actionKind, sourceOfPrefix } from './event-actions.js';
import { grantedActions, type NamedPolicy } from './policy.js';
import type { InventorySnapshot } from './types.js';

export type CellType = 'VARCHAR' | 'BIGINT' | 'BOOLEAN';
export type Cell = string | number | boolean | null;

/** A table to materialise next to `cloudtrail_window`: names, types and rows. */
export interface InventoryTable {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: CellType }[];
  readonly rows: readonly (readonly Cell[])[];
}

/** The tables every engine creates, with their columns: the contract the checks' SQL is written against. */
export const INVENTORY_TABLE_COLUMNS = {
  iam_roles: [
    ['account', 'VARCHAR'],
    ['role_arn', 'VARCHAR'],
    ['role_name', 'VARCHAR'],
    ['path', 'VARCHAR'],
    ['created', 'VARCHAR'],
    ['last_used', 'VARCHAR'],
    ['last_used_region', 'VARCHAR'],
    ['service_linked', 'BOOLEAN'],
    ['attached_policies', 'VARCHAR'],
    ['inline_policies', 'VARCHAR'],
    ['instance_profiles', 'VARCHAR'],
    ['unknown_policies', 'VARCHAR'],
  ],
  iam_users: [
    ['account', 'VARCHAR'],
    ['user_arn', 'VARCHAR'],
    ['user_name', 'VARCHAR'],
    ['path', 'VARCHAR'],
    ['created', 'VARCHAR'],
    ['groups', 'VARCHAR'],
    ['attached_policies', 'VARCHAR'],
    ['inline_policies', 'VARCHAR'],
    ['console_password', 'VARCHAR'],
    ['access_keys', 'VARCHAR'],
  ],
  iam_role_grants: [
    ['account', 'VARCHAR'],
    ['role_arn', 'VARCHAR'],
    ['action', 'VARCHAR'],
    ['event_source', 'VARCHAR'],
    ['kind', 'VARCHAR'],
    ['granted_by', 'VARCHAR'],
  ],
  iam_event_actions: [
    ['event_source', 'VARCHAR'],
    ['event_name', 'VARCHAR'],
    ['action', 'VARCHAR'],
  ],
} as const satisfies Record<string, readonly (readonly [string, CellType])[]>;

export type InventoryTableName = keyof typeof INVENTORY_TABLE_COLUMNS;

/** The activity aggregate both engines build from the window (see `activity.ts`), read by the inventory checks. */
export const ACTIVITY_TABLE = 'iam_activity';

/** Every table an inventory check may read besides its own CTEs. */
export const INVENTORY_TABLES: readonly string[] = [...Object.keys(INVENTORY_TABLE_COLUMNS), ACTIVITY_TABLE];

function table(name: InventoryTableName, rows: Cell[][]): InventoryTable {
  return { name, columns: INVENTORY_TABLE_COLUMNS[name].map(([column, type]) => ({ name: column, type })), rows };
}

/** What the inventory says, beyond its tables: for the report and the evidence. */
export interface InventoryFacts {
  readonly accounts: readonly string[];
  readonly roles: number;
  readonly users: number;
  readonly grants: number;
  /** Attached policies whose document the inventory lacks: their actions are unknown. */
  readonly unknownPolicies: readonly { readonly account: string; readonly policyArn: string; readonly roles: number }[];
  /** Action patterns of the policies that match no action of the catalogue. */
  readonly unmatchedPatterns: readonly string[];
  readonly catalogueVersion: string;
}

export interface BuiltInventory {
  readonly tables: readonly InventoryTable[];
  readonly facts: InventoryFacts;
}

const joined = (names: readonly string[]): string | null => (names.length > 0 ? [...names].sort().join('; ') : null);

/**
 * Builds the inventory tables. Throws PolicyDocumentError-carrying messages as `problems` (each naming the account's
 * origin and the key) rather than judge a role on a policy it could not read.
 */
export function buildInventoryTables(snapshot: InventorySnapshot, catalogue: ActionCatalogue): { built?: BuiltInventory; problems: string[] } {
  const problems: string[] = [];
  const roles: Cell[][] = [];
  const users: Cell[][] = [];
  const grants: Cell[][] = [];
  const unknown = new Map<string, { account: string; policyArn: string; roles: number }>();
  const unmatched = new Set<string>();

  for (const { account, origin, details } of snapshot.accounts) {
    const document = (where: string, input: unknown): PolicyDocument | undefined => {
      try {
        return parsePolicyDocument(input);
      } catch (error) {
        if (!(error instanceof PolicyDocumentError)) throw error;
        problems.push(`${origin}: ${where}: ${error.message}`);
        return undefined;
      }
    };
    const managed = managedDocuments(details, document);

    details.RoleDetailList.forEach((role, index) => {
      const policies: NamedPolicy[] = [];
      const missing: string[] = [];
      for (const attached of role.AttachedManagedPolicies) {
        const found = managed.get(attached.PolicyArn);
        if (found) policies.push({ name: attached.PolicyName, document: found });
        else {
          missing.push(attached.PolicyName);
          const key = `${account} ${attached.PolicyArn}`;
          const entry = unknown.get(key) ?? { account, policyArn: attached.PolicyArn, roles: 0 };
          entry.roles += 1;
          unknown.set(key, entry);
        }
      }
      role.RolePolicyList.forEach((inline, i) => {
        const parsed = document(`RoleDetailList[${index}].RolePolicyList[${i}].PolicyDocument`, inline.PolicyDocument);
        if (parsed) policies.push({ name: `${inline.PolicyName} (inline)`, document: parsed });
      });
      const created = inventoryTime(role.CreateDate);
      if (!created) problems.push(`${origin}: RoleDetailList[${index}].CreateDate: expected a date, found ${JSON.stringify(role.CreateDate)}`);
      roles.push([
        account,
        role.Arn,
        role.RoleName,
        role.Path,
        created ?? null,
        inventoryTime(role.RoleLastUsed?.LastUsedDate) ?? null,
        role.RoleLastUsed?.Region ?? null,
        role.Path.startsWith('/aws-service-role/'),
        joined(role.AttachedManagedPolicies.map((p) => p.PolicyName)),
        joined(role.RolePolicyList.map((p) => p.PolicyName)),
        joined(role.InstanceProfileList.map((p) => p.InstanceProfileName)),
        joined(missing),
      ]);
      const granted = grantedActions(policies, catalogue);
      for (const pattern of granted.unmatched) unmatched.add(pattern);
      for (const [action, by] of granted.actions) {
        grants.push([account, role.Arn, action, sourceOfPrefix(action.slice(0, action.indexOf(':'))), actionKind(action), by.join('; ')]);
      }
      for (const name of missing) grants.push([account, role.Arn, null, null, 'unknown_policy', name]);
    });

    details.UserDetailList.forEach((user, index) => {
      const created = inventoryTime(user.CreateDate);
      if (!created) problems.push(`${origin}: UserDetailList[${index}].CreateDate: expected a date, found ${JSON.stringify(user.CreateDate)}`);
      // get-account-authorization-details says nothing of passwords or access keys: unknown, not "none".
      users.push([
        account,
        user.Arn,
        user.UserName,
        user.Path,
        created ?? null,
        joined(user.GroupList),
        joined(user.AttachedManagedPolicies.map((p) => p.PolicyName)),
        joined(user.UserPolicyList.map((p) => p.PolicyName)),
        null,
        null,
      ]);
    });
  }
  if (problems.length > 0) return { problems };
  return {
    problems,
    built: {
      tables: [table('iam_roles', roles), table('iam_users', users), table('iam_role_grants', grants)],
      facts: {
        accounts: snapshot.accounts.map((a) => a.account).sort(),
        roles: roles.length,
        users: users.length,
        grants: grants.length,
        unknownPolicies: [...unknown.values()].sort((a, b) => (a.account + a.policyArn < b.account + b.policyArn ? -1 : 1)),
        unmatchedPatterns: [...unmatched].sort(),
        catalogueVersion: catalogue.version,
      },
    },
  };
}

/** The default version's document of every managed policy in the details, by ARN. */
function managedDocuments(details: AuthorizationDetails, document: (where: string, input: unknown) => PolicyDocument | undefined): Map<string, PolicyDocument> {
  const byArn = new Map<string, PolicyDocument>();
  details.Policies.forEach((policy, index) => {
    const at = policy.PolicyVersionList.findIndex((v) => v.IsDefaultVersion);
    const version = policy.PolicyVersionList[at];
    if (!version || version.Document === undefined) return;
    const parsed = document(`Policies[${index}].PolicyVersionList[${at}].Document`, version.Document);
    if (parsed) byArn.set(policy.Arn, parsed);
  });
  return byArn;
}

/** `iam_event_actions` for the (eventSource, eventName) pairs of the activity: each pair's actions, or one row with none. */
export function eventActionsTable(
  pairs: readonly (readonly [string, string])[],
  actionsOf: (source: string, name: string) => readonly string[],
): InventoryTable {
  const rows: Cell[][] = [];
  for (const [source, name] of pairs) {
    const actions = actionsOf(source, name);
    if (actions.length === 0) rows.push([source, name, null]);
    for (const action of actions) rows.push([source, name, action]);
  }
  return table('iam_event_actions', rows);
}
