import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { loadCatalog } from '../../src/config/load.js';
import { needsInventory } from '../../src/flows/report.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AS_OF } from '../../src/demo/generate.js';
import { TRAIL_BUCKET as DEMO_TRAIL_BUCKET } from '../../src/demo/constants.js';
import { neutraliseCell } from '../../src/render/csv.js';
import { startAthenaServer, type AthenaServer } from '../support/athena-server.js';
import { runCli } from '../support/cli.js';
import { INVENTORY_CHECKS } from '../support/demo-truth.js';
import { generateDemoWithTruth, type DemoWithTruth } from '../support/demo-with-truth.js';
import { tempDir } from '../support/fixtures.js';
import { awsEnv, startS3, type LocalS3 } from '../support/s3.js';

/**
 * The same ground truth as the DuckDB end-to-end test, through the Athena engine: the demo tree in a
 * local S3 (s3rver), our Athena-protocol server executing the SQL it receives over that tree, and the
 * real built CLI with engine athena + source s3. Every check's CSV must equal the generator's truth.
 */

interface Manifest {
  run_id: string;
  engine: string;
  scanned_bytes: number | null;
  estimated_cost_usd: number | null;
  stats: { events: number; files_skipped: { path: string; reason: string }[]; accounts: string[]; regions: string[]; duplicates_removed: number };
  checks: { id: string; status: string; reason: string; rows: number | null; scanned_bytes: number | null }[];
}

// The bucket the demo's digests say they were delivered to: in another bucket they would be "moved", hence invalid.
const TRAIL_BUCKET = DEMO_TRAIL_BUCKET;
const WORK_BUCKET = 'athena-work';

let demo: DemoWithTruth;
let s3: LocalS3;
let athena: AthenaServer;

async function config(dir: string, engineExtra = '', extra = ''): Promise<string> {
  const file = path.join(dir, 'trailwarden.yaml');
  await writeFile(
    file,
    `source:
  kind: s3
  bucket: ${TRAIL_BUCKET}
  endpoint: ${s3.endpoint}
  force_path_style: true
  region: us-east-1
engine:
  kind: athena
  region: us-east-1
  endpoint: ${athena.endpoint}
  database: default
  table: cloudtrail_logs
  workgroup: primary
  output_location: s3://${WORK_BUCKET}/results/
  ctas_location: s3://${WORK_BUCKET}/trailwarden/
  concurrency: 3
  poll_initial_ms: 1
  poll_max_ms: 5
${engineExtra}${extra}archive: { kind: local, path: out/archive }
mail: { kind: outbox, path: out/outbox, from: tw@example.com, to: [security-team@example.com] }
checks: { path: ${path.resolve('config/checks')} }
`,
  );
  return file;
}

async function runFolder(dir: string): Promise<string> {
  const day = path.join(dir, 'out', 'archive', '2026', '11', '23');
  const [run, ...others] = await readdir(day);
  expect(others).toEqual([]);
  return path.join(day, run!);
}

async function readCsv(file: string): Promise<string[][]> {
  return parseCsv(await readFile(file, 'utf8'));
}

function asCsvRows(truth: { columns: string[]; rows: string[][] }): string[][] {
  return [truth.columns, ...truth.rows.map((row) => row.map(neutraliseCell))];
}

/** Window tables left in the catalog, and objects left under the CTAS location. */
async function leftovers(): Promise<{ tables: string[]; objects: string[] }> {
  return { tables: (await athena.tables()).filter((t) => t.startsWith('trailwarden_window_')), objects: await s3.listKeys(WORK_BUCKET, 'trailwarden/') };
}

beforeAll(async () => {
  const logs = await tempDir('trailwarden-athena-e2e-logs-');
  demo = await generateDemoWithTruth({ outDir: logs });
  s3 = await startS3();
  await s3.createBucket(TRAIL_BUCKET);
  await s3.createBucket(WORK_BUCKET);
  await s3.uploadTree(TRAIL_BUCKET, path.join(logs), '');
  athena = await startAthenaServer({ logsDir: logs, bucket: TRAIL_BUCKET, s3: s3.client });
});

afterAll(async () => {
  await athena?.stop();
  await s3?.stop();
});

describe('trailwarden run with engine athena over the demo logs in S3', () => {
  it('reports exactly what the generator knows to be true, check by check and row by row, the IAM inventory checks included', async () => {
    // Prepare
    const dir = await tempDir('trailwarden-athena-e2e-');
    // Athena can't read a truncated object record by record: it leaves the demo's truncated file out whole.
    const truth = demo.truthSkippingDamagedWithInventory;
    const inventory = `inventory: { kind: file, path: ${JSON.stringify(demo.inventoryDir)} }\n`;

    // Act
    const result = await runCli(['run', '--config', await config(dir, '', inventory), '--as-of', DEMO_AS_OF], { env: awsEnv });

    // Assess: the run completed, whatever it found
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/"level":(50|60)/);
    const runDir = await runFolder(dir);
    const manifest = JSON.parse(await readFile(path.join(runDir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.engine).toBe('athena');
    expect(manifest.stats.events).toBe(truth.eventsInWindow);
    expect(manifest.stats.accounts).toEqual(truth.accounts);
    expect(manifest.stats.regions).toEqual(truth.regions);
    expect(manifest.stats.duplicates_removed).toBeGreaterThan(0);
    expect(manifest.stats.files_skipped.map((s) => s.path)).toEqual(truth.unreadableFiles);
    expect(manifest.stats.files_skipped[0]?.reason).toMatch(/HIVE_CURSOR_ERROR/);

    expect(Object.keys(truth.checks).sort()).toEqual(manifest.checks.map((c) => c.id).sort());
    for (const [id, expected] of Object.entries(truth.checks)) {
      expect(await readCsv(path.join(runDir, `${id}.csv`)), id).toEqual(asCsvRows(expected));
    }

    // Cost: what Athena said it scanned, per query and in total, in the manifest and the report.
    expect(manifest.scanned_bytes).toBeGreaterThan(0);
    expect(manifest.estimated_cost_usd).toBeGreaterThan(0);
    // The inventory checks run in-process on Athena's activity aggregate: they scan nothing.
    for (const check of manifest.checks) {
      // So does the log integrity check: its rows come from hashing the objects in-process.
      if (INVENTORY_CHECKS.includes(check.id) || check.id === 'log_integrity_30d') expect(check.scanned_bytes, check.id).toBeNull();
      else expect(check.scanned_bytes, check.id).toBeGreaterThan(0);
    }
    const text = await readFile(path.join(runDir, 'report.txt'), 'utf8');
    expect(text).toMatch(/^Data scanned: {2}\S+ \S+, estimated \$/m);
    // The CTAS and the statistics query are billed separately, each with its own 10 MB minimum.
    expect(text).toContain('  - load window (CTAS): ');
    expect(text).toContain('  - window statistics: ');
    expect(await readFile(path.join(runDir, 'report.html'), 'utf8')).toContain('Data scanned per query');

    // The window was read from the logs once: one CTAS per attempt; every check, and the one activity aggregate the
    // inventory checks share, read the window table.
    const runQueries = [...athena.executions.values()].filter((e) => e.sql.includes(manifest.run_id.toLowerCase().replace(/[^a-z0-9]+/g, '_')));
    const rawReads = runQueries.filter((e) => e.pathsRead.length > 0);
    // (The log integrity check reads no window: it answers from the validation's problems.)
    expect(runQueries.filter((e) => e.sql.startsWith('WITH cloudtrail_window'))).toHaveLength(
      Object.keys(truth.checks).length - INVENTORY_CHECKS.length - 1 + 1,
    );
    expect(rawReads.length).toBeGreaterThan(0);
    expect(rawReads.every((e) => e.sql.startsWith('CREATE TABLE'))).toBe(true);

    // Nothing is left behind.
    expect(await leftovers()).toEqual({ tables: [], objects: [] });
  });

  it("reports a check whose query FAILS as error with Athena's reason, and still runs the others", async () => {
    // Prepare
    const dir = await tempDir('trailwarden-athena-e2e-');
    athena.behave({ match: /CIS 4\.3: root user activity/, fail: "SYNTAX_ERROR: line 9:3: Column 'invokedby' cannot be resolved (test)", times: 1 });

    // Act
    const result = await runCli(['run', '--config', await config(dir), '--as-of', DEMO_AS_OF, '--fail-on', 'critical'], { env: awsEnv });

    // Assess
    expect(result.code, result.stderr).toBe(2);
    const runDir = await runFolder(dir);
    const manifest = JSON.parse(await readFile(path.join(runDir, 'manifest.json'), 'utf8')) as Manifest;
    const root = manifest.checks.find((c) => c.id === 'root_activity_7d')!;
    expect(root).toMatchObject({ status: 'error', rows: null });
    expect(root.reason).toContain("Column 'invokedby' cannot be resolved (test)");
    for (const [id, expected] of Object.entries(demo.truthSkippingDamaged.checks)) {
      if (id !== 'root_activity_7d') expect(await readCsv(path.join(runDir, `${id}.csv`)), id).toEqual(asCsvRows(expected));
    }
    expect(await leftovers()).toEqual({ tables: [], objects: [] });
  });

  it('drops the window table and its objects when the run aborts after the table was written', async () => {
    // Prepare: the stats query after the CTAS fails, which aborts the run
    const dir = await tempDir('trailwarden-athena-e2e-');
    athena.behave({ match: /count_if\(eventtime IS NULL\)/, fail: 'INTERNAL_ERROR_QUERY_ENGINE: worker lost (test)', times: 1 });
    const ctasBefore = [...athena.executions.values()].filter((e) => e.sql.startsWith('CREATE TABLE') && e.state === 'SUCCEEDED').length;

    // Act
    const result = await runCli(['run', '--config', await config(dir), '--as-of', DEMO_AS_OF], { env: awsEnv });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('worker lost (test)');
    expect([...athena.executions.values()].filter((e) => e.sql.startsWith('CREATE TABLE') && e.state === 'SUCCEEDED').length).toBe(ctasBefore + 1);
    expect(await leftovers()).toEqual({ tables: [], objects: [] });
  });

  it("reports every check as error naming the account the table's projection leaves out, never as passed", async () => {
    // Prepare: the table was set up before the second account logged (its enum lists only the first)
    const dir = await tempDir('trailwarden-athena-e2e-');
    const [kept, left] = demo.truthSkippingDamaged.accounts;
    athena.setTableProperties('default.cloudtrail_logs', {
      'projection.enabled': 'true',
      'projection.account.type': 'enum',
      'projection.account.values': kept!,
      'projection.region.type': 'enum',
      'projection.region.values': demo.truthSkippingDamaged.regions.join(','),
    });

    // Act
    const result = await runCli(['run', '--config', await config(dir), '--as-of', DEMO_AS_OF, '--fail-on', 'info'], { env: awsEnv });
    athena.setTableProperties('default.cloudtrail_logs', {});

    // Assess: exit 2, and no check passed or reported on the partial data
    expect(result.code, result.stderr).toBe(2);
    const manifest = JSON.parse(await readFile(path.join(await runFolder(dir), 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.checks.length).toBeGreaterThan(0);
    // The inventory checks need an IAM inventory this config has none of: "not run", as on any run without one (never pass).
    const inventoryChecks = new Set((await loadCatalog(path.resolve('config/checks'))).filter(needsInventory).map((c) => c.id));
    for (const check of manifest.checks) {
      if (inventoryChecks.has(check.id)) {
        expect(check.status, check.id).toBe('not_run');
        continue;
      }
      if (check.id === 'log_integrity_30d') {
        // Log file validation reads the bucket itself, every account, not the Athena table: it finds the demo's tampering.
        expect(check.status, check.id).toBe(demo.truthSkippingDamaged.checks.log_integrity_30d!.rows.length > 0 ? 'fail' : 'pass');
        continue;
      }
      expect(check.status, check.id).toBe('error');
      expect(check.reason, check.id).toContain(`account(s) ${left} (not in projection.account.values)`);
    }
    expect(manifest.checks.filter((c) => !inventoryChecks.has(c.id)).length).toBeGreaterThan(0);
    expect(await leftovers()).toEqual({ tables: [], objects: [] });
  });

  it('refuses to start a window that would scan more than the budget, before any query', async () => {
    // Prepare
    const dir = await tempDir('trailwarden-athena-e2e-');
    const queriesBefore = [...athena.executions.values()].filter((e) => e.statementType === 'DML').length;

    // Act
    const result = await runCli(['run', '--config', await config(dir, '  scan_budget_gb: 0.001\n'), '--as-of', DEMO_AS_OF], { env: awsEnv });

    // Assess
    expect(result.code).toBe(1);
    const reason = result.stderr.trim().split('\n').at(-1)!;
    expect(reason).toMatch(/^trailwarden: the window's \d+ CloudTrail objects hold .* more than the scan budget of .*Raise engine\.scan_budget_gb/);
    expect([...athena.executions.values()].filter((e) => e.statementType === 'DML').length).toBe(queriesBefore);
  });
});
