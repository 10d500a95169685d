/**
 * `npm run bench`: the whole run over 1,000,000 generated events, against the cost of just reading
 * the same files once with DuckDB. Each measurement runs in its own process so peak RSS is its own.
 *
 *   events/s   events in the window / wall time of the full run (list, load, 8 checks, evidence, mail)
 *   peak RSS   the run process's maximum resident set
 *   ratio      full run time / one plain DuckDB pass over the same files (every record field the
 *              engine knows, unnest, GROUP BY): the cost of just reading them. Also printed: the
 *              ratio to a pass reading only the fields the checks use, as the run does.
 * Targets: ratio ≤ 1.5, peak RSS < 1.5 GB.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { pino } from 'pino';
import { DEFAULT_CONFIG_FILE } from '../app.js';
import { runOnce } from '../flows/report.js';
import { loadCatalog } from '../config/load.js';
import type { Check } from '../core/catalog.js';
import { runWindow } from '../core/params.js';
import { parseAsOf } from '../core/time.js';
import { columnsUsedBy } from '../core/cloudtrail-table.js';
import { DEMO_AS_OF, generateDemo } from '../demo/generate.js';
import { recordType } from '../engines/duckdb.js';
import { LocalLogSource } from '../source/local.js';
import { PACKAGE_ROOT } from '../version.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BENCH_DIR = path.join(PACKAGE_ROOT, '.bench', `logs-${EVENTS}`);
const RATIO_TARGET = 1.5;
const RSS_TARGET_BYTES = 1.5 * 1024 ** 3;

interface Measurement {
  ms: number;
  maxRssBytes: number;
  events: number;
}

const INFO_FILE = path.join(BENCH_DIR, 'bench-info.json');

/** The files the run reads, less the one the generator corrupts on purpose (a plain read would stop at it). */
async function windowFiles(checks: readonly Check[]): Promise<string[]> {
  const window = runWindow(checks, parseAsOf(DEMO_AS_OF)!);
  const listing = await new LocalLogSource({ path: BENCH_DIR }).list(window);
  const { unreadableFiles } = JSON.parse(await readFile(INFO_FILE, 'utf8')) as { unreadableFiles: string[] };
  return listing.files.filter((f) => !unreadableFiles.includes(f.key)).map((f) => f.path);
}

/**
 * Child: one plain DuckDB pass — the cost of just reading the files: every record field the engine
 * knows (`all`), or only the fields the suite's checks use (`used`), as the run itself reads.
 */
async function plainPass(fields: 'all' | 'used'): Promise<Measurement> {
  const checks = await loadCatalog(path.join(PACKAGE_ROOT, 'config', 'checks'));
  const files = await windowFiles(checks);
  const schema = fields === 'all' ? recordType() : recordType(columnsUsedBy(checks.map((c) => c.sql)));
  const started = performance.now();
  const instance = await DuckDBInstance.create(':memory:', { threads: String(os.availableParallelism()) });
  const connection = await instance.connect();
  const list = `[${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(',')}]`;
  const reader = await connection.runAndReadAll(
    `SELECT r.eventSource, count(*) FROM (
       SELECT unnest(Records) AS r FROM read_json(${list},
         columns = {Records: '${schema}[]'},
         maximum_object_size = 1073741824))
     GROUP BY 1`,
  );
  const events = reader.getRowsJS().reduce((sum, row) => sum + Number(row[1]), 0);
  return { ms: performance.now() - started, maxRssBytes: process.resourceUsage().maxRSS * 1024, events };
}

/** Child: the real job, exactly as `trailwarden run` does it. */
async function fullRun(): Promise<Measurement> {
  const out = path.join(os.tmpdir(), `trailwarden-bench-${process.pid}`);
  const started = performance.now();
  const outcome = await runOnce({ configFile: DEFAULT_CONFIG_FILE, logs: BENCH_DIR, out, asOf: parseAsOf(DEMO_AS_OF) }, pino({ level: 'warn' }));
  const ms = performance.now() - started;
  await rm(out, { recursive: true, force: true });
  return { ms, maxRssBytes: process.resourceUsage().maxRSS * 1024, events: outcome.stats.events };
}

function measure(kind: 'plain' | 'plain-used' | 'run'): Measurement {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`bench child "${kind}" failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Measurement;
}

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex !== -1) {
    const kind = process.argv[childIndex + 1];
    const result = kind === 'plain' ? await plainPass('all') : kind === 'plain-used' ? await plainPass('used') : await fullRun();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  if (!existsSync(BENCH_DIR)) {
    process.stdout.write(`generating ${EVENTS} events into ${BENCH_DIR} (once; cached for later runs)…\n`);
    const started = performance.now();
    const temp = `${BENCH_DIR}.tmp`;
    await rm(temp, { recursive: true, force: true });
    const result = await generateDemo({ outDir: temp, targetEvents: EVENTS });
    await writeFile(path.join(temp, 'bench-info.json'), JSON.stringify({ unreadableFiles: result.unreadableFiles }));
    await rename(temp, BENCH_DIR);
    process.stdout.write(`  ${result.events} events in ${result.files} files, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  const runs = Number(process.env.BENCH_REPEAT ?? 3);
  const plain: Measurement[] = [];
  const plainUsed: Measurement[] = [];
  const full: Measurement[] = [];
  for (let i = 0; i < runs; i += 1) {
    // Interleaved so that a busy moment on the machine hits every side alike.
    plain.push(measure('plain'));
    plainUsed.push(measure('plain-used'));
    full.push(measure('run'));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const plainMs = median(plain.map((m) => m.ms));
  const plainUsedMs = median(plainUsed.map((m) => m.ms));
  const fullMs = median(full.map((m) => m.ms));
  const peak = Math.max(...full.map((m) => m.maxRssBytes));
  const events = full[0]!.events;
  const ratio = fullMs / plainMs;
  const lines = [
    `trailwarden bench: ${EVENTS} generated events, ${events} in the 30-day window, ${os.availableParallelism()} cores, median of ${runs}`,
    `  plain DuckDB pass over the same files: ${(plainMs / 1000).toFixed(2)} s (${plain[0]!.events} records read), peak RSS ${mb(Math.max(...plain.map((m) => m.maxRssBytes)))}`,
    `  plain DuckDB pass, only the fields the checks use: ${(plainUsedMs / 1000).toFixed(2)} s`,
    `  full run (list, load, dedupe, 8 checks, evidence, mail): ${(fullMs / 1000).toFixed(2)} s`,
    `  events/s: ${Math.round(events / (fullMs / 1000))}`,
    `  peak RSS: ${mb(peak)} (target < ${mb(RSS_TARGET_BYTES)}) ${peak < RSS_TARGET_BYTES ? 'OK' : 'OVER'}`,
    `  ratio full run / plain pass: ${ratio.toFixed(2)} (target ≤ ${RATIO_TARGET}) ${ratio <= RATIO_TARGET ? 'OK' : 'OVER'}`,
    `  ratio full run / plain pass over the same fields: ${(fullMs / plainUsedMs).toFixed(2)} (the stricter view; not the target)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (ratio > RATIO_TARGET || peak >= RSS_TARGET_BYTES) process.exitCode = 1;
}

await main();
