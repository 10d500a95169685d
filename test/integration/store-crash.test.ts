/**
 * The columnar store under crashes and concurrency, with real processes (issue 9): a run killed while it converts
 * leaves no partition a run would read as complete, and the next run reports the right answer; two runs on one
 * store at the same time both complete, with the same evidence. (`npm run build` first; `npm test` does it.)
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures.js';
import { AS_OF, ageLeftLocks, archivedRun, auditStore, runOnTree, smallTree, spawnRun } from '../support/store-runs.js';

const KILL_HOOK = path.resolve('test/support/kill-after-parquet-rename.mjs');

/** Events of `smallTree` in the window, and the duplicate delivery's events removed. */
const TREE_EVENTS = 405;
const TREE_DUPLICATES = 20;

async function archivedRunIds(out: string): Promise<string[]> {
  return readdir(path.join(out, 'archive', '2026', '11', '23')).catch((): string[] => []);
}

describe('a run killed while it converts logs into the store', () => {
  it('leaves no partition read as complete, and the next run completes with the right answer', async () => {
    // Prepare
    const logs = await tempDir('trailwarden-store-logs-');
    const out = await tempDir('trailwarden-store-out-');
    const tree = await smallTree(logs);
    const store = path.join(out, 'store');
    const killed = spawnRun(['--logs', logs, '--out', out, '--as-of', AS_OF]);
    await killed.lineWith('converting logs into the store');
    killed.kill('SIGKILL');
    const { signal } = await killed.exit;
    const afterKill = await auditStore(store, logs);
    const spill = path.join(store, '.spill');
    const leftSpill = (await readdir(spill)).filter((name) => name.startsWith(`trailwarden-duckdb-${killed.pid}-`));
    await ageLeftLocks(store);

    // Act
    const next = await runOnTree(logs, out);

    // Assess: the kill landed before the run ended; nothing half-written is on record
    expect(signal).toBe('SIGKILL');
    expect(await archivedRunIds(out)).toEqual([next.runId]);
    // Converting this tree takes hundreds of milliseconds; the kill follows the start line within a few.
    expect(afterKill.complete.length).toBeLessThan(10);
    expect(afterKill.incomplete).toEqual([]);
    expect(leftSpill).toHaveLength(1);
    // The next run: the right answer, every partition complete, the dead run's spill folder cleaned up
    expect(next.rootEvents).toEqual(tree.rootEvents);
    expect(next.manifest.stats).toMatchObject({ events: TREE_EVENTS, duplicates_removed: TREE_DUPLICATES });
    expect(next.manifest.stats.files_skipped.map((f) => f.path)).toEqual([tree.truncatedKey]);
    const audit = await auditStore(store, logs);
    expect(audit.incomplete).toEqual([]);
    expect(audit.complete).toHaveLength(10);
    expect(existsSync(path.join(spill, leftSpill[0]!))).toBe(false);
  });

  it('killed between putting a segment in place and recording it: the segment is never read, the partition is converted again', async () => {
    // Prepare: the run dies right after the third partition's Parquet file is renamed into place, before its partition.json
    const logs = await tempDir('trailwarden-store-logs-');
    const out = await tempDir('trailwarden-store-out-');
    const tree = await smallTree(logs);
    const store = path.join(out, 'store');
    const killed = spawnRun(['--logs', logs, '--out', out, '--as-of', AS_OF], {
      nodeArgs: ['--import', KILL_HOOK],
      env: { TRAILWARDEN_TEST_KILL_AFTER_PARQUET: '3' },
    });
    const { signal } = await killed.exit;
    const afterKill = await auditStore(store, logs);
    await ageLeftLocks(store);

    // Act
    const next = await runOnTree(logs, out);

    // Assess: two partitions recorded, the third's Parquet file on disk but on no record
    expect(signal).toBe('SIGKILL');
    expect(afterKill.complete).toHaveLength(2);
    expect(afterKill.incomplete).toEqual([]);
    expect(afterKill.unnamed).toHaveLength(1);
    // The next run converted the rest and read only recorded segments: the right events, no extra "duplicates"
    expect(next.rootEvents).toEqual(tree.rootEvents);
    expect(next.manifest.stats).toMatchObject({ events: TREE_EVENTS, duplicates_removed: TREE_DUPLICATES });
    const audit = await auditStore(store, logs);
    expect(audit.complete).toHaveLength(10);
    expect(audit.incomplete).toEqual([]);
    expect(audit.unnamed).toContain(afterKill.unnamed[0]);
  });
});

describe('two runs on one store at the same time', () => {
  it('both complete with identical evidence; the logs are converted once', async () => {
    // Prepare
    const logs = await tempDir('trailwarden-store-logs-');
    const out = await tempDir('trailwarden-store-out-');
    const tree = await smallTree(logs);
    const args = ['--logs', logs, '--out', out, '--as-of', AS_OF];

    // Act
    const runs = [spawnRun(args), spawnRun(args)];
    const exits = await Promise.all(runs.map((run) => run.exit));

    // Assess
    for (const exit of exits) expect(exit.code, exit.stderr).toBe(0);
    const ids = await archivedRunIds(out);
    expect(ids).toHaveLength(2);
    const [a, b] = await Promise.all(ids.map((id) => archivedRun(out, id, { code: 0, stdout: '', stderr: '' })));
    expect(a!.rootEvents).toEqual(tree.rootEvents);
    expect(a!.manifest.stats).toMatchObject({ events: TREE_EVENTS, duplicates_removed: TREE_DUPLICATES });
    expect(b!.csvs).toEqual(a!.csvs);
    expect(b!.manifest.stats).toEqual(a!.manifest.stats);
    // One converted while the other waited for the writers' lock, then read what the first stored.
    expect(exits.filter((exit) => exit.stderr.includes('converting logs into the store'))).toHaveLength(1);
    const audit = await auditStore(path.join(out, 'store'), logs);
    expect(audit).toEqual({ complete: expect.any(Array) as unknown, incomplete: [], unnamed: [] });
    expect(audit.complete).toHaveLength(10);
  });
});
