/**
 * `npm run bench`: whole runs over generated CloudTrail logs, raw and from the columnar store, against the cost of
 * just reading the same files once with DuckDB. Each measurement runs in its own process so peak RSS is its own.
 *
 * BENCH_EVENTS (default 1,000,000; on demand 10,000,000) sets the density of the generated logs: BENCH_EVENTS events
 * per 36⅓ days, as the demo generator's default range had, so about 0.8 × BENCH_EVENTS fall in a 30-day window. The
 * tree spans 91 days before the as-of (for a 90-day lookback) and 2 after (for the day that arrives later): about
 * 2.6 × BENCH_EVENTS events. It is generated once into .bench/ and then hard-linked into a "live" tree that holds
 * what had been delivered by a point in time.
 *
 * Raw path (no store), as before the store (the raw run only up to 1M events, or with BENCH_RAW=1):
 *   plain pass   one plain DuckDB pass over the window's files (every record field the engine knows, unnest,
 *                GROUP BY): the cost of just reading them. Also: a pass reading only the fields the checks use.
 *   raw run      the whole job with `noStore` (list, load, 8 checks, evidence, mail).
 *                Targets: raw run / plain pass ≤ 1.5; peak RSS < 1.5 GB (judged up to 1M events only: the raw
 *                path holds the window in a DuckDB table, spilled above its limit, which is what the store avoids).
 * Store (issue 9), on one store folder, in this order:
 *   cold         the same run on an empty store (converts the window, then reads it)   ≤ 1.5 × plain pass
 *   warm         the same run again                                                    ≥ 10 × faster than cold
 *   next day     one more day of deliveries arrives; the run as of a day later         ≤ 0.2 × cold
 *   90 days      the checks with a 90-day lookback, as of that day (converts 60 more days), then again warm
 *   size         the store's files on disk                                              ≤ 0.5 × the gzip logs
 *   peak RSS     of every store run                           ≤ 1 GB up to 1M events, ≤ 1.5 GB above (10M)
 * Times are the median of BENCH_REPEAT (default 3) rounds, interleaved so that a busy moment on the machine hits
 * every side alike; each round starts from an empty store and the tree as of the first as-of. The 90-day runs
 * come once, after the last round. Peak RSS is the maximum over the rounds.
 *
 * Then the cost of corrupt files: the window load (list + DuckDB load, as the run does it) of a tree of 3,000
 * delivery files of which 300 are corrupt in ten different ways (cut short, not gzip, zero padding or junk after
 * the gzip stream, malformed JSON, a record of the wrong shape, a duplicate key, a non-object entry, invalid UTF-8,
 * bytes after the document), against the same 3,000 files intact. Target: ratio ≤ 2.5 (it was 123 s against 4.7 s
 * for 10,000 clean files when every failure re-read the rest of its batch).
 *
 * The children's logs go to stderr at TRAILWARDEN_LOG_LEVEL (default: errors only); `debug` shows, among others,
 * each 'store chunk converted' with its readMs and writeMs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { pino, type Logger } from 'pino';
import { DEFAULT_CONFIG_FILE } from '../app.js';
import { needsInventory, runOnce } from '../flows/report.js';
import { activitySql } from '../inventory/activity.js';
import { loadCatalog, loadSetup } from '../config/load.js';
import type { Check } from '../core/catalog.js';
import { runWindow } from '../core/params.js';
import { parseAsOf, toCloudTrailTime } from '../core/time.js';
import { fieldsUsedBy } from '../core/cloudtrail-table.js';
import { DEMO_AS_OF, DEMO_INVENTORY_DIR, generateDemo } from '../demo/generate.js';
import { DuckDbEngine, recordType } from '../engines/duckdb.js';
import { LocalLogSource } from '../source/local.js';
import { PACKAGE_ROOT } from '../version.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const DAY_MS = 86_400_000;
const AS_OF = parseAsOf(DEMO_AS_OF)!;
/** The run "one day later", after another day of deliveries arrived. */
const NEXT_AS_OF = new Date(AS_OF.getTime() + DAY_MS);
const LONG_LOOKBACK_DAYS = 90;
/** Generated history: the 90-day window from the later as-of, and the delivery day before it. */
const DAYS_BEFORE = LONG_LOOKBACK_DAYS + 1;
/** Generated future: the day the first runs see (as the demo has it), and the day that arrives later. */
const DAYS_AFTER = 2;

/** The span of a generated tree, as the demo generator computes it (its start is a midnight). */
function generatedMs(daysBefore: number, daysAfter: number): number {
  return AS_OF.getTime() + daysAfter * DAY_MS - Math.floor((AS_OF.getTime() - daysBefore * DAY_MS) / DAY_MS) * DAY_MS;
}
/** BENCH_EVENTS over the generator's default range (35 days before, 1 after): the density the earlier figures had. */
const GENERATED_EVENTS = Math.round((EVENTS * generatedMs(DAYS_BEFORE, DAYS_AFTER)) / generatedMs(35, 1));

const BENCH_ROOT = path.join(PACKAGE_ROOT, '.bench');
/** The generated tree (cached): everything delivered until DAYS_AFTER days after the as-of. */
const TREE_DIR = path.join(BENCH_ROOT, `logs-${EVENTS}-${DAYS_BEFORE}d`);
const INFO_FILE = path.join(TREE_DIR, 'bench-info.json');
/** Hard links to the files of TREE_DIR delivered by a point in time: the tree every measurement reads. */
const LIVE_DIR = path.join(BENCH_ROOT, `live-${EVENTS}`);
/** The store runs' `out` folder: `store/` persists from run to run within a round; archive and outbox are removed. */
const STORE_OUT = path.join(BENCH_ROOT, `out-${EVENTS}`);

const GB = 1024 ** 3;
const RATIO_TARGET = 1.5;
const RAW_RSS_TARGET_BYTES = 1.5 * GB;
const COLD_RATIO_TARGET = 1.5;
const WARM_SPEEDUP_TARGET = 10;
const NEXT_DAY_RATIO_TARGET = 0.2;
const STORE_RSS_TARGET_BYTES = EVENTS <= 1_000_000 ? 1 * GB : 1.5 * GB;
const STORE_SIZE_RATIO_TARGET = 0.5;

/**
 * The raw run holds the window in a DuckDB table (about 1 GB per million events in it), which spills above the raw
 * default limit (1GB): above 1M events it would write tens of GB (about 25 at 10M) to the spill folder, so it runs
 * there only when BENCH_RAW=1 asks for it.
 */
const WITH_RAW = EVENTS <= 1_000_000 || process.env.BENCH_RAW === '1';

const CORRUPT_DIR = path.join(BENCH_ROOT, 'corrupt-3000');
const CORRUPT_TREE_FILES = 3000;
const CORRUPT_EVERY = 10; // 300 corrupt files
const CORRUPT_RECORDS_PER_FILE = 100;
const CORRUPT_RATIO_TARGET = 2.5;

interface Measurement {
  ms: number;
  maxRssBytes: number;
  events: number;
}

/** A run's measurement, with what its log said about the phases and the store. */
interface RunMeasurement extends Measurement {
  /** `ms` of the run's phases ('list logs', 'load window', 'run checks'…). */
  phases: Record<string, number>;
  /** Delivery files converted into the store by this run (0: it read no raw log). */
  converted: number;
  /** Summed over the conversion's chunks: reading the raw files, writing Parquet. */
  convertReadMs: number;
  convertWriteMs: number;
}

/** The delivery time in a CloudTrail file name (`…_20261123T0805Z_…`), or undefined for a name without one. */
function deliveredAt(name: string): number | undefined {
  const match = /_(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)Z_/.exec(name);
  return match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5])) : undefined;
}

/**
 * Makes LIVE_DIR hold (hard links to) every file of TREE_DIR delivered by `until`: the tree as it stood then. Adds
 * what is missing, so a later `until` is the logs that arrived since. One folder at a time: no list of the tree.
 */
async function stageTree(until: Date, dir = ''): Promise<number> {
  let linked = 0;
  const entries = await readdir(path.join(TREE_DIR, dir), { withFileTypes: true });
  let made = false;
  for (const entry of entries) {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      linked += await stageTree(until, relative);
      continue;
    }
    if (dir === '' || (deliveredAt(entry.name) ?? 0) > until.getTime()) continue; // bench-info.json; not yet delivered
    if (!made) await mkdir(path.join(LIVE_DIR, dir), { recursive: true });
    made = true;
    try {
      await link(path.join(TREE_DIR, relative), path.join(LIVE_DIR, relative));
      linked += 1;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return linked;
}

/** Bytes of the files under `dir`, its dot-folders (spill, staging, lock) left out. */
async function diskBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    bytes += entry.isDirectory() ? await diskBytes(full) : (await stat(full)).size;
  }
  return bytes;
}

/** The files the run reads, less the one the generator corrupts on purpose (a plain read would stop at it). */
async function windowFiles(checks: readonly Check[]): Promise<string[]> {
  const window = runWindow(checks, AS_OF);
  const listing = await new LocalLogSource({ path: LIVE_DIR }).list(window);
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
  const activity = activitySql([toCloudTrailTime(runWindow(checks, AS_OF).start)], toCloudTrailTime(AS_OF));
  const schema = fields === 'all' ? recordType() : recordType(fieldsUsedBy([...checks.filter((c) => !needsInventory(c)).map((c) => c.sql), activity]));
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

/**
 * A logger that keeps what the bench reports (phase times, conversion figures) and passes lines at or above
 * TRAILWARDEN_LOG_LEVEL (default: errors only) to stderr; stdout carries only the child's result.
 */
function runLogger(into: RunMeasurement): Logger {
  const shown = pino.levels.values[process.env.TRAILWARDEN_LOG_LEVEL ?? 'error'] ?? pino.levels.values.error!;
  return pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as { level: number; msg?: string; phase?: string; ms?: number; readMs?: number; writeMs?: number; converted?: number };
        if (entry.phase !== undefined && entry.ms !== undefined && entry.msg === entry.phase) into.phases[entry.phase] = entry.ms;
        if (entry.msg === 'window loaded from the store') into.converted = entry.converted ?? 0;
        if (entry.msg === 'store chunk converted') {
          into.convertReadMs += entry.readMs ?? 0;
          into.convertWriteMs += entry.writeMs ?? 0;
        }
        if (entry.level >= shown) process.stderr.write(line);
      },
    },
  );
}

/**
 * Child: the real job, exactly as `trailwarden run` does it: on the raw logs (`noStore`), or on the store in
 * STORE_OUT as it is, as of `asOf`, with every check's lookback set to `lookbackDays` when given.
 */
async function fullRun(options: { store: boolean; asOf: Date; lookbackDays?: number }): Promise<RunMeasurement> {
  const out = options.store ? STORE_OUT : path.join(os.tmpdir(), `trailwarden-bench-${process.pid}`);
  const setup = await loadSetup(DEFAULT_CONFIG_FILE);
  const lookback = (checks: readonly Check[]) => checks.map((check) => ({ ...check, lookback_days: options.lookbackDays ?? check.lookback_days }));
  const result: RunMeasurement = { ms: 0, maxRssBytes: 0, events: 0, phases: {}, converted: 0, convertReadMs: 0, convertWriteMs: 0 };
  const started = performance.now();
  const outcome = await runOnce(
    {
      configFile: DEFAULT_CONFIG_FILE,
      setup: { ...setup, catalog: lookback(setup.catalog), checks: lookback(setup.checks) },
      logs: LIVE_DIR,
      out,
      noStore: !options.store,
      // With the demo's IAM inventory: the targets hold with the inventory checks loaded and run.
      inventory: existsSync(path.join(TREE_DIR, DEMO_INVENTORY_DIR)) ? path.join(TREE_DIR, DEMO_INVENTORY_DIR) : undefined,
      asOf: options.asOf,
    },
    runLogger(result),
  );
  result.ms = performance.now() - started;
  result.maxRssBytes = process.resourceUsage().maxRSS * 1024;
  result.events = outcome.stats.events;
  // A check that failed to run would make the time meaningless.
  const errors = outcome.findings.filter((f) => f.status === 'error').map((f) => f.checkId);
  if (errors.length > 0) throw new Error(`checks ended in error: ${errors.join(', ')}`);
  if (options.store) {
    for (const folder of ['archive', 'outbox']) await rm(path.join(out, folder), { recursive: true, force: true });
  } else {
    await rm(out, { recursive: true, force: true });
  }
  return result;
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

/** The whole runs, by child kind: raw, then the store runs in the order a round makes them. */
const RUNS = {
  raw: { store: false, asOf: AS_OF },
  'store-cold': { store: true, asOf: AS_OF },
  'store-warm': { store: true, asOf: AS_OF },
  'store-next-day': { store: true, asOf: NEXT_AS_OF },
  'store-90d': { store: true, asOf: NEXT_AS_OF, lookbackDays: LONG_LOOKBACK_DAYS },
  'store-90d-warm': { store: true, asOf: NEXT_AS_OF, lookbackDays: LONG_LOOKBACK_DAYS },
} as const;
type RunKind = keyof typeof RUNS;

function measure(kind: 'plain' | 'plain-used'): Measurement;
function measure(kind: RunKind): RunMeasurement;
function measure(kind: 'load-clean' | 'load-corrupt'): TreeLoad;
function measure(kind: 'plain' | 'plain-used' | RunKind | 'load-clean' | 'load-corrupt'): Measurement {
  // The child's stderr (its logs at TRAILWARDEN_LOG_LEVEL, an error's stack) goes straight to ours.
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`bench child "${kind}" failed (exit ${child.status ?? child.signal}); its stderr is above`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Measurement;
}

async function child(kind: string): Promise<Measurement> {
  if (kind === 'plain' || kind === 'plain-used') return plainPass(kind === 'plain' ? 'all' : 'used');
  if (kind === 'load-clean' || kind === 'load-corrupt') return loadTree(kind === 'load-clean' ? 'clean' : 'corrupt');
  if (kind in RUNS) return fullRun(RUNS[kind as RunKind]);
  throw new Error(`unknown bench child "${kind}"`);
}

/** Generates the trees the measurements read, once (cached in .bench/). */
async function prepareTrees(): Promise<void> {
  // A tree generated before the demo had an IAM inventory is generated again.
  if (existsSync(TREE_DIR) && !existsSync(path.join(TREE_DIR, DEMO_INVENTORY_DIR))) await rm(TREE_DIR, { recursive: true, force: true });
  if (!existsSync(TREE_DIR)) {
    process.stdout.write(
      `generating ${GENERATED_EVENTS} events (${DAYS_BEFORE} days before the as-of, ${DAYS_AFTER} after) into ${TREE_DIR} (once; cached for later runs)…\n`,
    );
    const started = performance.now();
    const temp = `${TREE_DIR}.tmp`;
    await rm(temp, { recursive: true, force: true });
    const result = await generateDemo({ outDir: temp, targetEvents: GENERATED_EVENTS, daysBefore: DAYS_BEFORE, daysAfter: DAYS_AFTER });
    await writeFile(INFO_FILE.replace(TREE_DIR, temp), JSON.stringify({ unreadableFiles: result.unreadableFiles, events: result.events, files: result.files }));
    await rename(temp, TREE_DIR);
    process.stdout.write(`  ${result.events} events in ${result.files} files, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  if (!existsSync(CORRUPT_DIR)) {
    process.stdout.write(
      `writing ${CORRUPT_TREE_FILES} files twice (intact, and ${CORRUPT_TREE_FILES / CORRUPT_EVERY} of them corrupt) into ${CORRUPT_DIR} (once)…\n`,
    );
    await generateCorruptTrees();
  }
}

/** The start of a round: an empty store, and the tree as it stood a day after the as-of. */
async function startRound(): Promise<void> {
  await rm(STORE_OUT, { recursive: true, force: true });
  await rm(LIVE_DIR, { recursive: true, force: true });
  await stageTree(NEXT_AS_OF);
}

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** The measurement of median time, whose details (phases, conversion) are printed. */
const medianOf = <M extends Measurement>(ms: readonly M[]) => [...ms].sort((a, b) => a.ms - b.ms)[Math.floor(ms.length / 2)]!;
const peakOf = (ms: readonly Measurement[]) => Math.max(...ms.map((m) => m.maxRssBytes));

/** One line of the table: median time, peak RSS, events, and what else there is to say. */
function row(name: string, ms: readonly Measurement[], note = ''): string {
  return `  ${name.padEnd(50)} ${seconds(median(ms.map((m) => m.ms))).padStart(9)} ${mb(peakOf(ms)).padStart(9)} ${String(ms[0]!.events).padStart(10)}${note ? `  ${note}` : ''}`;
}

/** What a run did besides its total: loading the window (and converting into the store), running the checks. */
function runNote(ms: readonly RunMeasurement[]): string {
  const m = medianOf(ms);
  const convert = m.converted > 0 ? `, ${m.converted} files converted (read ${seconds(m.convertReadMs)}, write ${seconds(m.convertWriteMs)})` : '';
  return `load window ${seconds(m.phases['load window'] ?? 0)}${convert}, checks ${seconds(m.phases['run checks'] ?? 0)}`;
}

/** One target: the line that reports it, and whether it was met. */
function target(label: string, value: string, wanted: string, met: boolean): { line: string; met: boolean } {
  return { line: `  ${label}: ${value} (target ${wanted}) ${met ? 'OK' : 'MISSED'}`, met };
}

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex !== -1) {
    process.stdout.write(`${JSON.stringify(await child(process.argv[childIndex + 1] ?? ''))}\n`);
    return;
  }
  await prepareTrees();
  const runs = Number(process.env.BENCH_REPEAT ?? 3);
  const plain: Measurement[] = [];
  const plainUsed: Measurement[] = [];
  const raw: RunMeasurement[] = [];
  const cold: RunMeasurement[] = [];
  const warm: RunMeasurement[] = [];
  const nextDay: RunMeasurement[] = [];
  let arrived = 0;
  for (let i = 0; i < runs; i += 1) {
    // Interleaved so that a busy moment on the machine hits every side alike.
    await startRound();
    plain.push(measure('plain'));
    plainUsed.push(measure('plain-used'));
    if (WITH_RAW) raw.push(measure('raw'));
    cold.push(measure('store-cold'));
    warm.push(measure('store-warm'));
    arrived = await stageTree(new Date(NEXT_AS_OF.getTime() + DAY_MS));
    nextDay.push(measure('store-next-day'));
  }
  // Once, on the last round's store: 60 more days converted, then the 90-day window read warm.
  const long = [measure('store-90d')];
  const longWarm = [measure('store-90d-warm')];

  const longWindow = runWindow([{ lookback_days: LONG_LOOKBACK_DAYS }], NEXT_AS_OF);
  const gzipBytes = (await new LocalLogSource({ path: LIVE_DIR }).list(longWindow)).files.reduce((n, f) => n + f.bytes, 0);
  const storeBytes = await diskBytes(path.join(STORE_OUT, 'store'));

  const clean: TreeLoad[] = [];
  const corrupt: TreeLoad[] = [];
  for (let i = 0; i < runs; i += 1) {
    clean.push(measure('load-clean'));
    corrupt.push(measure('load-corrupt'));
  }

  const { events: generated } = JSON.parse(await readFile(INFO_FILE, 'utf8')) as { events?: number };
  const plainMs = median(plain.map((m) => m.ms));
  const rawMs = raw.length > 0 ? median(raw.map((m) => m.ms)) : Number.NaN;
  const coldMs = median(cold.map((m) => m.ms));
  const warmMs = median(warm.map((m) => m.ms));
  const nextDayMs = median(nextDay.map((m) => m.ms));
  const storeRuns = [...cold, ...warm, ...nextDay, ...long, ...longWarm];
  const storePeak = peakOf(storeRuns);
  const rawPeak = raw.length > 0 ? peakOf(raw) : Number.NaN;
  const cleanMs = median(clean.map((m) => m.ms));
  const corruptMs = median(corrupt.map((m) => m.ms));
  const last = corrupt.at(-1)!;

  const targets = [
    target('store: cold run / plain pass', (coldMs / plainMs).toFixed(2), `≤ ${COLD_RATIO_TARGET}`, coldMs / plainMs <= COLD_RATIO_TARGET),
    target('store: cold run / warm run', (coldMs / warmMs).toFixed(1), `≥ ${WARM_SPEEDUP_TARGET}`, coldMs / warmMs >= WARM_SPEEDUP_TARGET),
    target('store: next-day run / cold run', (nextDayMs / coldMs).toFixed(2), `≤ ${NEXT_DAY_RATIO_TARGET}`, nextDayMs / coldMs <= NEXT_DAY_RATIO_TARGET),
    target('store: peak RSS of every store run (90-day ones included)', mb(storePeak), `≤ ${mb(STORE_RSS_TARGET_BYTES)}`, storePeak <= STORE_RSS_TARGET_BYTES),
    target(
      `store: size on disk / gzip logs (${mb(storeBytes)} / ${mb(gzipBytes)})`,
      (storeBytes / gzipBytes).toFixed(2),
      `≤ ${STORE_SIZE_RATIO_TARGET}`,
      storeBytes / gzipBytes <= STORE_SIZE_RATIO_TARGET,
    ),
    ...(WITH_RAW
      ? [
          target('raw: raw run / plain pass', (rawMs / plainMs).toFixed(2), `≤ ${RATIO_TARGET}`, rawMs / plainMs <= RATIO_TARGET),
          EVENTS <= 1_000_000
            ? target('raw: peak RSS of the raw run', mb(rawPeak), `< ${mb(RAW_RSS_TARGET_BYTES)}`, rawPeak < RAW_RSS_TARGET_BYTES)
            : {
                line: `  raw: peak RSS of the raw run: ${mb(rawPeak)} (not judged above 1M events: the raw path holds the window in a table, spilled above its limit)`,
                met: true,
              },
        ]
      : [{ line: '  raw: not run above 1M events (it holds the window in a table, ~25 GB at 10M, spilled above 1GB; BENCH_RAW=1 runs it)', met: true }]),
    target(
      'corrupt files: load of the corrupt tree / the intact one',
      (corruptMs / cleanMs).toFixed(2),
      `≤ ${CORRUPT_RATIO_TARGET}`,
      corruptMs / cleanMs <= CORRUPT_RATIO_TARGET,
    ),
  ];
  const lines = [
    `trailwarden bench: BENCH_EVENTS=${EVENTS} (${generated ?? GENERATED_EVENTS} generated over ${DAYS_BEFORE} days before the as-of and ${DAYS_AFTER} after), ${os.availableParallelism()} cores, median of ${runs}`,
    `  ${'measurement'.padEnd(50)} ${'time'.padStart(9)} ${'peak RSS'.padStart(9)} ${'events'.padStart(10)}`,
    row('plain DuckDB pass over the files, every field', plain),
    row('plain DuckDB pass, only the fields checks use', plainUsed),
    ...(raw.length > 0 ? [row('raw run (noStore)', raw, `${runNote(raw)}; ${Math.round(raw[0]!.events / (rawMs / 1000))} events/s`)] : []),
    row('store: cold run (empty store)', cold, runNote(cold)),
    row('store: warm re-run of the same window', warm, runNote(warm)),
    row(`store: next day (${arrived} files arrived), as of +1 day`, nextDay, runNote(nextDay)),
    row(`store: ${LONG_LOOKBACK_DAYS}-day lookback, 60 more days converted`, long, runNote(long)),
    row(`store: ${LONG_LOOKBACK_DAYS}-day lookback, warm re-run`, longWarm, runNote(longWarm)),
    `  corrupt files: window load of ${CORRUPT_TREE_FILES} files (${CORRUPT_RECORDS_PER_FILE} events each)`,
    row('intact', clean, `${clean[0]!.statements} read statement(s)`),
    row(
      `${CORRUPT_TREE_FILES / CORRUPT_EVERY} of them corrupt`,
      corrupt,
      `${last.skipped} file(s) skipped, ${last.dropped} record(s) dropped, ${last.statements} read statements`,
    ),
    'targets',
    ...targets.map((t) => t.line),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (targets.some((t) => !t.met)) process.exitCode = 1;
}

await main();
