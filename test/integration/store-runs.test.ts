/**
 * The columnar store through the built CLI, as a user meets it (issue 9): a warm run reads no raw log, a late
 * delivery is picked up, a store of another format is rebuilt rather than misread, and `trailwarden store
 * status|rebuild|prune` do what they say. (`npm run build` first; `npm test` does it.)
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STORE_FORMAT } from '../../src/core/store-partition.js';
import { SCHEMA_DIGEST } from '../../src/store/local.js';
import { rootEvent } from '../support/adversarial.js';
import { runCli } from '../support/cli.js';
import { tempDir, writeLogFile } from '../support/fixtures.js';
import { garble, keyOf, normalise, runOnTree, smallTree, storedPartitions } from '../support/store-runs.js';

/** Events of `smallTree` in the window: 5 days × 2 regions × 2 files × 20 routine calls, and 5 root calls. */
const TREE_EVENTS = 405;
/** The duplicate delivery's 20 events. */
const TREE_DUPLICATES = 20;

/** Every `partition.json` under `store`, as text, by partition. */
async function recordTexts(store: string): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const [key, { dir }] of await storedPartitions(store)) texts.set(key, await readFile(path.join(dir, 'partition.json'), 'utf8'));
  return texts;
}

describe('a run over a stored window', () => {
  it('reads no raw log file: with every file garbled (same name, size and mtime) it reports exactly what the cold run did', async () => {
    // Prepare: a cold run fills the store; then every raw file is overwritten with bytes no reader could use
    const logs = await tempDir('trailwarden-store-logs-');
    const out = await tempDir('trailwarden-store-out-');
    const tree = await smallTree(logs);
    const cold = await runOnTree(logs, out);
    const recordsBefore = await recordTexts(path.join(out, 'store'));
    await garble(tree.files);

    // Act
    const warm = await runOnTree(logs, out);

    // Assess: the cold run was right, and the warm one is the same to the byte, the skipped file still named
    expect(cold.rootEvents).toEqual(tree.rootEvents);
    expect(cold.manifest.stats).toMatchObject({ events: TREE_EVENTS, duplicates_removed: TREE_DUPLICATES, files_read: tree.files.length - 1 });
    expect(cold.manifest.stats.files_skipped.map((f) => f.path)).toEqual([tree.truncatedKey]);
    expect(warm.csvs).toEqual(cold.csvs);
    expect(warm.manifest.stats).toEqual(cold.manifest.stats);
    for (const name of ['report.txt', 'report.html', 'report.json']) {
      const [a, b] = await Promise.all([cold, warm].map(async (run) => normalise(await readFile(path.join(run.dir, name), 'utf8'), run, out)));
      expect(b, name).toBe(a);
    }
    // Nothing was converted again: the store is as the cold run left it.
    expect(await recordTexts(path.join(out, 'store'))).toEqual(recordsBefore);
    expect(warm.cli.stderr).not.toContain('converting logs into the store');
  });

  it('picks up a file delivered late for a day already stored: one new segment, the old one kept, its events reported', async () => {
    // Prepare
    const logs = await tempDir('trailwarden-store-logs-');
    const out = await tempDir('trailwarden-store-out-');
    const tree = await smallTree(logs);
    const first = await runOnTree(logs, out);
    const before = await storedPartitions(path.join(out, 'store'));
    const beforeTexts = await recordTexts(path.join(out, 'store'));
    const late = await writeLogFile(logs, {
      day: '2026/11/20',
      name: '111111111111_CloudTrail_us-east-1_20261120T2355Z_latedeliveryxxxx.json.gz',
      records: [rootEvent('root-delivered-late', '2026-11-20T23:40:00Z')],
    });

    // Act
    const second = await runOnTree(logs, out);

    // Assess
    expect(first.rootEvents).toEqual(tree.rootEvents);
    expect(second.rootEvents).toEqual([...tree.rootEvents, 'root-delivered-late'].sort());
    expect(second.manifest.stats.events).toBe(TREE_EVENTS + 1);
    const after = await storedPartitions(path.join(out, 'store'));
    const day = '111111111111/us-east-1/2026/11/20';
    const [kept, added] = after.get(day)!.meta.segments;
    expect(after.get(day)!.meta.segments).toHaveLength(2);
    expect(kept).toEqual(before.get(day)!.meta.segments[0]);
    expect(added!.sources.map((s) => s.key)).toEqual([keyOf(logs, late)]);
    expect(added!.events).toBe(1);
    // Only that day's partition was written again.
    const afterTexts = await recordTexts(path.join(out, 'store'));
    for (const [key, text] of beforeTexts) if (key !== day) expect(afterTexts.get(key), key).toBe(text);
  });

  it('rebuilds partitions written by an older store format or another column set, never reads them, and reports the same', async () => {
    // Prepare: the store of a run, its records then made to look written by an older trailwarden
    const logs = await tempDir('trailwarden-store-logs-');
    const out = await tempDir('trailwarden-store-out-');
    const tree = await smallTree(logs);
    const first = await runOnTree(logs, out);
    const store = path.join(out, 'store');
    const old = await storedPartitions(store);
    for (const [key, { dir, meta }] of old) {
      const aged = key.includes('us-east-1') ? { ...meta, format: 0 } : { ...meta, schema: 'an-older-column-set' };
      await writeFile(path.join(dir, 'partition.json'), `${JSON.stringify(aged)}\n`);
    }
    const status = await runCli(['store', 'status', '--logs', logs, '--out', out]);

    // Act
    const second = await runOnTree(logs, out);

    // Assess: `store status` saw every partition as outdated; the run rebuilt each one, and reports what the first did
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/111111111111\s+us-east-1\s+5\s.*\s5\n/);
    expect(status.stdout).toMatch(/111111111111\s+eu-west-1\s+5\s.*\s5\n/);
    expect(second.cli.stderr).toContain('converting logs into the store');
    const rebuilt = await storedPartitions(store);
    expect([...rebuilt.keys()]).toEqual([...old.keys()]);
    for (const [key, { meta }] of rebuilt) {
      expect(meta.format, key).toBe(STORE_FORMAT);
      expect(meta.schema, key).toBe(SCHEMA_DIGEST);
      expect(meta.segments, key).toHaveLength(1);
      expect(meta.segments[0]!.files, key).not.toEqual(old.get(key)!.meta.segments[0]!.files);
    }
    expect(second.rootEvents).toEqual(tree.rootEvents);
    expect(second.csvs).toEqual(first.csvs);
    expect(second.manifest.stats).toEqual(first.manifest.stats);
  });
});

describe('trailwarden store status | rebuild | prune', () => {
  it('lists the stored days per account and region, rebuilds only the days asked for, and prunes only the days before the cutoff', async () => {
    // Prepare
    const logs = await tempDir('trailwarden-store-logs-');
    const out = await tempDir('trailwarden-store-out-');
    const tree = await smallTree(logs);
    await runOnTree(logs, out);
    const store = path.join(out, 'store');
    const before = await storedPartitions(store);
    const today = new Date();
    // Keep the days from 2026/11/20 on, whenever the test runs.
    const keepDays = Math.round((Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - Date.UTC(2026, 10, 20)) / 86_400_000);

    // Act
    const status = await runCli(['store', 'status', '--logs', logs, '--out', out]);
    const rebuild = await runCli(['store', 'rebuild', '--logs', logs, '--out', out, '--from', '2026-11-20', '--to', '2026-11-21']);
    const afterRebuild = await storedPartitions(store);
    const prune = await runCli(['store', 'prune', '--logs', logs, '--out', out, '--keep-days', String(keepDays)]);
    const afterPrune = await storedPartitions(store);
    const statusAfter = await runCli(['store', 'status', '--logs', logs, '--out', out]);

    // Assess: status — days, first and last day, events as stored (the duplicate delivery too), the skipped file
    for (const result of [status, rebuild, prune, statusAfter]) expect(result.code, result.stderr).toBe(0);
    expect(status.stdout).toContain(`local folder ${logs}`);
    expect(status.stdout).toMatch(/111111111111\s+eu-west-1\s+5\s+2026\/11\/18\s+2026\/11\/22\s+200\s+[\d.]+ MB\s+0\s+0\n/);
    expect(status.stdout).toMatch(/111111111111\s+us-east-1\s+5\s+2026\/11\/18\s+2026\/11\/22\s+225\s+[\d.]+ MB\s+1\s+0\n/);
    expect(status.stdout).toContain(`skipped ${tree.truncatedKey}: `);
    // rebuild — the partitions of 2026/11/20 and 2026/11/21 converted again (new Parquet files), no other touched
    expect(rebuild.stdout).toContain('store rebuilt: 4 partition(s)');
    const rebuiltDays = [...afterRebuild]
      .filter(([key, { meta }]) => meta.updated !== before.get(key)!.meta.updated)
      .map(([key]) => key)
      .sort();
    expect(rebuiltDays).toEqual([
      '111111111111/eu-west-1/2026/11/20',
      '111111111111/eu-west-1/2026/11/21',
      '111111111111/us-east-1/2026/11/20',
      '111111111111/us-east-1/2026/11/21',
    ]);
    for (const key of rebuiltDays) expect(afterRebuild.get(key)!.meta.segments[0]!.files).not.toEqual(before.get(key)!.meta.segments[0]!.files);
    for (const [key, { meta }] of afterRebuild) if (!rebuiltDays.includes(key)) expect(meta, key).toEqual(before.get(key)!.meta);
    // prune — the days before 2026/11/20 are gone, folder and all; the others stay as they were
    expect(prune.stdout).toContain('store pruned: 4 partition(s) of days before 2026/11/20 removed');
    expect([...afterPrune.keys()]).toEqual([...afterRebuild.keys()].filter((key) => key.slice(-10) >= '2026/11/20'));
    for (const [key, { meta }] of afterPrune) expect(meta, key).toEqual(afterRebuild.get(key)!.meta);
    for (const [key, { dir }] of afterRebuild) {
      if (key.slice(-10) < '2026/11/20') await expect(readdir(dir), key).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expect(statusAfter.stdout).toMatch(/111111111111\s+us-east-1\s+3\s+2026\/11\/20\s+2026\/11\/22\s/);
  });
});
