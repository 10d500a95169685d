/**
 * Ground truth for the demo data: what every check in `config/checks/` must return for a given as-of
 * time, computed in plain TypeScript from the events the generator wrote. It deliberately shares no code
 * with the SQL engines, so a bug in the engine, the SQL shims or the window loading shows up as a
 * difference instead of being reproduced on both sides. A test oracle: it lives with the tests, and the
 * shipped `src/` never imports it.
 *
 * Each function below mirrors one `query.sql`; keep them in step with those files (a unit test compares
 * the column names and lookbacks with the files on disk).
 */
import { DAY_MS, ctTime, parseIsoSeconds } from '../../src/demo/time.js';
import type { TruthEvent } from './demo-truth-event.js';
import { iamTruth, type TruthInventory } from './demo-truth-iam.js';

export type { TruthEvent } from './demo-truth-event.js';

/** One check's expected result: every value a string, SQL NULL as ''. */
export interface CheckTruth {
  columns: string[];
  rows: string[][];
}

export interface Truth {
  /** `YYYY-MM-DDTHH:MM:SSZ`. */
  asOf: string;
  /** Distinct (by eventID) readable events with `asOf - 30d <= eventTime < asOf`. */
  eventsInWindow: number;
  /** Sorted accounts (from the file path) and regions (`awsRegion`) of those events. */
  accounts: string[];
  regions: string[];
  /** Files no record can be recovered from, relative to the demo folder with '/' separators. */
  unreadableFiles: string[];
  /** Files cut short (the truncated .gz): read up to the cut, what that gives and what it loses. */
  partialFiles: PartialFile[];
  checks: Record<string, CheckTruth>;
}

/** A delivery file cut short, and what a reader that reads every complete record of it gets. */
export interface PartialFile {
  /** Relative to the demo folder, '/' separators. */
  path: string;
  /** Complete records before the cut (they are among the truth's events). */
  records: number;
  /** 1 when the cut runs through a record (or follows the comma announcing one), 0 when it falls right after one. */
  cut: number;
}

/** The check ids of `config/checks/`, with their `lookback_days`. */
export const CHECK_LOOKBACK_DAYS: Readonly<Record<string, number>> = {
  console_login_failures_30d: 30,
  console_login_without_mfa_30d: 30,
  console_logins_30d: 30,
  role_actions_30d: 30,
  roles_active_7d: 7,
  root_activity_7d: 7,
  unauthorized_api_calls_7d: 7,
  users_active_30d: 30,
  iam_policy_changes_7d: 7,
  cloudtrail_config_changes_7d: 7,
  kms_key_disabled_or_deleted_7d: 7,
  s3_bucket_policy_changes_7d: 7,
  config_recorder_changes_7d: 7,
  security_group_changes_7d: 7,
  nacl_changes_7d: 7,
  network_gateway_changes_7d: 7,
  route_table_changes_7d: 7,
  vpc_changes_7d: 7,
  organizations_changes_7d: 7,
  unused_roles_90d: 90,
  unused_users_90d: 90,
  role_permission_usage_90d: 90,
  log_integrity_30d: 30,
};

/** The checks that need the IAM inventory: only in the truth when it is given. */
export const INVENTORY_CHECKS = ['role_permission_usage_90d', 'unused_roles_90d', 'unused_users_90d'];

/** The widest lookback: the window `eventsInWindow` counts. */
const WINDOW_DAYS = 90;

type Cell = string | null;

/**
 * SQL ORDER BY on these values: strings in binary (code-unit) order — never locale order — and NULLs
 * last, which is the default of both Trino and DuckDB for ascending and descending keys.
 */
function compareCells(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function compareRows(a: readonly Cell[], b: readonly Cell[], keys: readonly number[]): number {
  for (const k of keys) {
    const c = compareCells(a[k] ?? null, b[k] ?? null);
    if (c !== 0) return c;
  }
  return 0;
}

const toStrings = (row: readonly Cell[]): string[] => row.map((v) => v ?? '');

/** A GROUP BY with count(*), min(eventtime) and max(eventtime) as the aggregates. */
interface Group {
  key: Cell[];
  count: number;
  first: string | null;
  last: string | null;
}

function groupBy(events: readonly TruthEvent[], keyOf: (e: TruthEvent) => Cell[]): Group[] {
  const groups = new Map<string, Group>();
  for (const e of events) {
    const key = keyOf(e);
    // JSON keeps null and '' apart, as GROUP BY does.
    const id = JSON.stringify(key);
    let g = groups.get(id);
    if (!g) {
      g = { key, count: 0, first: null, last: null };
      groups.set(id, g);
    }
    g.count++;
    // min/max ignore NULLs, as SQL aggregates do.
    if (e.eventTime !== null) {
      if (g.first === null || e.eventTime < g.first) g.first = e.eventTime;
      if (g.last === null || e.eventTime > g.last) g.last = e.eventTime;
    }
  }
  return [...groups.values()];
}

/** `coalesce(a, b, …)`: the first non-NULL argument. An empty string is not NULL. */
function coalesce(...values: Cell[]): Cell {
  for (const v of values) if (v !== null) return v;
  return null;
}

const isSignIn = (e: TruthEvent): boolean => e.eventSource === 'signin.amazonaws.com' && e.eventName === 'ConsoleLogin';

/** `useridentity.type = 'AssumedRole' AND sessionissuer.type = 'Role' AND sessionissuer.arn IS NOT NULL` */
const isRoleSession = (e: TruthEvent): boolean => e.identityType === 'AssumedRole' && e.issuerType === 'Role' && e.issuerArn !== null;

/** Rows ordered by `event_time, event_id` (columns 0 and the last one). */
function byTimeThenId(rows: Cell[][]): string[][] {
  const idColumn = (rows[0]?.length ?? 1) - 1;
  return rows.sort((a, b) => compareRows(a, b, [0, idColumn])).map(toStrings);
}

function consoleLoginFailures(events: readonly TruthEvent[]): CheckTruth {
  const rows = events
    .filter((e) => isSignIn(e) && e.errorMessage === 'Failed authentication')
    .map((e): Cell[] => [e.eventTime, coalesce(e.arn, e.userName, e.principalId), e.identityType, e.account, e.sourceIPAddress, e.errorMessage, e.eventID]);
  return {
    columns: ['event_time', 'principal', 'identity_type', 'account', 'source_ip', 'error_message', 'event_id'],
    rows: byTimeThenId(rows),
  };
}

function consoleLoginWithoutMfa(events: readonly TruthEvent[]): CheckTruth {
  const rows = events
    .filter(
      (e) =>
        isSignIn(e) &&
        e.identityType === 'IAMUser' &&
        e.consoleLogin === 'Success' &&
        // coalesce(MFAUsed, 'No') <> 'Yes': a missing MFAUsed counts as "not used".
        (e.mfaUsed ?? 'No') !== 'Yes',
    )
    .map((e): Cell[] => [e.eventTime, e.arn, e.userName, e.account, e.mfaUsed, e.sourceIPAddress, e.eventID]);
  return {
    columns: ['event_time', 'user_arn', 'user_name', 'account', 'mfa_used', 'source_ip', 'event_id'],
    rows: byTimeThenId(rows),
  };
}

function consoleLogins(events: readonly TruthEvent[]): CheckTruth {
  const rows = events
    .filter(isSignIn)
    .map((e): Cell[] => [
      e.eventTime,
      coalesce(e.arn, e.userName, e.principalId),
      e.identityType,
      e.account,
      e.consoleLogin,
      e.mfaUsed,
      e.sourceIPAddress,
      e.eventID,
    ]);
  return {
    columns: ['event_time', 'principal', 'identity_type', 'account', 'result', 'mfa_used', 'source_ip', 'event_id'],
    rows: byTimeThenId(rows),
  };
}

/** With the default, empty `role_arns` option: every role. */
function roleActions(events: readonly TruthEvent[]): CheckTruth {
  const rows = groupBy(events.filter(isRoleSession), (e) => [e.issuerArn, e.eventSource, e.eventName])
    .map((g): Cell[] => [...g.key, String(g.count), g.last])
    .sort((a, b) => compareRows(a, b, [0, 1, 2]));
  return {
    columns: ['role_arn', 'event_source', 'event_name', 'calls', 'last_seen'],
    rows: rows.map(toStrings),
  };
}

function rolesActive(events: readonly TruthEvent[]): CheckTruth {
  // `account` here is the session issuer's account id, not the path's: the query selects it so.
  const rows = groupBy(events.filter(isRoleSession), (e) => [e.issuerArn, e.issuerAccountId])
    .map((g): Cell[] => [...g.key, String(g.count), g.first, g.last])
    .sort((a, b) => compareRows(a, b, [0, 1]));
  return { columns: ['role_arn', 'account', 'calls', 'first_seen', 'last_seen'], rows: rows.map(toStrings) };
}

function rootActivity(events: readonly TruthEvent[]): CheckTruth {
  const rows = events
    .filter((e) => e.identityType === 'Root' && e.invokedBy === null && (e.eventType ?? '') !== 'AwsServiceEvent')
    .map((e): Cell[] => [
      e.eventTime,
      e.account,
      e.awsRegion,
      e.eventSource,
      e.eventName,
      e.sourceIPAddress,
      e.userAgent,
      e.mfaAuthenticated,
      // `eventtype IN (…)` is NULL for a NULL eventtype, and CASE takes NULL as false: 'api'.
      e.eventType === 'AwsConsoleSignIn' || e.eventType === 'AwsConsoleAction' ? 'console' : 'api',
      e.errorCode,
      e.eventID,
    ]);
  return {
    columns: [
      'event_time',
      'account',
      'region',
      'event_source',
      'event_name',
      'source_ip',
      'user_agent',
      'mfa_authenticated',
      'access',
      'error_code',
      'event_id',
    ],
    rows: byTimeThenId(rows),
  };
}

/** `errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%'` (LIKE is case-sensitive). */
const isUnauthorized = (code: string | null): boolean => code !== null && (code.endsWith('UnauthorizedOperation') || code.startsWith('AccessDenied'));

function unauthorizedCalls(events: readonly TruthEvent[]): CheckTruth {
  const groups = groupBy(
    events.filter((e) => isUnauthorized(e.errorCode)),
    // For a role session the principal is the role, not the session.
    (e) => [coalesce(e.issuerArn, e.arn, e.principalId), e.identityType, e.eventSource, e.eventName, e.errorCode],
  );
  groups.sort((a, b) => b.count - a.count || compareRows(a.key, b.key, [0, 1, 2, 3, 4]));
  return {
    columns: ['principal', 'identity_type', 'event_source', 'event_name', 'error_code', 'errors', 'first_seen', 'last_seen'],
    rows: groups.map((g) => toStrings([...g.key, String(g.count), g.first, g.last])),
  };
}

function usersActive(events: readonly TruthEvent[]): CheckTruth {
  const rows = groupBy(
    events.filter((e) => e.identityType === 'IAMUser' && e.arn !== null),
    (e) => [e.arn, e.userName, e.identityAccountId],
  )
    .map((g): Cell[] => [...g.key, String(g.count), g.first, g.last])
    .sort((a, b) => compareRows(a, b, [0, 1, 2]));
  return {
    columns: ['user_arn', 'user_name', 'account', 'calls', 'first_seen', 'last_seen'],
    rows: rows.map(toStrings),
  };
}

/**
 * The CIS AWS Foundations v1.4 monitoring controls 4.4–4.15 (Security Hub CloudWatch.4–14), as the events their
 * metric filters match, each kept to its service's eventSource. Written out here again on purpose (not read from
 * the query files), so a name missing from a query shows up as a difference.
 */
const CIS_EVENT_CHECKS: Readonly<Record<string, { source: string; names: readonly string[]; flagged?: readonly string[] }>> = {
  iam_policy_changes_7d: {
    source: 'iam.amazonaws.com',
    names: [
      'DeleteGroupPolicy',
      'DeleteRolePolicy',
      'DeleteUserPolicy',
      'PutGroupPolicy',
      'PutRolePolicy',
      'PutUserPolicy',
      'CreatePolicy',
      'DeletePolicy',
      'CreatePolicyVersion',
      'DeletePolicyVersion',
      'AttachRolePolicy',
      'DetachRolePolicy',
      'AttachUserPolicy',
      'DetachUserPolicy',
      'AttachGroupPolicy',
      'DetachGroupPolicy',
    ],
  },
  cloudtrail_config_changes_7d: {
    source: 'cloudtrail.amazonaws.com',
    names: ['CreateTrail', 'UpdateTrail', 'DeleteTrail', 'StartLogging', 'StopLogging'],
    flagged: ['StopLogging', 'DeleteTrail'],
  },
  kms_key_disabled_or_deleted_7d: { source: 'kms.amazonaws.com', names: ['DisableKey', 'ScheduleKeyDeletion'] },
  s3_bucket_policy_changes_7d: {
    source: 's3.amazonaws.com',
    names: [
      'PutBucketAcl',
      'PutBucketPolicy',
      'PutBucketCors',
      'PutBucketLifecycle',
      'PutBucketReplication',
      'DeleteBucketPolicy',
      'DeleteBucketCors',
      'DeleteBucketLifecycle',
      'DeleteBucketReplication',
    ],
  },
  config_recorder_changes_7d: {
    source: 'config.amazonaws.com',
    names: ['StopConfigurationRecorder', 'DeleteDeliveryChannel', 'PutDeliveryChannel', 'PutConfigurationRecorder'],
    flagged: ['StopConfigurationRecorder', 'DeleteDeliveryChannel'],
  },
  security_group_changes_7d: {
    source: 'ec2.amazonaws.com',
    names: [
      'AuthorizeSecurityGroupIngress',
      'AuthorizeSecurityGroupEgress',
      'RevokeSecurityGroupIngress',
      'RevokeSecurityGroupEgress',
      'CreateSecurityGroup',
      'DeleteSecurityGroup',
    ],
  },
  nacl_changes_7d: {
    source: 'ec2.amazonaws.com',
    names: ['CreateNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAcl', 'DeleteNetworkAclEntry', 'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation'],
  },
  network_gateway_changes_7d: {
    source: 'ec2.amazonaws.com',
    names: [
      'CreateCustomerGateway',
      'DeleteCustomerGateway',
      'AttachInternetGateway',
      'CreateInternetGateway',
      'DeleteInternetGateway',
      'DetachInternetGateway',
    ],
  },
  route_table_changes_7d: {
    source: 'ec2.amazonaws.com',
    names: ['CreateRoute', 'CreateRouteTable', 'ReplaceRoute', 'ReplaceRouteTableAssociation', 'DeleteRouteTable', 'DeleteRoute', 'DisassociateRouteTable'],
  },
  vpc_changes_7d: {
    source: 'ec2.amazonaws.com',
    names: [
      'CreateVpc',
      'DeleteVpc',
      'ModifyVpcAttribute',
      'AcceptVpcPeeringConnection',
      'CreateVpcPeeringConnection',
      'DeleteVpcPeeringConnection',
      'RejectVpcPeeringConnection',
      'AttachClassicLinkVpc',
      'DetachClassicLinkVpc',
      'DisableVpcClassicLink',
      'EnableVpcClassicLink',
    ],
  },
  // The CIS v1.4 filter's 18 names (CancelHandshake, CreateOrganization and EnableAllFeatures are not among them).
  organizations_changes_7d: {
    source: 'organizations.amazonaws.com',
    names: [
      'AcceptHandshake',
      'AttachPolicy',
      'CreateAccount',
      'CreateOrganizationalUnit',
      'CreatePolicy',
      'DeclineHandshake',
      'DeleteOrganization',
      'DeleteOrganizationalUnit',
      'DeletePolicy',
      'DetachPolicy',
      'DisablePolicyType',
      'EnablePolicyType',
      'InviteAccountToOrganization',
      'LeaveOrganization',
      'MoveAccount',
      'RemoveAccountFromOrganization',
      'UpdatePolicy',
      'UpdateOrganizationalUnit',
    ],
  },
};

/** The column a CIS check flags its alarming events in (a succeeded stop of logging or recording). */
const FLAG_COLUMN: Readonly<Record<string, string>> = {
  cloudtrail_config_changes_7d: 'logging_stopped',
  config_recorder_changes_7d: 'recording_stopped',
};

/** One row per event of the control's list from its service (refused ones included), by time then eventID. */
function cisEvents(id: string): (events: readonly TruthEvent[]) => CheckTruth {
  const { source, names, flagged } = CIS_EVENT_CHECKS[id]!;
  const flag = FLAG_COLUMN[id];
  return (events) => {
    const rows = events
      .filter((e) => e.eventSource === source && e.eventName !== null && names.includes(e.eventName))
      .map((e): Cell[] => [
        e.eventTime,
        e.account,
        e.awsRegion,
        coalesce(e.arn, e.principalId, e.invokedBy),
        e.identityType,
        e.eventSource,
        e.eventName,
        e.errorCode,
        e.sourceIPAddress,
        // Only a call that succeeded stopped anything: a refused one has an errorCode.
        ...(flag ? [flagged!.includes(e.eventName!) && e.errorCode === null ? '1' : '0'] : []),
        e.eventID,
      ]);
    return {
      columns: [
        'event_time',
        'account',
        'region',
        'principal',
        'identity_type',
        'event_source',
        'event_name',
        'error_code',
        'source_ip',
        ...(flag ? [flag] : []),
        'event_id',
      ],
      rows: byTimeThenId(rows),
    };
  };
}

const CHECKS: Readonly<Record<string, (events: readonly TruthEvent[]) => CheckTruth>> = {
  console_login_failures_30d: consoleLoginFailures,
  console_login_without_mfa_30d: consoleLoginWithoutMfa,
  console_logins_30d: consoleLogins,
  role_actions_30d: roleActions,
  roles_active_7d: rolesActive,
  root_activity_7d: rootActivity,
  unauthorized_api_calls_7d: unauthorizedCalls,
  users_active_30d: usersActive,
  ...Object.fromEntries(Object.keys(CIS_EVENT_CHECKS).map((id) => [id, cisEvents(id)])),
};

/** Events with `from <= eventTime < to`; a NULL eventTime is in no window. */
function inWindow(events: readonly TruthEvent[], from: string, to: string): TruthEvent[] {
  return events.filter((e) => e.eventTime !== null && e.eventTime >= from && e.eventTime < to);
}

/** Whether two truth events hold the same values: a second delivery of one record, not another record. */
function sameEvent(a: TruthEvent, b: TruthEvent): boolean {
  return (Object.keys(a) as (keyof TruthEvent)[]).every((key) => a[key] === b[key]);
}

/**
 * What every check must return at `asOf` (ISO-8601; floored to whole seconds, as event times are).
 * `events` are the readable events, duplicates included: second deliveries (the same eventID and the same
 * values) are removed here, first occurrence kept, before anything else; records that share an eventID but
 * differ are different records and all stay. Events without an eventID cannot be told apart and are kept.
 */
export function computeTruth(
  events: readonly TruthEvent[],
  asOf: string,
  unreadableFiles: readonly string[] = [],
  partialFiles: readonly PartialFile[] = [],
  inventory?: TruthInventory,
): Truth {
  const asOfMs = parseIsoSeconds(asOf);
  const end = ctTime(asOfMs);

  const seen = new Map<string, TruthEvent[]>();
  const unique = events.filter((e) => {
    if (e.eventID === null) return true;
    const earlier = seen.get(e.eventID);
    if (earlier?.some((other) => sameEvent(other, e))) return false;
    if (earlier) earlier.push(e);
    else seen.set(e.eventID, [e]);
    return true;
  });

  // Narrow once to the widest window; each check narrows further to its own lookback.
  const widest = inWindow(unique, ctTime(asOfMs - WINDOW_DAYS * DAY_MS), end);
  const checks: Record<string, CheckTruth> = {};
  for (const [id, run] of Object.entries(CHECKS)) {
    const days = CHECK_LOOKBACK_DAYS[id] ?? WINDOW_DAYS;
    checks[id] = run(inWindow(widest, ctTime(asOfMs - days * DAY_MS), end));
  }
  if (inventory) {
    const start = ctTime(asOfMs - 90 * DAY_MS);
    Object.assign(checks, iamTruth(inventory, inWindow(widest, start, end), start));
  }

  const sorted = (values: Iterable<string | null>): string[] =>
    [...new Set([...values].filter((v): v is string => v !== null))].sort((a, b) => compareCells(a, b));
  return {
    asOf: end,
    eventsInWindow: widest.length,
    accounts: sorted(widest.map((e) => e.account)),
    regions: sorted(widest.map((e) => e.awsRegion)),
    unreadableFiles: [...unreadableFiles],
    partialFiles: partialFiles.map((f) => ({ ...f })),
    checks,
  };
}
