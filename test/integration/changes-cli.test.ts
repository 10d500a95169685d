/**
 * "Changes since the previous run", end to end: the real CLI run several times on the demo data into one archive.
 * Expected new and gone rows come from the demo's ground truth at each as-of (plus the events this test adds), by
 * each check's own key columns; nothing is hard-coded.
 */
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/config/load.js';
import type { Check } from '../../src/core/catalog.js';
import type { ReportChanges } from '../../src/core/changes.js';
import { DEMO_AS_OF } from '../../src/demo/generate.js';
import { runCli } from '../support/cli.js';
import { computeTruth, type Truth } from '../support/demo-truth.js';
import { toTruthEvent } from '../support/demo-truth-event.js';
import { generateDemoWithTruth, type DemoWithTruth } from '../support/demo-with-truth.js';
import { record, tempDir, writeLogFile } from '../support/fixtures.js';
import { ROOT_IDENTITY } from '../support/report-run.js';

const WEEK_1 = '2026-11-16T08:00:00Z';
const WEEK_2 = DEMO_AS_OF;
const DAY_AFTER = '2026-11-24T08:00:00Z';

interface Run {
  readonly runId: string;
  readonly dir: string;
  readonly text: string;
  readonly changes: ReportChanges;
  readonly manifest: {
    run_id: string;
    job: string | null;
    checks: { id: string; status: string; observed: number | null }[];
    comparison: { outcome: string; compared_with: string | null; previous_run: string | null; row_deltas: { id: string; added: number; removed: number }[] };
    files: { name: string }[];
  };
}

let demo: DemoWithTruth;
let catalog: Check[];
let configFile: string;
let archive: string;
/** Events this test adds to the demo tree before the second week: a root call and a role never seen before. */
let added: ReturnType<typeof toTruthEvent>[];
let week1: Run;
let week2: Run;

/** Runs the built CLI with the test's config as of `asOf`, and reads back the new run folder. */
async function run(asOf: string): Promise<Run> {
  const dayDir = path.join(archive, ...asOf.slice(0, 10).split('-'));
  const before = new Set(await readdir(dayDir).catch(() => []));
  const result = await runCli(['run', '--config', configFile, '--as-of', asOf]);
  expect(result.code, result.stderr).toBe(0);
  const [runId] = (await readdir(dayDir)).filter((name) => !before.has(name));
  const dir = path.join(dayDir, runId!);
  const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as { changes: ReportChanges };
  return {
    runId: runId!,
    dir,
    text: await readFile(path.join(dir, 'report.txt'), 'utf8'),
    changes: report.changes,
    manifest: JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Run['manifest'],
  };
}

/** New and gone rows, by the check's key columns, between the truth at two as-ofs. */
function expectedDeltas(then: Truth, now: Truth): { id: string; added: number; removed: number }[] {
  return catalog
    .filter((check) => then.checks[check.id] && now.checks[check.id])
    .map((check) => {
      const columns = check.key_columns ?? check.columns;
      const keys = (truth: Truth) => {
        const { columns: all, rows } = truth.checks[check.id]!;
        return new Set(rows.map((row) => JSON.stringify(columns.map((column) => row[all.indexOf(column)]))));
      };
      const [before, after] = [keys(then), keys(now)];
      return { id: check.id, added: [...after].filter((k) => !before.has(k)).length, removed: [...before].filter((k) => !after.has(k)).length };
    })
    .filter((delta) => delta.added > 0 || delta.removed > 0);
}

beforeAll(async () => {
  const logs = await tempDir('trailwarden-changes-logs-');
  demo = await generateDemoWithTruth({ outDir: logs });
  const dir = await tempDir('trailwarden-changes-cfg-');
  await cp(path.resolve('config/checks'), path.join(dir, 'checks'), { recursive: true });
  catalog = await loadCatalog(path.join(dir, 'checks'));
  archive = path.join(dir, 'out', 'archive');
  configFile = path.join(dir, 'trailwarden.yaml');
  // Without log_integrity_30d: the second week's added file has no digest, and what the comparison says of the
  // checks on events is what this test judges (the integrity check's rows come from digests, tested elsewhere).
  await writeFile(
    configFile,
    `source: { kind: local, path: ${logs} }\narchive: { kind: local, path: out/archive }\nmail: { kind: outbox, path: out/outbox, from: tw@example.com, to: [a@example.com] }\nchecks: { path: checks, overrides: { log_integrity_30d: { enabled: false } } }\n`,
  );

  week1 = await run(WEEK_1);

  // Changed input for the second week: a root call and a call by a role the demo never had.
  const rootCall = record({ eventTime: '2026-11-22T10:00:00Z', eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', userIdentity: ROOT_IDENTITY });
  const newRole = record({
    eventTime: '2026-11-22T11:00:00Z',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROANEWROLE:s',
      arn: 'arn:aws:sts::111111111111:assumed-role/brand-new-role/s',
      accountId: '111111111111',
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROANEWROLE',
          arn: 'arn:aws:iam::111111111111:role/brand-new-role',
          accountId: '111111111111',
          userName: 'brand-new-role',
        },
        attributes: { creationDate: '2026-11-22T10:59:00Z', mfaAuthenticated: 'false' },
      },
    },
  });
  await writeLogFile(logs, { day: '2026/11/22', records: [rootCall, newRole] });
  added = [rootCall, newRole].map((r) => toTruthEvent(r, '111111111111'));

  week2 = await run(WEEK_2);
}, 600_000);

describe('changes since the previous run, from the CLI', () => {
  it('says on the first run that there is no previous run, and compares nothing', () => {
    expect(week1.changes.outcome).toBe('no_previous_run');
    expect(week1.changes.comparedWith).toBeNull();
    expect(week1.text).toContain('No previous run of this job with this configuration in the archive: nothing to compare with.');
    expect(week1.manifest.comparison).toMatchObject({ outcome: 'no_previous_run', compared_with: null, previous_run: null, row_deltas: [] });
    expect(week1.manifest.job).toBeNull();
    expect(week1.manifest.files.map((f) => f.name)).toContain('row-keys.json');
  });

  it('compares the next week with the first: status changes as the runs recorded them, new and gone rows as the data says', () => {
    // Assess: the run compared with, in the report, report.json and the manifest
    expect(week2.changes.comparedWith?.runId).toBe(week1.runId);
    expect(week2.manifest.comparison.compared_with).toBe(week1.runId);
    expect(week2.text).toContain(`Compared with the previous run of this job, ${week1.runId} (as of ${WEEK_1}).`);

    // Status changes: exactly the checks whose recorded status differs between the two runs
    const before = new Map(week1.manifest.checks.map((c) => [c.id, c.status]));
    const expectedChanges = week2.manifest.checks.filter((c) => before.get(c.id) !== c.status).map((c) => ({ id: c.id, from: before.get(c.id), to: c.status }));
    expect(expectedChanges.length, 'the demo weeks differ in some status').toBeGreaterThan(0);
    expect(week2.changes.statusChanges.map((c) => ({ id: c.id, from: c.from, to: c.to }))).toEqual(expectedChanges);
    for (const change of week2.changes.statusChanges) expect(week2.text).toContain(`  - ${change.title}: ${change.text}`);

    // Row deltas: the truth at each as-of, the second with the events added, by each check's key columns
    const then = computeTruth(demo.truthEvents, WEEK_1);
    const now = computeTruth([...demo.truthEvents, ...added], WEEK_2);
    const expected = expectedDeltas(then, now);
    expect(week2.changes.rowDeltas.filter((d) => d.note === null).map((d) => ({ id: d.id, added: d.added, removed: d.removed }))).toEqual(expected);
    expect(week2.manifest.comparison.row_deltas).toEqual(expected);

    // The added events show by name: the new role among the roles active, the root call's event id among root activity
    const roles = week2.changes.rowDeltas.find((d) => d.id === 'roles_active_7d')!;
    expect(roles.addedExamples).toContain('arn:aws:iam::111111111111:role/brand-new-role');
    expect(week2.text).toMatch(new RegExp(`- roles_active_7d \\(role_arn\\): ${roles.added} new, ${roles.removed} gone`));
  });

  it('shows each check’s observed value over both runs, as recorded', () => {
    for (const series of week2.changes.trend) {
      const observed = (r: Run) => r.manifest.checks.find((c) => c.id === series.id)!.observed;
      expect(
        series.points.map((p) => [p.runId, p.observed]),
        series.id,
      ).toEqual([
        [week1.runId, observed(week1)],
        [week2.runId, observed(week2)],
      ]);
    }
    const root = week2.changes.trend.find((t) => t.id === 'root_activity_7d')!;
    expect(week2.text).toContain(`  - root_activity_7d: ${root.text}`);
    expect(week1.text).toContain(`  - root_activity_7d: ${week1.manifest.checks.find((c) => c.id === 'root_activity_7d')!.observed}`);
  });

  it('re-reports the second week with --as-of: compared with the run before that as-of, as the first report was', async () => {
    // Act: the same as-of again (the second week's own run is not before it)
    const again = await run(WEEK_2);

    // Assess
    expect(again.changes.comparedWith?.runId).toBe(week1.runId);
    expect(again.manifest.comparison.compared_with).toBe(week1.runId);
    expect(again.changes.statusChanges).toEqual(week2.changes.statusChanges);
    expect(again.changes.rowDeltas).toEqual(week2.changes.rowDeltas);
    expect(again.changes.trend.map((t) => t.text)).toEqual(week2.changes.trend.map((t) => t.text));
  });

  it('says when the previous run ran another suite, and takes no baseline', async () => {
    // Prepare: one check's threshold changed in its check.yaml (the config file, and so its digest, unchanged)
    const yamlPath = path.join(path.dirname(configFile), 'checks', 'console_login_failures_30d', 'check.yaml');
    const yaml = await readFile(yamlPath, 'utf8');
    await writeFile(yamlPath, yaml.replace(/fail_above: \d+/, 'fail_above: 1000'));

    // Act
    const changed = await run(DAY_AFTER);

    // Assess
    expect(changed.changes.outcome).toBe('other_suite');
    expect(changed.changes.comparedWith).toBeNull();
    expect(changed.manifest.comparison).toMatchObject({ outcome: 'other_suite', compared_with: null, row_deltas: [] });
    expect(changed.text).toMatch(
      /The previous run of this job, \S+ \(as of 2026-11-23T08:00:00Z\), ran a different suite of checks \(checks changed: console_login_failures_30d\): no baseline, nothing compared\./,
    );
    expect(changed.changes.statusChanges).toEqual([]);
    expect(changed.changes.trendShown).toBe(1);
  });
});
