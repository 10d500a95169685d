import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AS_OF } from '../../src/demo/generate.js';
import { neutraliseCell } from '../../src/render/csv.js';
import { runCli } from '../support/cli.js';
import { computeTruth } from '../support/demo-truth.js';
import { generateDemoWithTruth, type DemoWithTruth } from '../support/demo-with-truth.js';
import { tempDir } from '../support/fixtures.js';

interface Manifest {
  run_id: string;
  as_of: string;
  window: { start: string; end: string };
  config_digest: string;
  tool: { version: string };
  stats: { events: number; files_skipped: { path: string; reason: string }[]; accounts: string[]; regions: string[] };
  checks: { id: string; status: string; rows: number | null; observed: number | null; file: { name: string; sha256: string } | null }[];
  files: { name: string; bytes: number; sha256: string }[];
}

let demo: DemoWithTruth;
let logs: string;

async function runFolders(out: string): Promise<string[]> {
  const dayDir = path.join(out, 'archive', '2026', '11', '23');
  return (await readdir(dayDir)).map((name) => path.join(dayDir, name));
}

async function readManifest(runDir: string): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(runDir, 'manifest.json'), 'utf8')) as Manifest;
}

async function readCsv(file: string): Promise<string[][]> {
  return parseCsv(await readFile(file, 'utf8'));
}

/** The truth holds raw values; the CSV holds them neutralised against spreadsheet formulas. */
function asCsvRows(truth: { columns: string[]; rows: string[][] }): string[][] {
  return [truth.columns, ...truth.rows.map((row) => row.map(neutraliseCell))];
}

beforeAll(async () => {
  logs = await tempDir('trailwarden-e2e-logs-');
  demo = await generateDemoWithTruth({ outDir: logs });
});

describe('trailwarden run on generated CloudTrail logs', () => {
  it('reports exactly what the generator knows to be true, check by check and row by row', async () => {
    // Prepare
    const out = await tempDir('trailwarden-e2e-out-');
    const truth = demo.truthWithInventory;

    // Act
    const result = await runCli(['run', '--logs', logs, '--inventory', demo.inventoryDir, '--out', out, '--as-of', DEMO_AS_OF], {
      env: { TRAILWARDEN_LOG_LEVEL: 'debug' },
    });

    // Assess: the run completed, whatever it found
    expect(result.stderr).not.toMatch(/"level":(50|60)/);
    expect(result.code, result.stderr).toBe(0);
    const [runDir, ...others] = await runFolders(out);
    expect(others).toEqual([]);
    const manifest = await readManifest(runDir!);
    expect(manifest.as_of).toBe(DEMO_AS_OF);
    expect(manifest.stats.events).toBe(truth.eventsInWindow);
    expect(manifest.stats.accounts).toEqual(truth.accounts);
    expect(manifest.stats.regions).toEqual(truth.regions);
    expect(manifest.stats.files_skipped.map((s) => s.path)).toEqual(truth.unreadableFiles);

    // One JSON log line per phase, with its duration and counts.
    const lines = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { phase?: string; ms?: number; events?: number; msg?: string; recordsDropped?: unknown[]; conflicts?: unknown[] });
    const phases = lines.filter((entry) => entry.phase);
    expect(phases.map((p) => p.phase)).toEqual([
      'read inventory',
      'list logs',
      'load window',
      'load inventory',
      'validate logs',
      'run checks',
      'find previous run',
      'write evidence',
      'write report',
      'send mail',
    ]);
    for (const p of phases) expect(typeof p.ms, p.phase).toBe('number');
    expect(phases.find((p) => p.phase === 'load window')?.events).toBe(truth.eventsInWindow);
    // The truncated delivery was read up to its cut; the record the cut runs through is counted, nothing else lost.
    const dropped = lines.find((line) => line.msg === 'window records dropped and eventID conflicts');
    expect(dropped?.recordsDropped ?? []).toEqual(truth.partialFiles.map((f) => ({ path: f.path, reason: 'cut off by the end of the file', count: f.cut })));
    expect(dropped?.conflicts ?? []).toEqual([]);

    expect(Object.keys(truth.checks).sort()).toEqual(manifest.checks.map((c) => c.id).sort());
    for (const [id, expected] of Object.entries(truth.checks)) {
      const csv = await readCsv(path.join(runDir!, `${id}.csv`));
      expect(csv, id).toEqual(asCsvRows(expected));
    }
    // The scenarios the demo's inventory was built for are really in the truth (so the comparison above tests them).
    const unusedRoles = truth.checks.unused_roles_90d!.rows.map((r) => r[0]);
    expect(unusedRoles).toContain('arn:aws:iam::111111111111:role/old-jenkins');
    expect(unusedRoles).toContain('arn:aws:iam::222222222222:role/AWSServiceRoleForSupport');
    for (const kept of ['AWSServiceRoleForSupport', 'new-analytics', 'quarterly-report', 's3-uploader']) {
      expect(
        unusedRoles.filter((arn) => arn!.endsWith(`/${kept}`) && !arn!.includes('222222222222:role/AWSServiceRoleForSupport')),
        kept,
      ).toEqual([]);
    }
    const usage = truth.checks.role_permission_usage_90d!.rows;
    const verdict = (role: string, action: string) => usage.find((r) => r[0]!.endsWith(role) && r[2] === action)?.[3];
    expect(verdict(':role/ci-deployer', 's3:GetObject')).toBe('used');
    expect(verdict(':role/ci-deployer', 's3:PutObject')).toBe('unused');
    expect(verdict(':role/gh-actions-deploy', 's3:GetObject')).toBe('unknown');
    expect(verdict(':role/ci-deployer', 'iam:PassRole')).toBe('unknown');
    expect(verdict(':role/data-pipeline', 's3:DeleteObject')).toBeUndefined();
    expect(verdict(':role/data-pipeline', 's3:PutBucketPolicy')).toBe('unused');
    expect(usage.find((r) => r[0]!.endsWith(':role/eks-node-group') && r[3] === 'used')?.[6]).toMatch(/^i-0[0-9a-f]{16}(; i-0[0-9a-f]{16})*$/);
    const manifestInventory = (manifest as unknown as { inventory: { accounts: { account: string }[] } }).inventory;
    expect(manifestInventory.accounts.map((a) => a.account)).toEqual(['111111111111', '222222222222']);
  }, 300_000);

  it('reports the inventory checks as not run, with the reason, when no inventory is given, and --fail-on ignores them', async () => {
    // Prepare
    const out = await tempDir('trailwarden-e2e-out-');

    // Act
    const result = await runCli(['run', '--logs', logs, '--out', out, '--as-of', '2026-10-26T12:00:00Z', '--fail-on', 'low']);

    // Assess
    const [runDir] = (await readdir(path.join(out, 'archive', '2026', '10', '26'))).map((n) => path.join(out, 'archive', '2026', '10', '26', n));
    const manifest = await readManifest(runDir!);
    for (const id of ['unused_roles_90d', 'unused_users_90d', 'role_permission_usage_90d']) {
      const check = manifest.checks.find((c) => c.id === id);
      expect(check, id).toMatchObject({ status: 'not_run', rows: null, file: null });
    }
    expect(result.stdout).toMatch(/NOT_RUN +low +unused_roles_90d: needs an IAM inventory: set `inventory:` in the config or pass `--inventory <dir>`/);
    expect(result.stderr).not.toContain('unused_roles_90d (');
  });

  it('judges each check against its threshold and says so in the manifest, report and e-mail', async () => {
    // Prepare
    const out = await tempDir('trailwarden-e2e-out-');
    const truth = demo.truth;

    // Act
    const result = await runCli(['run', '--logs', logs, '--out', out, '--as-of', DEMO_AS_OF]);

    // Assess: statuses follow the thresholds applied to the true results
    expect(result.code, result.stderr).toBe(0);
    const [runDir] = await runFolders(out);
    const manifest = await readManifest(runDir!);
    const status = Object.fromEntries(manifest.checks.filter((c) => c.status !== 'not_run').map((c) => [c.id, c.status]));
    expect(manifest.checks.filter((c) => c.status === 'not_run').map((c) => c.id)).toEqual([
      'role_permission_usage_90d',
      'unused_roles_90d',
      'unused_users_90d',
    ]);
    const errors = truth.checks.unauthorized_api_calls_7d!.rows.reduce((sum, row) => sum + Number(row[5]), 0);
    const rows = (id: string) => truth.checks[id]!.rows.length;
    const sum = (id: string, column: string) => {
      const at = truth.checks[id]!.columns.indexOf(column);
      return truth.checks[id]!.rows.reduce((total, row) => total + Number(row[at]), 0);
    };
    const inputComplete = truth.unreadableFiles.length === 0 && truth.partialFiles.every((f) => f.cut === 0);
    const judged = (above: boolean) => (above ? 'fail' : inputComplete ? 'pass' : 'incomplete');
    expect(status).toEqual({
      roles_active_7d: 'info',
      users_active_30d: 'info',
      role_actions_30d: 'info',
      console_logins_30d: 'info',
      root_activity_7d: truth.checks.root_activity_7d!.rows.length > 0 ? 'fail' : 'pass',
      console_login_without_mfa_30d: truth.checks.console_login_without_mfa_30d!.rows.length > 0 ? 'fail' : 'pass',
      console_login_failures_30d: truth.checks.console_login_failures_30d!.rows.length > 10 ? 'fail' : 'pass',
      unauthorized_api_calls_7d: errors > 50 ? 'fail' : 'pass',
      // CIS 4.4–4.15. The demo's truncated file makes the input incomplete: a result within its limit is not a pass.
      iam_policy_changes_7d: judged(rows('iam_policy_changes_7d') > 20),
      cloudtrail_config_changes_7d: judged(sum('cloudtrail_config_changes_7d', 'logging_stopped') > 0),
      kms_key_disabled_or_deleted_7d: judged(rows('kms_key_disabled_or_deleted_7d') > 0),
      s3_bucket_policy_changes_7d: judged(rows('s3_bucket_policy_changes_7d') > 10),
      config_recorder_changes_7d: judged(sum('config_recorder_changes_7d', 'recording_stopped') > 0),
      security_group_changes_7d: 'info',
      nacl_changes_7d: judged(rows('nacl_changes_7d') > 10),
      network_gateway_changes_7d: judged(rows('network_gateway_changes_7d') > 5),
      route_table_changes_7d: 'info',
      vpc_changes_7d: judged(rows('vpc_changes_7d') > 10),
      organizations_changes_7d: judged(rows('organizations_changes_7d') > 0),
      log_integrity_30d: truth.checks.log_integrity_30d!.rows.length > 0 ? 'fail' : 'pass',
    });
    const failed = Object.values(status).filter((s) => s === 'fail').length;
    const incomplete = Object.values(status).filter((s) => s === 'incomplete').length;

    // Every file of the run is in the manifest with its true digest, and every check's CSV is there.
    const names = (await readdir(runDir!)).filter((n) => n !== 'manifest.json').sort();
    expect(manifest.files.map((f) => f.name).sort()).toEqual(names);
    for (const file of manifest.files) {
      const bytes = await readFile(path.join(runDir!, file.name));
      expect(createHash('sha256').update(bytes).digest('hex'), file.name).toBe(file.sha256);
      expect(bytes.byteLength).toBe(file.bytes);
    }
    for (const check of manifest.checks) expect(check.file?.name).toBe(check.status === 'not_run' ? undefined : `${check.id}.csv`);

    // The e-mail in the outbox: subject with the verdict, both parts, every skipped file named (the demo's
    // truncated file is read up to its cut: no file is skipped, and the report says none was).
    const eml = await readFile(path.join(out, 'outbox', `${manifest.run_id}.eml`));
    const mail = await simpleParser(eml);
    const verdict = [`${failed} failed`, ...(incomplete > 0 ? [`${incomplete} incomplete`] : []), '3 not run'].join(', ');
    expect(mail.subject).toBe(`[trailwarden] ${verdict} · 111111111111, 222222222222 · 2026-08-25 → 2026-11-23`);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toBe('security-team@example.com');
    expect(mail.headers.get('x-trailwarden-run-id')).toBe(manifest.run_id);
    const html = String(mail.html);
    const text = mail.text ?? '';
    for (const file of truth.unreadableFiles) expect(html).toContain(file);
    if (truth.unreadableFiles.length > 0) expect(text).toContain(`${truth.unreadableFiles.length} file(s) could not be read`);
    else expect(text).not.toContain('file(s) could not be read');
    // The truncated file's cut record is named with its file and reason, in both parts.
    for (const file of truth.partialFiles) {
      expect(html).toContain(file.path);
      expect(text).toContain(`${file.path}: ${file.cut} record(s): cut off by the end of the file`);
    }
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(await readFile(path.join(runDir!, 'report.html'), 'utf8')).toBe(html);

    // stdout tells the user where everything is
    expect(result.stdout).toContain(path.join(runDir!, 'report.html'));
    expect(result.stdout).toContain(path.join(out, 'outbox', `${manifest.run_id}.eml`));
  });

  it('lets an auditor verify a run folder against its manifest, and names any altered, missing or added file', async () => {
    // Prepare
    const out = await tempDir('trailwarden-e2e-out-');
    await runCli(['run', '--logs', logs, '--out', out, '--as-of', DEMO_AS_OF]);
    const [runDir] = await runFolders(out);

    // Act + Assess: intact
    const intact = await runCli(['verify', runDir!]);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/^OK: run .* \(as of 2026-11-23T08:00:00Z\): all 24 files match the manifest; not signed$/m);

    // Act + Assess: tampered
    const csv = path.join(runDir!, 'root_activity_7d.csv');
    await writeFile(csv, (await readFile(csv, 'utf8')).replace(/\r\n[^\r]*\r\n$/, '\r\n'));
    await rm(path.join(runDir!, 'report.txt'));
    await writeFile(path.join(runDir!, 'extra.csv'), 'x\r\n');
    const tampered = await runCli(['verify', runDir!]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('root_activity_7d.csv: changed');
    expect(tampered.stdout).toContain('report.txt: missing');
    expect(tampered.stdout).toContain('extra.csv: not in the manifest');
    expect(tampered.stderr).toContain('3 problem(s); 22 file(s) match the manifest');
  }, 300_000);

  it('re-reports a past as-of exactly, in a new evidence folder that leaves the earlier one untouched', async () => {
    // Prepare
    const out = await tempDir('trailwarden-e2e-out-');
    const earlier = '2026-11-20T13:30:00Z';
    const expected = computeTruth(demo.truthEvents, earlier);
    await runCli(['run', '--logs', logs, '--out', out, '--as-of', DEMO_AS_OF]);
    const [first] = await runFolders(out);
    const firstManifest = await readFile(path.join(first!, 'manifest.json'));

    // Act
    const result = await runCli(['run', '--logs', logs, '--out', out, '--as-of', earlier]);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const secondDay = path.join(out, 'archive', '2026', '11', '20');
    const [second] = (await readdir(secondDay)).map((n) => path.join(secondDay, n));
    for (const [id, truth] of Object.entries(expected.checks)) {
      expect(await readCsv(path.join(second!, `${id}.csv`)), id).toEqual(asCsvRows(truth));
    }
    expect(await readFile(path.join(first!, 'manifest.json'))).toEqual(firstManifest);
    // Two runs on the demo tree, each hashing its log files for the integrity check.
  }, 240_000);

  it('exits 2 with --fail-on when a check at or above that severity fails, 0 otherwise', async () => {
    const out = await tempDir('trailwarden-e2e-out-');
    const critical = await runCli(['run', '--logs', logs, '--out', out, '--as-of', DEMO_AS_OF, '--fail-on', 'critical']);
    expect(critical.code).toBe(2);
    expect(critical.stderr).toContain('root_activity_7d (fail, critical)');

    // A week without root activity (the truth says which) passes --fail-on critical.
    const days = Array.from({ length: 20 }, (_, i) => new Date(Date.parse('2026-10-26T12:00:00Z') + i * 86_400_000).toISOString().replace('.000Z', 'Z'));
    const calm = days.find((asOf) => computeTruth(demo.truthEvents, asOf).checks.root_activity_7d!.rows.length === 0);
    expect(calm, 'the demo data has a week without root activity').toBeDefined();
    const passing = await runCli(['run', '--logs', logs, '--out', out, '--as-of', calm!, '--fail-on', 'critical']);
    expect(passing.code, passing.stderr).toBe(0);
  });

  it('does not give an all-clear for a window without events: threshold checks are errors', async () => {
    const out = await tempDir('trailwarden-e2e-out-');
    const result = await runCli(['run', '--logs', logs, '--out', out, '--as-of', '2026-01-01T00:00:00Z', '--fail-on', 'low']);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('0 in ');
    expect(result.stdout).toMatch(/ERROR {6}critical root_activity_7d: no CloudTrail events in the window/);
    expect(result.stdout).toMatch(/INFO {7}info {5}roles_active_7d: 0 row/);
  });
});

describe('trailwarden with a broken check or a bad config', () => {
  it('reports a check whose SQL fails as error and still runs the others', async () => {
    // Prepare: the real catalog plus one check with broken SQL
    const dir = await tempDir('trailwarden-e2e-cfg-');
    await cp(path.resolve('config/checks'), path.join(dir, 'checks'), { recursive: true });
    await mkdir(path.join(dir, 'checks', 'broken_sql'));
    await writeFile(
      path.join(dir, 'checks', 'broken_sql', 'check.yaml'),
      'id: broken_sql\ntitle: Broken\ndescription: Refers to a column that does not exist.\nseverity: high\nlookback_days: 7\nparameters: [window_start]\ncolumns: [no_such_column]\nevaluation: { kind: threshold, metric: row_count, fail_above: 0 }\n',
    );
    await writeFile(path.join(dir, 'checks', 'broken_sql', 'query.sql'), 'SELECT no_such_column FROM cloudtrail_window WHERE eventtime >= ?\n');
    await writeFile(
      path.join(dir, 'trailwarden.yaml'),
      `source: { kind: local, path: ${logs} }\narchive: { kind: local, path: out/archive }\nmail: { kind: outbox, path: out/outbox, from: tw@example.com, to: [a@example.com] }\n`,
    );

    // Act
    const result = await runCli(['run', '--config', path.join(dir, 'trailwarden.yaml'), '--as-of', DEMO_AS_OF, '--fail-on', 'high']);

    // Assess
    expect(result.code).toBe(2);
    const [runDir] = await runFolders(path.join(dir, 'out'));
    const manifest = await readManifest(runDir!);
    const broken = manifest.checks.find((c) => c.id === 'broken_sql');
    expect(broken).toMatchObject({ status: 'error', rows: null, file: null });
    expect(manifest.checks.filter((c) => c.status !== 'error')).toHaveLength(23);
    const csv = await readCsv(path.join(runDir!, 'root_activity_7d.csv'));
    expect(csv.slice(1)).toEqual(demo.truth.checks.root_activity_7d!.rows.map((r) => r.map(neutraliseCell)));
    const report = await readFile(path.join(runDir!, 'report.txt'), 'utf8');
    expect(report).toMatch(/ERROR: Broken[\s\S]*no_such_column/);
  });

  it('rejects a bad config with every problem and its key, and runs nothing', async () => {
    const dir = await tempDir('trailwarden-e2e-cfg-');
    const file = path.join(dir, 'bad.yaml');
    await writeFile(
      file,
      'source: { kind: local, path: /x, regions: [moon-1] }\nengine: { kind: duckdb, threads: 0 }\narchive: { kind: local }\nmail: { kind: outbox, path: o, from: nobody, to: [] }\nchecks: { overrides: { no_such_check: { enabled: false } } }\n',
    );

    const result = await runCli(['validate', '--config', file]);

    expect(result.code).toBe(1);
    for (const key of ['source.regions.0', 'engine.threads', 'archive.path', 'mail.from', 'mail.to']) expect(result.stderr).toContain(key);
    // The checks folder (relative to the config, absent here) is reported in the same pass.
    expect(result.stderr).toContain(`${path.join(dir, 'checks')}: cannot read the checks folder`);
    expect(result.stderr.split('\n')[0]).toContain(`${file}: 6 problem(s)`);
    const run = await runCli(['run', '--config', file]);
    expect(run.code).toBe(1);
  });

  it('reports config, check-file and override problems in one pass', async () => {
    // Prepare: a valid config whose checks folder has a broken check, and an override for an unknown check
    const dir = await tempDir('trailwarden-e2e-cfg-');
    await cp(path.resolve('config/checks'), path.join(dir, 'checks'), { recursive: true });
    await writeFile(path.join(dir, 'checks', 'root_activity_7d', 'check.yaml'), 'id: root_activity_7d\ntitle: Root\n');
    const file = path.join(dir, 'trailwarden.yaml');
    await writeFile(
      file,
      'source: { kind: local, path: logs }\narchive: { kind: local, path: a }\nmail: { kind: outbox, path: o, from: a@example.com, to: [b@example.com] }\nchecks: { overrides: { no_such_check: { enabled: false } } }\n',
    );

    // Act
    const result = await runCli(['validate', '--config', file]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path.join(dir, 'checks', 'root_activity_7d', 'check.yaml')}: description:`);
    expect(result.stderr).toContain('root_activity_7d/check.yaml: severity:');
    expect(result.stderr).toContain('checks.overrides.no_such_check: no check with this id');
  });

  it('says clearly when the logs folder holds no CloudTrail tree', async () => {
    const empty = await tempDir();
    const out = await tempDir();
    const result = await runCli(['run', '--logs', empty, '--out', out]);
    expect(result.code).toBe(1);
    const lastLine = result.stderr.trim().split('\n').at(-1);
    expect(lastLine).toContain(`trailwarden: no CloudTrail logs at ${empty}: expected a folder AWSLogs/<account>/CloudTrail/`);
    expect(result.stderr).not.toMatch(/^\s+at /m); // a reason, not a stack trace
  });

  it('lists and validates the suite', async () => {
    const list = await runCli(['checks']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^root_activity_7d\s+critical\s+Root user activity in the last 7 days$/m);
    expect(list.stdout.trim().split('\n')).toHaveLength(23);
    const valid = await runCli(['validate']);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain('valid; 23 checks (23 enabled)');
  });

  it('lists the controls of a framework the suite covers, in control order, and what a disabled check leaves uncovered', async () => {
    // Prepare: the embedded default, and a config that disables the 4.10 check
    const dir = await tempDir('trailwarden-e2e-cfg-');
    const file = path.join(dir, 'trailwarden.yaml');
    await writeFile(
      file,
      `source: { kind: local, path: logs }\narchive: { kind: local, path: a }\nmail: { kind: outbox, path: o, from: a@example.com, to: [b@example.com] }\nchecks: { path: ${JSON.stringify(path.resolve('config/checks'))}, overrides: { security_group_changes_7d: { enabled: false } } }\n`,
    );

    // Act
    const all = await runCli(['checks', '--framework', 'cis_aws_foundations_v1.4']);
    const without = await runCli(['checks', '--config', file, '--framework', 'cis_aws_foundations_v1.4']);
    const unknown = await runCli(['checks', '--framework', 'cis_v9']);

    // Assess
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')[0]).toBe(
      'CIS AWS Foundations v1.4 (cis_aws_foundations_v1.4): 15 of the 15 controls of section 4 (Monitoring) covered by the enabled checks',
    );
    const controls = [...all.stdout.matchAll(/^ {2}(\d+\.\d+) +(\S+)/gm)].map((m) => [m[1], m[2]]);
    expect(controls.map(([control]) => control)).toEqual(['1.12', '3.2', ...Array.from({ length: 15 }, (_, i) => `4.${i + 1}`)]);
    expect(controls).toContainEqual(['4.4', 'iam_policy_changes_7d']);
    expect(controls).toContainEqual(['4.15', 'organizations_changes_7d']);
    expect(all.stdout).toMatch(/^ {2}1\.12 +unused_roles_90d, unused_users_90d$/m);
    expect(all.stdout).not.toContain('Not covered');
    expect(without.code).toBe(0);
    expect(without.stdout).toContain('14 of the 15 controls');
    expect(without.stdout).toMatch(/Not covered:\n {2}4\.10 +Security group changes\n/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown framework "cis_v9" (known: cis_aws_foundations_v1.4, security_hub)');
  });

  it('refuses to group a report by a framework nobody knows, naming the known ones', async () => {
    const dir = await tempDir('trailwarden-e2e-cfg-');
    const file = path.join(dir, 'trailwarden.yaml');
    await writeFile(
      file,
      `source: { kind: local, path: logs }\narchive: { kind: local, path: a }\nmail: { kind: outbox, path: o, from: a@example.com, to: [b@example.com] }\nchecks: { path: ${JSON.stringify(path.resolve('config/checks'))} }\nreport: { group_by: framework, framework: cis_v9 }\n`,
    );
    const result = await runCli(['validate', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('report.framework: unknown framework "cis_v9" (known: cis_aws_foundations_v1.4, security_hub)');
  });
});
