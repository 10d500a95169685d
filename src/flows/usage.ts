/**
 * `trailwarden usage`: one role's permissions, answered directly — for an action (or every action the role is
 * granted), used / unused / unknown with calls, last seen, the sessions that used it and the reason. It runs the
 * suite's own `role_permission_usage_90d` query over the same window and inventory a report run would build,
 * narrowed to the role (and session), with the lookback the user asks for: one answer, whichever way it is asked.
 */
import type { Logger } from 'pino';
import { withBackends, withCliPaths, type CliPaths } from '../app.js';
import { loadSetup } from '../config/load.js';
import type { Check } from '../core/catalog.js';
import { ConfigError } from '../core/errors.js';
import { checkWindow, resolveParameters } from '../core/params.js';
import { floorToSecond, toCloudTrailTime } from '../core/time.js';
import { fieldsUsedBy } from '../core/cloudtrail-table.js';
import { activitySql } from '../inventory/activity.js';
import { NEEDS_INVENTORY, readInventory } from './report.js';

/** The check whose query answers `usage`. */
export const USAGE_CHECK = 'role_permission_usage_90d';

export interface UsageRequest extends CliPaths {
  readonly configFile: string;
  /** A role name (unique across the inventory's accounts) or its ARN. */
  readonly role: string;
  readonly session?: string;
  /** `service:Action`, matched case-insensitively. */
  readonly action?: string;
  readonly asOf?: Date;
  readonly days?: number;
}

export interface UsageVerdict {
  readonly action: string;
  /** used / unused / unknown; `not_granted` when `--action` names an action the role's policies do not allow. */
  readonly usage: string;
  readonly calls: number;
  readonly lastSeen: string | null;
  readonly sessions: readonly string[];
  readonly reason: string;
  readonly grantedBy: string | null;
}

export interface UsageAnswer {
  readonly role: string;
  readonly account: string;
  readonly session: string | null;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly verdicts: readonly UsageVerdict[];
}

export async function usageOf(request: UsageRequest, log: Logger): Promise<UsageAnswer> {
  const setup = await loadSetup(request.configFile);
  const { config } = withCliPaths(setup.loaded, request);
  const base = setup.catalog.find((check) => check.id === USAGE_CHECK);
  if (!base) throw new ConfigError(setup.loaded.file, [`checks: the check ${USAGE_CHECK}, which answers usage, is not in the catalogue`]);
  const asOf = floorToSecond(request.asOf ?? new Date());
  return withBackends(config, log, async (backends) => {
    const source = backends.inventory();
    if (!source) throw new ConfigError('--inventory', [`usage ${NEEDS_INVENTORY}`]);
    const iam = await readInventory(source);
    const role = resolveRole(iam.built.tables.find((t) => t.name === 'iam_roles')!.rows, request.role);
    const check: Check = {
      ...base,
      lookback_days: request.days ?? base.lookback_days,
      optionValues: { ...base.optionValues, role_arns: [role.arn], session_names: request.session ? [request.session] : [] },
    };
    const window = checkWindow(check, asOf);
    const start = toCloudTrailTime(window.start);
    const end = toCloudTrailTime(asOf);
    const activity = activitySql([start], end);
    const engine = await backends.engine();
    const listing = await backends.source().list(window, { fetch: engine.readsLocalFiles });
    await engine.loadWindow({ runId: `usage-${Date.now()}`, window, files: listing.files, columns: fieldsUsedBy([activity]) });
    const queries = await engine.loadInventory({ tables: iam.built.tables, periodStarts: [start], end, catalogue: iam.catalogue });
    const result = await queries.query(check.sql, resolveParameters(check, asOf), { runId: 'usage', checkId: USAGE_CHECK });
    const at = (name: string) => result.columns.indexOf(name);
    let verdicts: UsageVerdict[] = result.rows.map((row) => ({
      action: row[at('action')] ?? '',
      usage: row[at('usage')] ?? '',
      calls: Number(row[at('calls')] ?? 0),
      lastSeen: row[at('last_seen')] ?? null,
      sessions: (row[at('sessions')] ?? '').split('; ').filter(Boolean),
      reason: row[at('reason')] ?? '',
      grantedBy: row[at('granted_by')] ?? null,
    }));
    if (request.action) {
      const wanted = request.action.toLowerCase();
      const found = verdicts.filter((v) => v.action.toLowerCase() === wanted);
      const unknownPolicies = verdicts.filter((v) => v.action.startsWith('(actions of '));
      verdicts =
        found.length > 0
          ? found
          : [
              {
                action: iam.catalogue.canonical(request.action) ?? request.action,
                // A policy the inventory lacks may grant it: then the answer is unknown, not "not granted".
                usage: unknownPolicies.length > 0 ? 'unknown' : 'not_granted',
                calls: 0,
                lastSeen: null,
                sessions: [],
                reason:
                  unknownPolicies.length > 0
                    ? `not granted by the policies in the inventory, but ${unknownPolicies.map((v) => v.grantedBy).join(', ')} is attached and not in it: it may grant it`
                    : iam.catalogue.canonical(request.action)
                      ? "not granted by the role's identity policies"
                      : 'no such action in the IAM action catalogue',
                grantedBy: null,
              },
            ];
    }
    return { role: role.arn, account: role.account, session: request.session ?? null, windowStart: start, windowEnd: end, verdicts };
  });
}

/** A role by ARN (case-insensitive) or by name; a name held by roles of several accounts must be given as an ARN. */
function resolveRole(rows: readonly (readonly unknown[])[], wanted: string): { arn: string; account: string } {
  const roles = rows.map((row) => ({ account: String(row[0]), arn: String(row[1]), name: String(row[2]) }));
  const byArn = roles.filter((r) => r.arn.toLowerCase() === wanted.toLowerCase());
  const matches = byArn.length > 0 ? byArn : roles.filter((r) => r.name.toLowerCase() === wanted.toLowerCase());
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new ConfigError('--role', [`${JSON.stringify(wanted)}: no such role in the IAM inventory (expected a role name or ARN)`]);
  throw new ConfigError('--role', [
    `${JSON.stringify(wanted)}: roles of several accounts have this name; give its ARN: ${matches.map((m) => m.arn).join(', ')}`,
  ]);
}
