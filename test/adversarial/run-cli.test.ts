/**
 * The same problems through the built CLI, as a user meets them: the exit code, the evidence, the report.
 * (`npm run build` first; `npm test` does it.)
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, type CliResult } from '../support/cli.js';
import { rootEvent, routine } from '../support/adversarial.js';
import { tempDir, writeLogFile } from '../support/fixtures.js';

const AS_OF = '2026-11-23T08:00:00Z';

/** The event ids of the run's root_activity_7d.csv, and its manifest's skipped files. */
async function evidence(out: string): Promise<{ rootEvents: string[]; skipped: { path: string; reason: string }[]; runs: number }> {
  const day = path.join(out, 'archive', '2026', '11', '23');
  const runs = await readdir(day);
  const dir = path.join(day, runs[0]!);
  const csv: string[][] = parseCsv(await readFile(path.join(dir, 'root_activity_7d.csv'), 'utf8'));
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { stats: { files_skipped: { path: string; reason: string }[] } };
  const id = csv[0]!.indexOf('event_id');
  return { rootEvents: csv.slice(1).map((row) => row[id]!), skipped: manifest.stats.files_skipped, runs: runs.length };
}

/** Runs the built CLI as another user (uid/gid), with its own temporary folder. */
function runCliAs(uid: number, args: string[], tmp: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { uid, gid: uid, env: { ...process.env, TRAILWARDEN_LOG_LEVEL: 'info', TMPDIR: tmp }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

describe('trailwarden run over logs that hide nothing', () => {
  it('reports a root event from a file DuckDB rejects for one malformed record, and exits 0', async () => {
    // Prepare
    const logs = await tempDir();
    const out = await tempDir();
    const records = [rootEvent('root-in-damaged-file'), { ...routine('bad-1'), userIdentity: 'root' }, routine('routine-1')];
    await writeLogFile(logs, { day: '2026/11/20', content: gzipSync(JSON.stringify({ Records: records })) });

    // Act
    const result = await runCli(['run', '--logs', logs, '--out', out, '--as-of', AS_OF]);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const { rootEvents, skipped } = await evidence(out);
    expect(rootEvents).toEqual(['root-in-damaged-file']);
    expect(skipped).toEqual([]);
  });

  it.runIf(asRoot)('skips a .gz the run may not open, names it, still reports the root events of the others, and exits 0', async () => {
    // Prepare: run as nobody, who may not read a file of mode 0000 (root could: it ignores modes)
    const logs = await tempDir();
    const out = await tempDir();
    const tmp = await tempDir();
    await writeLogFile(logs, { day: '2026/11/20', records: [rootEvent('root-1')] });
    const locked = await writeLogFile(logs, {
      day: '2026/11/20',
      name: '111111111111_CloudTrail_us-east-1_20261120T0100Z_lockedlockedlock.json.gz',
      records: [rootEvent('root-locked')],
    });
    await writeLogFile(logs, { day: '2026/11/21', records: [rootEvent('root-later', '2026-11-21T09:00:00Z')] });
    await chmod(locked, 0o000);
    for (const dir of [logs, out, tmp]) await chmod(dir, 0o777);

    // Act
    const result = await runCliAs(NOBODY, ['run', '--logs', logs, '--out', out, '--as-of', AS_OF], tmp);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const { rootEvents, skipped } = await evidence(out);
    expect(rootEvents).toEqual(['root-1', 'root-later']);
    expect(skipped).toEqual([{ path: path.relative(logs, locked), reason: expect.stringContaining('permission denied (EACCES)') as string }]);
    expect(result.stdout).toContain('1 file(s) could not be read');
  });

  it('exits 1 without a report when DuckDB runs out of memory reading a large valid file, rather than skip it', async () => {
    // Prepare: a 70 MB (uncompressed) delivery file holding a root event, and a memory limit it can't be read in
    const dir = await tempDir();
    const logs = path.join(dir, 'logs');
    const filler = 'x'.repeat(700);
    const records = Array.from({ length: 100_000 }, (_, i) => routine(`e-${i}`));
    for (const r of records) r.userAgent = filler;
    records.push(rootEvent('root-in-large-file'));
    await writeLogFile(logs, { day: '2026/11/20', records });
    await cp(path.resolve('config/checks'), path.join(dir, 'checks'), { recursive: true });
    await mkdir(path.join(dir, 'out'));
    const config = path.join(dir, 'trailwarden.yaml');
    await writeFile(
      config,
      `source: { kind: local, path: logs }\nengine: { kind: duckdb, threads: 2, memory_limit: 200MB }\narchive: { kind: local, path: out/archive }\nmail: { kind: outbox, path: out/outbox, from: tw@example.com, to: [a@example.com] }\n`,
    );

    // Act
    const result = await runCli(['run', '--config', config, '--as-of', AS_OF]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Out of Memory/);
    expect(await readdir(path.join(dir, 'out'))).toEqual([]);
  }, 120_000);
});
