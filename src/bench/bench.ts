/**
 * `npm run bench`: the whole run over 1,000,000 generated events, against the cost of just reading
 * the same files once with DuckDB. Each measurement runs in its own process so peak RSS is its own.
 *
 *   events/s   events in the window / wall time of the full run (list, load, 11 checks with the IAM inventory, evidence, mail)
 *   peak RSS   the run process's maximum resident set
 *   ratio      full run time / one plain DuckDB pass over the same files (every record field the
 *              engine knows, unnest, GROUP BY): the cost of just reading them. Also printed: the
 *              ratio to a pass reading only the fields the checks use, as the run does.
 * Targets: ratio ≤ 1.5, peak RSS < 1.5 GB.
 *
 * Then the cost of corrupt files: the window load (list + DuckDB load, as the run does it) of a tree of 3,000
 * delivery files of which 300 are corrupt in ten different ways (cut short, not gzip, zero padding or junk after
 * the gzip stream, malformed JSON, a record of the wrong shape, a duplicate key, a non-object entry, invalid UTF-8,
 * bytes after the document), against the same 3,000 files intact. Target: ratio ≤ 2.5 (it was 123 s against 4.7 s
 * for 10,000 clean files when every failure re-read the rest of its batch).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { pino } from 'pino';
import { DEFAULT_CONFIG_FILE } from '../app.js';
import { needsInventory, runOnce } from '../flows/report.js';
import { activitySql } from '../inventory/activity.js';
import { loadCatalog } from '../config/load.js';
import type { Check } from '../core/catalog.js';
import { runWindow } from '../core/params.js';
import { parseAsOf, toCloudTrailTime } from '../core/time.js';
import { columnsUsedBy } from '../core/cloudtrail-table.js';
import { DEMO_AS_OF, DEMO_INVENTORY_DIR, generateDemo } from '../demo/generate.js';
import { DuckDbEngine, recordType } from '../engines/duckdb.js';
import { LocalLogSource } from '../source/local.js';
import { PACKAGE_ROOT } from '../version.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BENCH_DIR = path.join(PACKAGE_ROOT, '.bench', `logs-${EVENTS}`);
const RATIO_TARGET = 1.5;
const RSS_TARGET_BYTES = 1.5 * 1024 ** 3;

const CORRUPT_DIR = path.join(PACKAGE_ROOT, '.bench', 'corrupt-3000');
const CORRUPT_TREE_FILES = 3000;
const CORRUPT_EVERY = 10; // 300 corrupt files
const CORRUPT_RECORDS_PER_FILE = 100;
const CORRUPT_RATIO_TARGET = 2.5;

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
  // As the run reads: the columns of the window checks, and of the activity aggregate the inventory checks read.
  const activity = activitySql([toCloudTrailTime(runWindow(checks, parseAsOf(DEMO_AS_OF)!).start)], DEMO_AS_OF);
  const schema = fields === 'all' ? recordType() : recordType(columnsUsedBy([...checks.filter((c) => !needsInventory(c)).map((c) => c.sql), activity]));
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
  // With the demo's IAM inventory: the bench's targets hold with the inventory checks loaded and run.
  const inventory = path.join(BENCH_DIR, DEMO_INVENTORY_DIR);
  const outcome = await runOnce(
    { configFile: DEFAULT_CONFIG_FILE, logs: BENCH_DIR, out, inventory: existsSync(inventory) ? inventory : undefined, asOf: parseAsOf(DEMO_AS_OF) },
    pino({ level: 'warn' }),
  );
  const ms = performance.now() - started;
  await rm(out, { recursive: true, force: true });
  return { ms, maxRssBytes: process.resourceUsage().maxRSS * 1024, events: outcome.stats.events };
}

/** A window load of a corrupt-files tree: what was skipped and dropped, and how many read statements it took. */
interface TreeLoad extends Measurement {
  skipped: number;
  dropped: number;
  statements: number;
}

/** A plain, realistic management event of the corrupt-files trees. */
function treeRecord(file: number, i: number, ms: number): Record<string, unknown> {
  const role = `app-${file % 20}`;
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: `AROAEXAMPLE${file % 20}:session-${i}`,
      arn: `arn:aws:sts::111111111111:assumed-role/${role}/session-${i}`,
      accountId: '111111111111',
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: `AROAEXAMPLE${file % 20}`,
          arn: `arn:aws:iam::111111111111:role/${role}`,
          accountId: '111111111111',
          userName: role,
        },
        attributes: { creationDate: new Date(ms - 3_600_000).toISOString().replace('.000Z', 'Z'), mfaAuthenticated: 'false' },
      },
    },
    eventTime: new Date(ms).toISOString().replace('.000Z', 'Z'),
    eventSource: 'ec2.amazonaws.com',
    eventName: i % 7 === 0 ? 'RunInstances' : 'DescribeInstances',
    awsRegion: 'us-east-1',
    sourceIPAddress: `203.0.113.${file % 250}`,
    userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64',
    requestParameters: { maxResults: 100, filterSet: { items: [{ name: 'tag:team', valueSet: { items: [{ value: role }] } }] } },
    responseElements: null,
    requestID: `req-${file}-${i}`,
    eventID: `evt-${file}-${i}`,
    readOnly: i % 7 !== 0,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111111111111',
    eventCategory: 'Management',
  };
}

/** One file of the corrupt tree: the intact bytes, damaged in one of ten ways when `kind` is given. */
function damage(records: Record<string, unknown>[], kind: number | undefined): Buffer {
  const entries = records.map((r) => JSON.stringify(r));
  const document = (list: string[]) => `{"Records":[${list.join(',')}]}`;
  const middle = Math.floor(entries.length / 2);
  const withMiddle = (text: string) => document([...entries.slice(0, middle), text, ...entries.slice(middle + 1)]);
  switch (kind) {
    case undefined:
      return gzipSync(document(entries), { level: 1 });
    case 0: {
      const gz = gzipSync(document(entries), { level: 1 });
      return gz.subarray(0, Math.floor(gz.length / 2)); // cut short
    }
    case 1:
      return Buffer.from(document(entries)); // not gzip despite its name
    case 2:
      return Buffer.concat([gzipSync(document(entries), { level: 1 }), Buffer.alloc(2048)]); // zero padding
    case 3:
      return Buffer.concat([gzipSync(document(entries), { level: 1 }), Buffer.from('junk')]); // junk after the gzip stream
    case 4:
      return gzipSync(withMiddle(entries[middle]!.slice(0, -20)), { level: 1 }); // malformed JSON
    case 5:
      return gzipSync(withMiddle(entries[middle]!.replace(/"userIdentity":\{/, '"userIdentity":"root","_":{')), { level: 1 }); // wrong shape
    case 6:
      return gzipSync(withMiddle(entries[middle]!.replace('"eventID":', '"eventID":"x","eventID":')), { level: 1 }); // duplicate key
    case 7:
      return gzipSync(document([...entries, '"not a record"']), { level: 1 }); // a non-object entry
    case 8: {
      const [head, tail] = [withMiddle('@@@').split('@@@')[0]!, withMiddle('@@@').split('@@@')[1]!];
      return gzipSync(Buffer.concat([Buffer.from(`${head}{"eventID":"bad","userAgent":"`), Buffer.from([0xff, 0xfe]), Buffer.from(`"}${tail}`)]), { level: 1 });
    }
    default:
      return gzipSync(`${document(entries)}\n}`, { level: 1 }); // bytes after the document
  }
}

/** Writes the two trees of the corrupt-files measurement (once; cached in .bench/). */
async function generateCorruptTrees(): Promise<void> {
  const temp = `${CORRUPT_DIR}.tmp`;
  await rm(temp, { recursive: true, force: true });
  const endMs = Date.parse(DEMO_AS_OF);
  for (let file = 0; file < CORRUPT_TREE_FILES; file++) {
    // Spread over the last 20 days of the window, five-minute deliveries.
    const deliveredMs = endMs - 20 * 86_400_000 + file * 5 * 60_000;
    const records = Array.from({ length: CORRUPT_RECORDS_PER_FILE }, (_, i) => treeRecord(file, i, deliveredMs - (CORRUPT_RECORDS_PER_FILE - i) * 1000));
    const day = new Date(deliveredMs).toISOString().slice(0, 10).replaceAll('-', '/');
    const stamp = new Date(deliveredMs).toISOString().slice(0, 16).replaceAll('-', '').replace(':', '');
    const name = `111111111111_CloudTrail_us-east-1_${stamp}Z_${String(file).padStart(16, '0')}.json.gz`;
    for (const tree of ['clean', 'corrupt'] as const) {
      const dir = path.join(temp, tree, 'AWSLogs', '111111111111', 'CloudTrail', 'us-east-1', ...day.split('/'));
      await mkdir(dir, { recursive: true });
      const kind = tree === 'corrupt' && file % CORRUPT_EVERY === CORRUPT_EVERY - 1 ? Math.floor(file / CORRUPT_EVERY) % 10 : undefined;
      await writeFile(path.join(dir, name), damage(records, kind));
    }
  }
  await rename(temp, CORRUPT_DIR);
}

/** Child: list and load the window of one corrupt-files tree, as a run does. */
async function loadTree(tree: 'clean' | 'corrupt'): Promise<TreeLoad> {
  const window = { start: new Date(Date.parse(DEMO_AS_OF) - 30 * 86_400_000), end: parseAsOf(DEMO_AS_OF)! };
  let statements = 0;
  const log = pino(
    { level: 'debug' },
    { write: (line: string) => void (statements = (JSON.parse(line) as { reads?: { statements: number } }).reads?.statements ?? statements) },
  );
  const started = performance.now();
  const listing = await new LocalLogSource({ path: path.join(CORRUPT_DIR, tree) }).list(window);
  const engine = await DuckDbEngine.create({}, log);
  try {
    const stats = await engine.loadWindow({ window, files: listing.files });
    const ms = performance.now() - started;
    return {
      ms,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      events: stats.events,
      skipped: stats.filesSkipped.length,
      dropped: stats.recordsDropped.reduce((n, d) => n + d.count, 0),
      statements,
    };
  } finally {
    await engine.close();
  }
}

function measure(kind: 'plain' | 'plain-used' | 'run'): Measurement;
function measure(kind: 'load-clean' | 'load-corrupt'): TreeLoad;
function measure(kind: 'plain' | 'plain-used' | 'run' | 'load-clean' | 'load-corrupt'): Measurement {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`bench child "${kind}" failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Measurement;
}

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex !== -1) {
    const kind = process.argv[childIndex + 1];
    const result =
      kind === 'plain'
        ? await plainPass('all')
        : kind === 'plain-used'
          ? await plainPass('used')
          : kind === 'load-clean' || kind === 'load-corrupt'
            ? await loadTree(kind === 'load-clean' ? 'clean' : 'corrupt')
            : await fullRun();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  // A tree generated before the demo had an IAM inventory is generated again.
  if (existsSync(BENCH_DIR) && !existsSync(path.join(BENCH_DIR, DEMO_INVENTORY_DIR))) await rm(BENCH_DIR, { recursive: true, force: true });
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
  if (!existsSync(CORRUPT_DIR)) {
    process.stdout.write(
      `writing ${CORRUPT_TREE_FILES} files twice (intact, and ${CORRUPT_TREE_FILES / CORRUPT_EVERY} of them corrupt) into ${CORRUPT_DIR} (once)…\n`,
    );
    await generateCorruptTrees();
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
  const clean: TreeLoad[] = [];
  const corrupt: TreeLoad[] = [];
  for (let i = 0; i < runs; i += 1) {
    clean.push(measure('load-clean'));
    corrupt.push(measure('load-corrupt'));
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
    `  full run (list, load, dedupe, 11 checks with the IAM inventory, evidence, mail): ${(fullMs / 1000).toFixed(2)} s`,
    `  events/s: ${Math.round(events / (fullMs / 1000))}`,
    `  peak RSS: ${mb(peak)} (target < ${mb(RSS_TARGET_BYTES)}) ${peak < RSS_TARGET_BYTES ? 'OK' : 'OVER'}`,
    `  ratio full run / plain pass: ${ratio.toFixed(2)} (target ≤ ${RATIO_TARGET}) ${ratio <= RATIO_TARGET ? 'OK' : 'OVER'}`,
    `  ratio full run / plain pass over the same fields: ${(fullMs / plainUsedMs).toFixed(2)} (the stricter view; not the target)`,
  ];
  const cleanMs = median(clean.map((m) => m.ms));
  const corruptMs = median(corrupt.map((m) => m.ms));
  const corruptRatio = corruptMs / cleanMs;
  const last = corrupt.at(-1)!;
  lines.push(
    `corrupt files: window load of ${CORRUPT_TREE_FILES} files (${CORRUPT_RECORDS_PER_FILE} events each), median of ${runs}`,
    `  intact: ${(cleanMs / 1000).toFixed(2)} s (${clean[0]!.events} events, ${clean[0]!.statements} read statement(s)), peak RSS ${mb(Math.max(...clean.map((m) => m.maxRssBytes)))}`,
    `  ${CORRUPT_TREE_FILES / CORRUPT_EVERY} of them corrupt: ${(corruptMs / 1000).toFixed(2)} s (${last.events} events, ${last.skipped} file(s) skipped, ${last.dropped} record(s) dropped, ${last.statements} read statements), peak RSS ${mb(Math.max(...corrupt.map((m) => m.maxRssBytes)))}`,
    `  ratio corrupt / intact: ${corruptRatio.toFixed(2)} (target ≤ ${CORRUPT_RATIO_TARGET}) ${corruptRatio <= CORRUPT_RATIO_TARGET ? 'OK' : 'OVER'}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  if (ratio > RATIO_TARGET || peak >= RSS_TARGET_BYTES || corruptRatio > CORRUPT_RATIO_TARGET) process.exitCode = 1;
}

await main();
