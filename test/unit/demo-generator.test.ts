import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DEMO_AS_OF } from '../../src/demo/generate.js';
import { toTruthEvent, type TruthEvent } from '../support/demo-truth-event.js';
import { INTEGRITY_CHECK } from '../support/demo-truth-integrity.js';
import { CHECK_LOOKBACK_DAYS, computeTruth, type CheckTruth, type PartialFile, INVENTORY_CHECKS } from '../support/demo-truth.js';
import { generateDemoWithTruth, type DemoWithTruth } from '../support/demo-with-truth.js';

const CHECKS_DIR = fileURLToPath(new URL('../../config/checks/', import.meta.url));
const DAY = 86_400_000;
const at = (ms: number): string => new Date(ms).toISOString().slice(0, 19) + 'Z';
const AS_OF_MS = Date.parse(DEMO_AS_OF);
const EVENT_FILE =
  /^AWSLogs\/(?:o-a1b2c3d4e5\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8})T\d{4}Z_[A-Za-z0-9]{16}\.json(\.gz)?$/;

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'trailwarden-demo-'));
  temps.push(dir);
  return dir;
}

/** Every file under `dir`, as '/'-separated paths relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

async function sha256s(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of await listFiles(dir)) {
    out.set(
      file,
      createHash('sha256')
        .update(await readFile(path.join(dir, file)))
        .digest('hex'),
    );
  }
  return out;
}

function column(check: CheckTruth | undefined, name: string): string[] {
  if (!check) throw new Error('missing check');
  const i = check.columns.indexOf(name);
  if (i < 0) throw new Error(`no column ${name}`);
  return check.rows.map((row) => row[i] ?? '');
}

function rowWhere(check: CheckTruth | undefined, name: string, value: string): Record<string, string> | undefined {
  if (!check) return undefined;
  const i = check.columns.indexOf(name);
  const row = check.rows.find((r) => r[i] === value);
  return row ? Object.fromEntries(check.columns.map((c, j) => [c, row[j] ?? ''])) : undefined;
}

/** The delivery files' records, read back from disk; undefined for a file that cannot be read. */
async function readRecords(dir: string, file: string): Promise<unknown[] | undefined> {
  const raw = await readFile(path.join(dir, file));
  try {
    const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    const parsed = JSON.parse(text) as { Records?: unknown[] };
    return parsed.Records;
  } catch {
    return undefined;
  }
}

/**
 * The complete records of a delivery file cut short, as a careful reader gets them: what gunzip still gives, up to
 * the last record that closes (the longest prefix that parses once the array and object are closed after it).
 */
async function recordsBeforeCut(dir: string, file: string): Promise<{ records: unknown[]; cut: number }> {
  const text = gunzipSync(await readFile(path.join(dir, file)), { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  for (let end = text.lastIndexOf('}'); end > 0; end = text.lastIndexOf('}', end - 1)) {
    try {
      const records = (JSON.parse(`${text.slice(0, end + 1)}]}`) as { Records: unknown[] }).Records;
      return { records, cut: text.length > end + 1 ? 1 : 0 };
    } catch {
      // not the end of a record
    }
  }
  return { records: [], cut: 1 };
}

/** The output column names of a `SELECT … FROM cloudtrail_window` (or `log_integrity_problems`) query: each item's alias, or the bare column. */
function selectedNames(sql: string): string[] {
  const list = sql.slice(sql.indexOf('SELECT') + 'SELECT'.length, sql.search(/FROM (cloudtrail_window|log_integrity_problems)/));
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      items.push(current);
      current = '';
    } else current += ch;
  }
  items.push(current);
  return items.map((item) => /\bAS\s+(\w+)\s*$/i.exec(item.trim())?.[1] ?? item.trim());
}

let dir = '';
let demo: DemoWithTruth;

beforeAll(async () => {
  dir = await tempDir();
  demo = await generateDemoWithTruth({ outDir: dir, targetEvents: 5000 });
}, 180_000);

afterAll(async () => {
  await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
});

describe('demo generator', () => {
  it('writes a byte-identical tree for the same seed, and a different one for another seed', async () => {
    // Prepare
    const again = await tempDir();
    const other = await tempDir();

    // Act
    await generateDemoWithTruth({ outDir: again, targetEvents: 5000 });
    await generateDemoWithTruth({ outDir: other, targetEvents: 5000, seed: 7 });

    // Assess
    const first = await sha256s(dir);
    expect(first.size).toBeGreaterThan(100);
    expect(await sha256s(again)).toEqual(first);
    expect(await sha256s(other)).not.toEqual(first);
  }, 240_000);

  it('lays files out as CloudTrail delivers them, both layouts, with hourly digests beside them', async () => {
    // Act
    const files = await listFiles(dir);

    // Assess
    const eventFiles = files.filter((f) => /\/CloudTrail\//.test(f));
    const digests = files.filter((f) => f.includes('/CloudTrail-Digest/'));
    expect(eventFiles.length + digests.length).toBe(demo.files);
    for (const file of eventFiles) {
      const m = EVENT_FILE.exec(file);
      expect(m, file).not.toBeNull();
      // The account and region in the name repeat the folders; the name's date is the folder's date.
      expect(m?.[6]).toBe(m?.[1]);
      expect(m?.[7]).toBe(m?.[2]);
      expect(m?.[8]).toBe(`${m?.[3]}${m?.[4]}${m?.[5]}`);
    }
    expect(eventFiles.some((f) => f.startsWith('AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail/'))).toBe(true);
    expect(eventFiles.some((f) => f.startsWith('AWSLogs/111111111111/CloudTrail/'))).toBe(true);
    expect(new Set(eventFiles.map((f) => EVENT_FILE.exec(f)?.[2]))).toEqual(new Set(['us-east-1', 'eu-west-1', 'ap-southeast-2']));

    // One digest an hour per account and region (but the gap's), each where its JSON says it was delivered.
    for (const file of digests) {
      expect(file).toMatch(
        /^AWSLogs\/(o-a1b2c3d4e5\/)?(\d{12})\/CloudTrail-Digest\/([a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\2_CloudTrail-Digest_\3_org-management-trail_\3_\d{8}T\d{6}Z\.json\.gz$/,
      );
    }
    // 37 days of hours for 6 streams, less the gap.
    expect(digests.length).toBeGreaterThan(6 * 24 * 36);
    expect(digests).not.toContain(demo.digestGap.digestKey);
    // Every file a digest lists is, uncompressed, what it hashes: but for the file modified and the one truncated.
    let listed = 0;
    const mismatched: string[] = [];
    const absent: string[] = [];
    for (const file of digests.filter((_, i) => i % 7 === 0 || _.includes('/eu-west-1/'))) {
      const digest = JSON.parse(gunzipSync(await readFile(path.join(dir, file))).toString('utf8')) as {
        digestS3Object: string;
        logFiles: { s3Object: string; hashValue: string }[];
      };
      expect(digest.digestS3Object).toBe(file);
      for (const entry of digest.logFiles) {
        listed++;
        const bytes = await readFile(path.join(dir, entry.s3Object)).catch(() => undefined);
        if (!bytes) {
          absent.push(entry.s3Object);
          continue;
        }
        const content = entry.s3Object.endsWith('.gz')
          ? (() => {
              try {
                return gunzipSync(bytes);
              } catch {
                return undefined;
              }
            })()
          : bytes;
        if (!content || createHash('sha256').update(content).digest('hex') !== entry.hashValue) mismatched.push(entry.s3Object);
      }
    }
    expect(listed).toBeGreaterThan(500);
    // The deleted file is in eu-west-1 of the organization account, the modified one in eu-west-1 of the other.
    expect(absent).toHaveLength(1);
    expect(mismatched.filter((f) => f.includes('/eu-west-1/'))).toHaveLength(1);
  });

  it('includes the awkward deliveries a reader must cope with, inside the 30-day window', async () => {
    // Prepare
    const files = (await listFiles(dir)).filter((f) => EVENT_FILE.test(f));
    const folderDay = (f: string): string => {
      const m = EVENT_FILE.exec(f);
      return `${m?.[3]}-${m?.[4]}-${m?.[5]}`;
    };
    const windowStartDay = at(AS_OF_MS - 30 * DAY).slice(0, 10);
    const inWindow = (f: string): boolean => folderDay(f) >= windowStartDay && folderDay(f) <= DEMO_AS_OF.slice(0, 10);

    // Act
    const hashes = await sha256s(dir);
    const plain = files.filter((f) => f.endsWith('.json'));
    const nextDay: string[] = [];
    for (const f of files) {
      const records = (await readRecords(dir, f)) as { eventTime: string }[] | undefined;
      if (!records) continue;
      const newest =
        records
          .map((r) => r.eventTime)
          .sort()
          .at(-1) ?? '';
      if (newest.slice(0, 10) < folderDay(f) && newest < DEMO_AS_OF && newest >= at(AS_OF_MS - 30 * DAY)) nextDay.push(f);
    }

    // Assess
    // One uncompressed .json file, readable, in the window.
    expect(plain).toHaveLength(1);
    expect(inWindow(plain[0] ?? '')).toBe(true);
    expect((await readRecords(dir, plain[0] ?? ''))?.length).toBeGreaterThan(0);

    // One truncated .gz that gunzip rejects (a careful reader still reads the records before the cut).
    expect(demo.unreadableFiles).toHaveLength(1);
    const corrupt = demo.unreadableFiles[0] ?? '';
    expect(files).toContain(corrupt);
    expect(inWindow(corrupt)).toBe(true);
    const corruptBytes = await readFile(path.join(dir, corrupt));
    expect(() => gunzipSync(corruptBytes)).toThrow();

    // One delivery written twice under two names.
    const byHash = new Map<string, string[]>();
    for (const f of files) byHash.set(hashes.get(f) ?? '', [...(byHash.get(hashes.get(f) ?? '') ?? []), f]);
    const duplicated = [...byHash.values()].filter((names) => names.length > 1);
    expect(duplicated).toHaveLength(1);
    expect(duplicated[0]?.every(inWindow)).toBe(true);

    // Events from late evening sit in the next day's folder.
    expect(nextDay.length).toBeGreaterThanOrEqual(3);
  });

  it('computes a truth that matches the records actually on disk', async () => {
    // Prepare: read every delivery file back, as a reader of the bucket would: the truncated one up to its cut.
    const events: TruthEvent[] = [];
    const partial: PartialFile[] = [];
    const unreadable: string[] = [];
    let records = 0;
    for (const f of await listFiles(dir)) {
      const m = EVENT_FILE.exec(f);
      if (!m) continue;
      let read = await readRecords(dir, f);
      if (!read && demo.unreadableFiles.includes(f)) {
        const recovered = await recordsBeforeCut(dir, f);
        read = recovered.records;
        if (read.length === 0) unreadable.push(f);
        else partial.push({ path: f, records: read.length, cut: recovered.cut });
      }
      if (!read) continue;
      records += read.length;
      for (const r of read) events.push(toTruthEvent(r, m[1] ?? ''));
    }

    // Act
    const recomputed = computeTruth(events, DEMO_AS_OF, unreadable, partial);
    const onDisk = JSON.parse(await readFile(path.join(dir, 'truth.json'), 'utf8')) as unknown;

    // Assess
    expect([...unreadable, ...partial.map((p) => p.path)]).toEqual(demo.unreadableFiles);
    // The integrity check's truth comes from the files' fates, not their records (demo-truth-integrity.ts).
    const { [INTEGRITY_CHECK]: integrity, ...eventChecks } = demo.truth.checks;
    expect(integrity?.rows.length).toBeGreaterThan(0);
    expect(recomputed).toEqual({ ...demo.truth, checks: eventChecks });
    expect(onDisk).toEqual(demo.truth);
    expect(records).toBeLessThan(demo.events); // the events after the cut are lost
    // The run's window is the longest lookback: the inventory checks' 90 days.
    const inWindow = events.filter((e) => (e.eventTime ?? '') >= at(AS_OF_MS - 90 * DAY) && (e.eventTime ?? '') < DEMO_AS_OF);
    expect(demo.truth?.eventsInWindow).toBe(new Set(inWindow.map((e) => e.eventID)).size);
    expect(demo.truth?.accounts).toEqual(['111111111111', '222222222222']);
    expect(demo.truth?.regions).toEqual(['ap-southeast-2', 'eu-west-1', 'us-east-1']);
  });

  it('describes every check with the columns and lookback of its query.sql and check.yaml', async () => {
    // Prepare
    const ids = (await readdir(CHECKS_DIR, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();

    // Act
    const checks = demo.truthWithInventory.checks;

    // Assess
    expect(ids).toHaveLength(23);
    expect(Object.keys(checks).sort()).toEqual(ids);
    expect(Object.keys(demo.truth.checks).sort()).toEqual(ids.filter((id) => !INVENTORY_CHECKS.includes(id)));
    for (const id of ids) {
      const sql = await readFile(path.join(CHECKS_DIR, id, 'query.sql'), 'utf8');
      const yaml = parseYaml(await readFile(path.join(CHECKS_DIR, id, 'check.yaml'), 'utf8')) as { lookback_days: number; columns: string[] };
      // The inventory checks' queries start with WITH: their columns are check.yaml's, which the catalogue holds to the query.
      const aliases = INVENTORY_CHECKS.includes(id) ? yaml.columns : selectedNames(sql);
      expect(checks[id]?.columns, id).toEqual(aliases);
      expect(CHECK_LOOKBACK_DAYS[id], id).toBe(yaml.lookback_days);
      for (const row of checks[id]?.rows ?? []) expect(row).toHaveLength(aliases.length);
    }
  });

  it('gives every check findings worth reporting', () => {
    // Act
    const checks = demo.truth?.checks ?? {};

    // Assess
    const root = checks.root_activity_7d;
    expect(root?.rows.length).toBeGreaterThan(0);
    expect(new Set(column(root, 'account'))).toEqual(new Set(['111111111111']));
    expect(column(root, 'user_agent')).toContain('=HYPERLINK("http://evil.example","x")');
    expect(column(root, 'user_agent')).toContain('<script>alert("root")</script>');
    expect(new Set(column(root, 'access'))).toEqual(new Set(['api', 'console']));
    expect(column(root, 'event_name')).not.toContain('GetAccountSummary'); // invoked by a service
    expect(column(root, 'event_name')).not.toContain('SharedSnapshotCopyInitiated'); // a service event

    const noMfa = checks.console_login_without_mfa_30d;
    expect(noMfa?.rows.length).toBeGreaterThanOrEqual(4);
    expect(column(noMfa, 'user_arn').every((arn) => /^arn:aws:iam::\d{12}:user\//.test(arn))).toBe(true);
    expect(column(noMfa, 'mfa_used')).toContain(''); // additionalEventData absent counts as no MFA
    expect(column(noMfa, 'mfa_used')).not.toContain('Yes');

    const failures = checks.console_login_failures_30d;
    expect(failures?.rows.length).toBeGreaterThan(10);
    expect(column(failures, 'principal')).toContain('HIDDEN_DUE_TO_SECURITY_REASONS');

    const logins = checks.console_logins_30d;
    expect(new Set(column(logins, 'identity_type'))).toEqual(new Set(['IAMUser', 'AssumedRole', 'Root']));

    const unauthorized = checks.unauthorized_api_calls_7d;
    const errors = column(unauthorized, 'errors').map(Number);
    expect(errors.reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
    expect(errors).toEqual([...errors].sort((a, b) => b - a));
    expect(new Set(column(unauthorized, 'error_code'))).toEqual(new Set(['AccessDenied', 'AccessDeniedException', 'Client.UnauthorizedOperation']));

    expect(column(checks.users_active_30d, 'user_name')).toContain('=ops-bot');
    expect(column(checks.users_active_30d, 'user_name')).not.toContain('HIDDEN_DUE_TO_SECURITY_REASONS');
    expect(column(checks.role_actions_30d, 'role_arn')).toContain('arn:aws:iam::111111111111:role/service-role/lambda-orders-exec');
  });

  it('gives every CIS 4.4–4.15 check events in both accounts, in several regions but for the global services, refused ones included', () => {
    // Prepare
    const checks = demo.truth?.checks ?? {};
    const cisChecks = [
      'iam_policy_changes_7d',
      'cloudtrail_config_changes_7d',
      'kms_key_disabled_or_deleted_7d',
      's3_bucket_policy_changes_7d',
      'config_recorder_changes_7d',
      'security_group_changes_7d',
      'nacl_changes_7d',
      'network_gateway_changes_7d',
      'route_table_changes_7d',
      'vpc_changes_7d',
      'organizations_changes_7d',
    ];
    // IAM and Organizations are global services: CloudTrail logs them in us-east-1 only.
    const global = ['iam_policy_changes_7d', 'organizations_changes_7d'];

    // Assess
    for (const id of cisChecks) {
      const check = checks[id];
      expect(new Set(column(check, 'account')), id).toEqual(new Set(['111111111111', '222222222222']));
      expect(new Set(column(check, 'region')).size, id).toBeGreaterThanOrEqual(global.includes(id) ? 1 : 2);
      expect(column(check, 'error_code').filter((code) => code !== '').length, id).toBeGreaterThan(0);
      expect(new Set(column(check, 'event_source')).size, id).toBe(1);
    }
    // A refused StopLogging is listed with its error code, and does not count as logging stopped; a successful one does.
    const trail = checks.cloudtrail_config_changes_7d;
    const stops = trail!.rows.filter((row) => row[trail!.columns.indexOf('event_name')] === 'StopLogging');
    const cell = (row: string[], name: string): string => row[trail!.columns.indexOf(name)] ?? '';
    expect(stops.filter((row) => cell(row, 'error_code').startsWith('AccessDenied')).map((row) => cell(row, 'logging_stopped'))).toEqual(['0', '0']);
    expect(stops.filter((row) => cell(row, 'error_code') === '').map((row) => cell(row, 'logging_stopped'))).toEqual(['1']);
    expect(column(checks.config_recorder_changes_7d, 'recording_stopped')).toContain('1');
    // Look-alikes from other services: Auto Scaling's DeletePolicy is no IAM change, Organizations' DeletePolicy is 4.15's.
    expect(column(checks.iam_policy_changes_7d, 'event_source')).toEqual(column(checks.iam_policy_changes_7d, 'event_source').map(() => 'iam.amazonaws.com'));
    expect(column(checks.iam_policy_changes_7d, 'event_name')).not.toContain('DeletePolicy'); // IAM's own is 9 days old
    expect(column(checks.organizations_changes_7d, 'event_name')).toContain('DeletePolicy');
    expect(column(checks.route_table_changes_7d, 'event_source')).not.toContain('apigateway.amazonaws.com');
    expect(demo.truthEvents?.some((e) => e.eventSource === 'autoscaling.amazonaws.com' && e.eventName === 'DeletePolicy')).toBe(true);
    expect(demo.truthEvents?.some((e) => e.eventSource === 'apigateway.amazonaws.com' && e.eventName === 'CreateRoute')).toBe(true);
    // The 7-day edge: a security group change exactly at asOf - 7d is in, one a second earlier is out.
    const sevenDays = at(AS_OF_MS - 7 * DAY);
    expect(column(checks.security_group_changes_7d, 'event_time')).toContain(sevenDays);
    expect(column(checks.security_group_changes_7d, 'event_time')).not.toContain(at(AS_OF_MS - 7 * DAY - 1000));
  });

  it('puts events exactly on the window edges on the right side', () => {
    // Prepare
    const checks = demo.truth?.checks ?? {};
    const sevenDays = at(AS_OF_MS - 7 * DAY);
    const thirtyDays = at(AS_OF_MS - 30 * DAY);

    // Assess: asOf - lookback is in, asOf itself is out.
    expect(column(checks.root_activity_7d, 'event_time')).toContain(sevenDays);
    expect(column(checks.root_activity_7d, 'event_time')).not.toContain(DEMO_AS_OF);
    expect(column(checks.console_login_failures_30d, 'event_time')).toContain(thirtyDays);
    expect(column(checks.console_login_failures_30d, 'event_time')).not.toContain(at(AS_OF_MS - 30 * DAY - 1000));
    expect(column(checks.console_login_failures_30d, 'event_time')).toContain(at(AS_OF_MS - 1000));
    expect(column(checks.console_login_failures_30d, 'event_time')).not.toContain(DEMO_AS_OF);
    expect(column(checks.console_login_without_mfa_30d, 'event_time')).not.toContain(DEMO_AS_OF);

    expect(rowWhere(checks.roles_active_7d, 'role_arn', 'arn:aws:iam::111111111111:role/billing-reader')).toMatchObject({ calls: '1', first_seen: sevenDays });
    expect(rowWhere(checks.roles_active_7d, 'role_arn', 'arn:aws:iam::111111111111:role/incident-responder')).toBeUndefined();
    expect(rowWhere(checks.users_active_30d, 'user_name', 'erin.audit')).toMatchObject({ calls: '1', first_seen: thirtyDays });
    expect(rowWhere(checks.users_active_30d, 'user_name', 'old-migration')).toBeUndefined();
    expect(rowWhere(checks.role_actions_30d, 'role_arn', 'arn:aws:iam::111111111111:role/legacy-etl')).toMatchObject({ last_seen: thirtyDays });
    expect(rowWhere(checks.role_actions_30d, 'role_arn', 'arn:aws:iam::222222222222:role/old-reporting')).toBeUndefined();

    const unauthorized = checks.unauthorized_api_calls_7d;
    expect(column(unauthorized, 'first_seen').sort()[0]).toBe(sevenDays);
    expect(column(unauthorized, 'last_seen').every((t) => t < DEMO_AS_OF)).toBe(true);
  });

  it('counts an event delivered twice once', () => {
    // Act
    const checks = demo.truth?.checks ?? {};

    // Assess: the duplicated delivery holds root's sign-in and its access-key creation.
    const ids = column(checks.root_activity_7d, 'event_id');
    expect(new Set(ids).size).toBe(ids.length);
    expect(column(checks.root_activity_7d, 'event_name').filter((n) => n === 'CreateAccessKey')).toHaveLength(1);
    expect((demo.truthEvents ?? []).length).toBeGreaterThan(new Set(demo.truthEvents?.map((e) => e.eventID)).size);
  });

  it('gives different results for an as-of one day earlier, all inside that window', () => {
    // Prepare
    const earlier = at(AS_OF_MS - DAY);

    // Act
    const truth = computeTruth(demo.truthEvents ?? [], earlier);

    // Assess
    expect(truth.asOf).toBe(earlier);
    expect(truth.checks).not.toEqual(demo.truth?.checks);
    expect(truth.checks.root_activity_7d?.rows).not.toEqual(demo.truth?.checks.root_activity_7d?.rows);
    for (const check of Object.values(truth.checks)) {
      for (const name of ['event_time', 'last_seen']) {
        if (check.columns.includes(name)) expect(column(check, name).every((t) => t < earlier)).toBe(true);
      }
    }
    // The sign-in that failed exactly 30 days before the demo's as-of is 29 days old now: still counted.
    expect(column(truth.checks.console_login_failures_30d, 'event_time')).toContain(at(AS_OF_MS - 30 * DAY - 1000));
  });
});
