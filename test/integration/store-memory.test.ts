/**
 * Bounded memory with the columnar store (issue 9): the checks run over the stored window under DuckDB's
 * `memory_limit`, spilling to the spill folder, so a window larger than the limit still completes; and the
 * store's default limit works whatever number of threads is configured. (`npm run build` first.)
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { columnsUsedBy } from '../../src/core/cloudtrail-table.js';
import { DuckDbEngine } from '../../src/engines/duckdb.js';
import { LocalLogSource } from '../../src/source/local.js';
import { LocalEventStore } from '../../src/store/local.js';
import { rootEvent, routine } from '../support/adversarial.js';
import { silentLog, tempDir, writeLogFile } from '../support/fixtures.js';
import { AS_OF, runOnTree, smallTree } from '../support/store-runs.js';

/**
 * The limit the stored window is read under. DuckDB's JSON reader cannot work in it (a buffer of 128 MiB per thread,
 * which it cannot spill), so the tree is converted under a larger one first; the limit then bounds what grows with
 * the window: the window's table and the checks over it.
 */
const BOUNDED = '96MB';
/** 40 files × 1,000 events with a 2,000-character userAgent (a column root_activity_7d reads): 80 MB of it in the window. */
const FILES = 40;
const EVENTS_PER_FILE = 1_000;

async function wideTree(logs: string): Promise<void> {
  const filler = 'x'.repeat(2_000);
  for (let f = 0; f < FILES; f++) {
    const day = `2026/11/${String(16 + (f % 7)).padStart(2, '0')}`;
    const records: Record<string, unknown>[] = Array.from({ length: EVENTS_PER_FILE }, (_, i) => ({
      ...routine(`e-${f}-${i}`, `${day.replaceAll('/', '-')}T10:00:00Z`),
      userAgent: `${filler}-${f}-${i}`,
    }));
    if (f === 0) records.push(rootEvent('root-in-wide-window', '2026-11-20T09:00:00Z'));
    await writeLogFile(logs, { day, records });
  }
}

/** A config over the built-in checks, the store and archive in `dir`, with this `engine:` flow mapping. */
async function configIn(dir: string, name: string, engine: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(
    file,
    [
      'source: { kind: local, path: logs }',
      `engine: ${engine}`,
      'store: { kind: local, path: store }',
      'archive: { kind: local, path: archive }',
      'mail: { kind: outbox, path: outbox, from: tw@example.com, to: [security@example.com] }',
      `checks: { path: ${JSON.stringify(path.resolve('config/checks'))} }`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Quiet regions of an organisation: one small delivery file per region and day, each day a partition of its own. */
const QUIET_REGIONS = [
  ...['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-north-1'],
  ...[
    'ap-south-1',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-northeast-3',
    'ap-southeast-1',
    'ap-southeast-2',
    'sa-east-1',
    'eu-south-1',
    'me-south-1',
    'af-south-1',
  ],
];
const QUIET_DAYS = 30;

async function quietTree(logs: string): Promise<void> {
  for (const region of QUIET_REGIONS) {
    for (let d = 0; d < QUIET_DAYS; d++) {
      const date = new Date(Date.UTC(2026, 9, 24) + d * 86_400_000).toISOString().slice(0, 10);
      const records = [{ ...routine(`quiet-${region}-${date}`, `${date}T12:00:00Z`), awsRegion: region }];
      await writeLogFile(logs, { day: date.replaceAll('-', '/'), region, records });
    }
  }
}

let engine: DuckDbEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

describe('memory_limit with the store', () => {
  it('reads a stored window larger than the limit: the run completes with the same evidence, the window never held in memory nor spilled', async () => {
    // Prepare: the store filled by a run under a limit the JSON reader fits in
    const dir = await tempDir('trailwarden-store-mem-');
    const logs = path.join(dir, 'logs');
    await wideTree(logs);
    const converting = await configIn(dir, 'converting.yaml', '{ kind: duckdb, threads: 2, memory_limit: 1GB }');
    const bounded = await configIn(dir, 'bounded.yaml', `{ kind: duckdb, threads: 2, memory_limit: ${BOUNDED} }`);
    const first = await runOnTree(logs, dir, ['--config', converting]);

    // Act
    const second = await runOnTree(logs, dir, ['--config', bounded]);
    engine = await DuckDbEngine.create(
      { threads: 2, memoryLimit: BOUNDED, store: new LocalEventStore({ path: path.join(dir, 'store'), log: silentLog }) },
      silentLog,
    );
    const source = new LocalLogSource({ path: logs });
    const window = { start: new Date(new Date(AS_OF).getTime() - 30 * 86_400_000), end: new Date(AS_OF) };
    // The columns the built-in checks read, as a run loads them.
    const checks = path.resolve('config/checks');
    const sql = await Promise.all((await readdir(checks)).map((id) => readFile(path.join(checks, id, 'query.sql'), 'utf8')));
    const stats = await engine.loadWindow({ window, files: (await source.list(window)).files, source, columns: columnsUsedBy(sql) });
    const [[limit, userAgentBytes]] = (await engine.query("SELECT current_setting('memory_limit'), sum(length(useragent)) FROM cloudtrail_window", []))
      .rows as [[string, string]];
    // What DuckDB holds once the window is loaded, in memory and spilled: the window stays in its Parquet files.
    const [[held]] = (await engine.query('SELECT sum(memory_usage_bytes) + sum(temporary_storage_bytes) FROM duckdb_memory()', [])).rows as [[string]];

    // Assess: the bounded run is right and equals the first; the window is larger than the limit, and is not copied
    expect(second.rootEvents).toEqual(['root-in-wide-window']);
    expect(second.manifest.stats.events).toBe(FILES * EVENTS_PER_FILE + 1);
    expect(second.csvs).toEqual(first.csvs);
    expect(second.cli.stderr).not.toContain('converting logs into the store');
    expect(stats.events).toBe(FILES * EVENTS_PER_FILE + 1);
    expect(limit).toBe('91.5 MiB');
    expect(Number(userAgentBytes)).toBeGreaterThan(64e6);
    expect(Number(held)).toBeLessThan(Number(userAgentBytes) / 4);
  });

  it("converts with the store's default limit however many threads are configured (fewer read JSON at once)", async () => {
    // Prepare: 8 threads could hold 2 GB of JSON-reading buffers (two of 128 MiB each), far over the default 768MB
    const dir = await tempDir('trailwarden-store-mem-');
    const logs = path.join(dir, 'logs');
    const tree = await smallTree(logs);
    const config = await configIn(dir, 'trailwarden.yaml', '{ kind: duckdb, threads: 8 }');

    // Act
    const run = await runOnTree(logs, dir, ['--config', config]);

    // Assess
    expect(run.rootEvents).toEqual(tree.rootEvents);
    expect(run.manifest.stats.events).toBe(405);
  });

  it("converts many small partitions at once under the store's default limit (a Parquet writer per partition costs memory)", async () => {
    // Prepare: 600 partitions of one small file each, a few hundred kB of gzip: one conversion chunk (one Parquet write
    // for all 600 ran out of memory under 768MB)
    const dir = await tempDir('trailwarden-store-mem-');
    const logs = path.join(dir, 'logs');
    await quietTree(logs);
    const config = await configIn(dir, 'trailwarden.yaml', '{ kind: duckdb, threads: 2 }');

    // Act
    const run = await runOnTree(logs, dir, ['--config', config]);

    // Assess
    expect(run.manifest.stats.events).toBe(QUIET_REGIONS.length * QUIET_DAYS);
    expect(run.manifest.stats.files_skipped).toEqual([]);
  });
});
