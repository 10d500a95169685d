/**
 * A store-backed run must be a raw run made faster, nothing else (issue 9): on the demo tree — with its truncated
 * file, its duplicate delivery, its uncompressed .json and its digest — the report and every CSV of a run reading
 * the columnar store are those of a run reading the raw logs (`--no-store`) at the same `--as-of`, byte for byte,
 * once the run id, the moment it ran and the archive folder are taken out. (`npm run build` first.)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/config/load.js';
import { DEMO_AS_OF, generateDemo } from '../../src/demo/generate.js';
import { tempDir } from '../support/fixtures.js';
import { AS_OF, normalise, runOnTree } from '../support/store-runs.js';

describe('a store-backed run and a raw run over the demo tree', () => {
  it('write byte-identical CSVs and the same report', async () => {
    // Prepare: a smaller demo (fewer events per file; every special file is still there)
    const logs = await tempDir('trailwarden-store-demo-');
    const demo = await generateDemo({ outDir: logs, targetEvents: 8_000 });
    const storeOut = await tempDir('trailwarden-store-demo-out-');
    const rawOut = await tempDir('trailwarden-store-demo-raw-');

    // Act
    const stored = await runOnTree(logs, storeOut);
    const raw = await runOnTree(logs, rawOut, ['--no-store']);

    // Assess
    expect(AS_OF).toBe(DEMO_AS_OF);
    expect(stored.cli.stderr).toContain('logs converted into the store');
    expect(raw.cli.stderr).not.toContain('into the store');
    expect(stored.manifest.stats.files_skipped.map((f) => f.path)).toEqual(demo.unreadableFiles);
    // Every check of the suite but those that need an IAM inventory (none given: not run, no CSV).
    const catalog = await loadCatalog(path.resolve('config/checks'));
    expect(Object.keys(stored.csvs).sort()).toEqual(
      catalog
        .filter((c) => !(c.requires ?? []).includes('iam_inventory'))
        .map((c) => `${c.id}.csv`)
        .sort(),
    );
    for (const [name, csv] of Object.entries(raw.csvs)) expect(stored.csvs[name], name).toBe(csv);
    expect(stored.manifest.stats).toEqual(raw.manifest.stats);
    for (const name of ['report.txt', 'report.html', 'report.json']) {
      const [a, b] = await Promise.all([
        readFile(path.join(stored.dir, name), 'utf8').then((text) => normalise(text, stored, storeOut)),
        readFile(path.join(raw.dir, name), 'utf8').then((text) => normalise(text, raw, rawOut)),
      ]);
      expect(a, name).toBe(b);
    }
  });
});
