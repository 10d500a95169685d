import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/fixtures.js';
import { forgeCsvAndHash, localRunConfig, runFolders } from '../support/manifest.js';

const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A config of one local archive (and `extra` lines), in a new temporary folder with one day of logs. */
async function archiveConfig(extra: readonly string[] = []): Promise<{ config: string; archive: string }> {
  const dir = await tempDir('trailwarden-chain-');
  return { config: await localRunConfig(dir, 'trailwarden.yaml', extra), archive: path.join(dir, 'archive') };
}

describe('the manifest chain (verify --chain)', () => {
  let config = '';
  let archive = '';
  let runs: string[] = [];

  beforeAll(async () => {
    // Prepare: three runs into one archive, as a scheduled job makes them.
    ({ config, archive } = await archiveConfig());
    for (const asOf of ['2026-11-21T00:00:00Z', '2026-11-22T00:00:00Z', '2026-11-21T12:00:00Z']) {
      const run = await runCli(['run', '--config', config, '--as-of', asOf]);
      expect(run.code, run.stderr).toBe(0);
    }
    runs = await runFolders(archive);
  }, 240_000);

  it('links each run to the one before it by the SHA-256 of its manifest, and verifies the whole chain', async () => {
    // Act
    const manifests = await Promise.all(runs.map((run) => readFile(path.join(run, 'manifest.json'))));
    const result = await runCli(['verify', '--chain', '--config', config]);

    // Assess
    expect(runs).toHaveLength(3);
    const links = manifests.map((m) => (JSON.parse(m.toString('utf8')) as { previous: unknown }).previous);
    expect(links).toEqual([
      null,
      { run_id: path.basename(runs[0]!), manifest_sha256: sha256(manifests[0]!) },
      { run_id: path.basename(runs[1]!), manifest_sha256: sha256(manifests[1]!) },
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('plain runs: 3 run(s) verified, chain intact; not signed');
    expect(result.stdout).toContain('OK: 3 run(s) in 1 chain(s) and the manifest chains linking them are intact');
    // Honest about what a chain cannot show.
    expect(result.stdout).toContain('the newest run of each job has no later run to vouch for it');
  });

  it('names the run whose CSV was edited along with its hash in the manifest, which the run alone cannot show', async () => {
    // Prepare: edit the middle run's CSV, and its hash in the manifest, as someone with write access could.
    const middle = runs[1]!;
    const undo = await forgeCsvAndHash(middle);

    // Act
    const alone = await runCli(['verify', middle, '--config', config]);
    const chain = await runCli(['verify', '--chain', '--config', config]);
    const generated = path.basename(runs[0]!).replace(/^(\d{4})(\d{2})(\d{2})T.*$/, '$1-$2-$3');
    const fromToday = await runCli(['verify', '--chain', '--from', generated, '--config', config]);

    // Assess
    expect(alone.code, alone.stderr).toBe(0);
    expect(chain.code).toBe(1);
    expect(chain.stderr).toContain(
      `the manifest chain is broken: run ${path.basename(middle)}: its manifest was changed after run ${path.basename(runs[2]!)} recorded it`,
    );
    expect(fromToday.code).toBe(1);
    await undo();
  });

  it('names the run whose predecessor was removed', async () => {
    // Prepare
    await rm(runs[0]!, { recursive: true });

    // Act
    const chain = await runCli(['verify', '--chain', '--config', config]);

    // Assess
    expect(chain.code).toBe(1);
    expect(chain.stderr).toContain(
      `run ${path.basename(runs[1]!)}: its manifest names ${path.basename(runs[0]!)} as the previous run, which is not in the archive (removed?)`,
    );
  });
});

describe('one manifest chain per job', () => {
  let config = '';
  let runs: { job: string; dir: string }[] = [];

  beforeAll(async () => {
    // Prepare: a daily and a weekly job sharing one archive, their runs interleaved.
    const made = await archiveConfig(['jobs:', '  daily: { type: report, schedule: "0 8 * * *" }', '  weekly: { type: report, schedule: "0 9 * * 1" }']);
    config = made.config;
    const order = [
      ['daily', '2026-11-21T08:00:00Z'],
      ['weekly', '2026-11-21T09:00:00Z'],
      ['daily', '2026-11-22T08:00:00Z'],
      ['weekly', '2026-11-22T09:00:00Z'],
      ['daily', '2026-11-23T08:00:00Z'],
    ] as const;
    for (const [job, asOf] of order) {
      const run = await runCli(['run', '--job', job, '--config', config, '--as-of', asOf]);
      expect(run.code, run.stderr).toBe(0);
    }
    runs = (await runFolders(made.archive)).map((dir, i) => ({ job: order[i]![0], dir }));
  }, 300_000);

  it("links each run to its own job's previous run, never to the other job's, and verifies both chains", async () => {
    // Act
    const manifests = await Promise.all(runs.map((run) => readFile(path.join(run.dir, 'manifest.json'))));
    const result = await runCli(['verify', '--chain', '--config', config]);
    const weeklyOnly = await runCli(['verify', '--chain', '--job', 'weekly', '--config', config]);

    // Assess
    const links = manifests.map((m) => JSON.parse(m.toString('utf8')) as { job: string; previous: unknown });
    expect(links.map((m) => m.job)).toEqual(['daily', 'weekly', 'daily', 'weekly', 'daily']);
    const link = (i: number) => ({ run_id: path.basename(runs[i]!.dir), manifest_sha256: sha256(manifests[i]!) });
    expect(links.map((m) => m.previous)).toEqual([null, null, link(0), link(1), link(2)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('job daily: 3 run(s) verified, chain intact');
    expect(result.stdout).toContain('job weekly: 2 run(s) verified, chain intact');
    expect(result.stdout).toContain('OK: 5 run(s) in 2 chain(s)');
    expect(weeklyOnly.code, weeklyOnly.stderr).toBe(0);
    expect(weeklyOnly.stdout).not.toContain('job daily');
    expect(weeklyOnly.stdout).toContain('OK: 2 run(s) in 1 chain(s)');
  });

  it("removing a middle run of one job breaks only that job's chain, naming the run that lost its predecessor", async () => {
    // Prepare: the second daily run goes.
    await rm(runs[2]!.dir, { recursive: true });

    // Act
    const result = await runCli(['verify', '--chain', '--config', config]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('job weekly: 2 run(s) verified, chain intact');
    expect(result.stdout).toMatch(/job daily: 2 run\(s\) verified, BROKEN/);
    expect(result.stderr).toContain(
      `the manifest chain is broken: run ${path.basename(runs[4]!.dir)}: its manifest names ${path.basename(runs[2]!.dir)} as the previous run, which is not in the archive (removed?)`,
    );
  });
});
