/**
 * Helpers for the columnar store's tests (test/integration/store-*.test.ts): a small CloudTrail tree whose root
 * events are known, the built CLI run on it with a store, what a run archived, and what the store holds on disk.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import { coversExactly, PartitionMeta } from '../../src/core/store-partition.js';
import { LocalLogSource } from '../../src/source/local.js';
import { SCHEMA_DIGEST } from '../../src/store/local.js';
import { rootEvent, routine } from './adversarial.js';
import { CLI, runCli, type CliResult } from './cli.js';
import { writeLogFile } from './fixtures.js';

/** The end of every window here: the 30-day checks read [2026-10-24T08:00Z, 2026-11-23T08:00Z), the 7-day ones from 2026-11-16T08:00Z. */
export const AS_OF = '2026-11-23T08:00:00Z';

/** The delivery days of `smallTree`. */
export const TREE_DAYS = ['2026/11/18', '2026/11/19', '2026/11/20', '2026/11/21', '2026/11/22'] as const;

export interface SmallTree {
  readonly logs: string;
  /** The event ids root_activity_7d must report, sorted. */
  readonly rootEvents: string[];
  /** The key of the truncated file (in the window, skipped by every run). */
  readonly truncatedKey: string;
  /** Every delivery file's path. */
  readonly files: string[];
}

/**
 * Two accounts' worth of delivery folders over TREE_DAYS (one account in two regions): per day and region two files
 * of routine calls, a root call in us-east-1 each day, a duplicate delivery of one file, and one truncated .gz.
 */
export async function smallTree(logs: string): Promise<SmallTree> {
  const files: string[] = [];
  const rootEvents: string[] = [];
  for (const [d, day] of TREE_DAYS.entries()) {
    const date = day.replaceAll('/', '-');
    for (const region of ['us-east-1', 'eu-west-1']) {
      for (const part of [0, 1]) {
        const records: Record<string, unknown>[] = Array.from({ length: 20 }, (_, i) => ({
          ...routine(`routine-${date}-${region}-${part}-${i}`, `${date}T0${part}:${String(i).padStart(2, '0')}:00Z`),
          awsRegion: region,
        }));
        if (region === 'us-east-1' && part === 1) {
          const id = `root-${date}`;
          records.push(rootEvent(id, `${date}T09:00:00Z`));
          rootEvents.push(id);
        }
        const name = `111111111111_CloudTrail_${region}_${day.replaceAll('/', '')}T0${part}00Z_part${part}day${d}xxxxxx.json.gz`;
        files.push(await writeLogFile(logs, { day, region, name, records }));
      }
    }
  }
  // A second delivery of the same file under another name: its events must count once.
  const first = files[0]!;
  const twin = path.join(path.dirname(first), path.basename(first).replace('part0day0xxxxxx', 'part0day0twin00'));
  await writeFile(twin, await readFile(first));
  files.push(twin);
  const whole = gzipSync(JSON.stringify({ Records: [rootEvent('root-in-truncated-file', '2026-11-21T10:00:00Z')] }));
  const truncated = await writeLogFile(logs, {
    day: '2026/11/21',
    name: '111111111111_CloudTrail_us-east-1_20261121T1000Z_truncatedxxxxxxx.json.gz',
    content: whole.subarray(0, Math.floor(whole.length / 2)),
  });
  files.push(truncated);
  return { logs, rootEvents: rootEvents.sort(), truncatedKey: keyOf(logs, truncated), files };
}

/** A file's key as reports name it: its path under the tree, from `AWSLogs/`. */
export function keyOf(logs: string, file: string): string {
  return path.relative(logs, file).split(path.sep).join('/');
}

export interface ArchivedRun {
  readonly cli: CliResult;
  readonly runId: string;
  readonly dir: string;
  readonly manifest: {
    verdict: string;
    stats: { events: number; duplicates_removed: number; files_read: number; files_skipped: { path: string; reason: string }[] };
    checks: { id: string; status: string }[];
  };
  /** The CSV evidence, by file name. */
  readonly csvs: Record<string, string>;
  /** The event ids of root_activity_7d.csv, sorted. */
  readonly rootEvents: string[];
}

async function runIds(out: string): Promise<string[]> {
  return readdir(path.join(out, 'archive', '2026', '11', '23')).catch((): string[] => []);
}

/** The archived run `runId` under `out`. */
export async function archivedRun(out: string, runId: string, cli: CliResult): Promise<ArchivedRun> {
  const dir = path.join(out, 'archive', '2026', '11', '23', runId);
  const csvs: Record<string, string> = {};
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.csv')).sort()) csvs[name] = await readFile(path.join(dir, name), 'utf8');
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as ArchivedRun['manifest'];
  const rows: string[][] = parseCsv(csvs['root_activity_7d.csv']!);
  const id = rows[0]!.indexOf('event_id');
  const rootEvents = rows
    .slice(1)
    .map((row) => row[id]!)
    .sort();
  return { cli, runId, dir, manifest, csvs, rootEvents };
}

/** `trailwarden run --logs <logs> --out <out> --as-of AS_OF ...args`, which must succeed; the run it archived. */
export async function runOnTree(logs: string, out: string, args: string[] = [], env: Record<string, string> = {}): Promise<ArchivedRun> {
  const before = new Set(await runIds(out));
  const cli = await runCli(['run', '--logs', logs, '--out', out, '--as-of', AS_OF, ...args], { env });
  if (cli.code !== 0) throw new Error(`trailwarden run failed (${cli.code}): ${cli.stderr}`);
  const added = (await runIds(out)).filter((id) => !before.has(id));
  if (added.length !== 1) throw new Error(`expected one new archived run, found ${added.length}`);
  return archivedRun(out, added[0]!, cli);
}

/** A stored partition: its folder and its record. */
export interface StoredPartition {
  readonly dir: string;
  readonly meta: PartitionMeta;
}

/** Every `partition.json` under `store`, parsed strictly, by `account/region/yyyy/mm/dd`. */
export async function storedPartitions(store: string): Promise<Map<string, StoredPartition>> {
  const found = new Map<string, StoredPartition>();
  const entries = existsSync(store) ? await readdir(store, { recursive: true }) : [];
  for (const entry of entries.filter((e) => path.basename(e) === 'partition.json').sort()) {
    const dir = path.dirname(path.join(store, entry));
    const meta = PartitionMeta.parse(JSON.parse(await readFile(path.join(dir, 'partition.json'), 'utf8')));
    found.set(`${meta.account}/${meta.region}/${meta.day}`, { dir, meta });
  }
  return found;
}

/**
 * Overwrites every file with bytes that are no log at all (not gzip, not JSON) of the same size, and puts its
 * modification time back: a listing sees the very same files (name, size, mtime), and any reading of them would fail.
 */
export async function garble(files: readonly string[]): Promise<void> {
  for (const file of files) {
    const before = await stat(file);
    await writeFile(file, Buffer.alloc(before.size, 'x'));
    // Half a millisecond past the listed one: utimes takes seconds as a double, and the exact millisecond could come back as 0.999… of the one before.
    await utimes(file, before.atime, (Math.trunc(before.mtimeMs) + 0.5) / 1000);
    const after = await stat(file);
    if (after.size !== before.size || Math.trunc(after.mtimeMs) !== Math.trunc(before.mtimeMs)) throw new Error(`garble: ${file} no longer looks the same`);
  }
}

/** Text that differs between two runs of the same report: the run id, when it ran, where it was archived. */
export function normalise(text: string, run: ArchivedRun, out: string): string {
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(run.runId)!;
  return text.replaceAll(run.runId, '<run-id>').replaceAll(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`, '<now>').replaceAll(out, '<out>');
}

/** A spawned `trailwarden run` whose stderr lines can be awaited, for tests that kill it or run two at once. */
export interface SpawnedRun {
  /** Resolves with the first stderr line containing `text`, or rejects when the process ends without one. */
  readonly lineWith: (text: string) => Promise<string>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  readonly kill: (signal: NodeJS.Signals) => void;
  readonly pid: number;
}

/** `trailwarden run ...args` in a child process (`nodeArgs` go to node itself, e.g. `--import` of a test hook). */
export function spawnRun(args: string[], options: { env?: Record<string, string>; nodeArgs?: string[] } = {}): SpawnedRun {
  const env = options.env ?? {};
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, 'run', ...args], {
    env: { ...process.env, TRAILWARDEN_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const waiting: { text: string; resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    for (const w of [...waiting]) {
      const line = stderr.split('\n').find((l) => l.includes(w.text));
      if (line !== undefined) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`the run ended (${code ?? signal}) without logging "${w.text}": ${stderr}`));
      resolve({ code, signal, stderr });
    });
  });
  return {
    lineWith: (text) =>
      new Promise((resolve, reject) => {
        const line = stderr.split('\n').find((l) => l.includes(text));
        if (line !== undefined) resolve(line);
        else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`the run has ended without logging "${text}"`));
        else waiting.push({ text, resolve, reject });
      }),
    exit,
    kill: (signal) => child.kill(signal),
    pid: child.pid!,
  };
}

/** What a store holds for the files of `logs` in the window of AS_OF, checked the way a run would read it. */
export interface StoreAudit {
  /** Partitions whose record holds exactly the files listed for them now, all of its Parquet files present. */
  readonly complete: string[];
  /** Partitions with a record that does not (a run would have to rebuild them, and must not read them). */
  readonly incomplete: string[];
  /** Parquet files in partition folders that no record names: left by a crash, never read. */
  readonly unnamed: string[];
}

export async function auditStore(store: string, logs: string): Promise<StoreAudit> {
  const asOf = new Date(AS_OF);
  const listing = await new LocalLogSource({ path: logs }).list({ start: new Date(asOf.getTime() - 30 * 86_400_000), end: asOf });
  const records = await storedPartitions(store);
  const audit: StoreAudit = { complete: [], incomplete: [], unnamed: [] };
  for (const [key, { dir, meta }] of records) {
    const listed = listing.files.filter((f) => `${f.account}/${f.region}/${f.day}` === key);
    const named = meta.segments.flatMap((s) => s.files);
    const present = named.every((name) => existsSync(path.join(dir, name)));
    (present && coversExactly(meta, listed, SCHEMA_DIGEST) ? audit.complete : audit.incomplete).push(key);
  }
  const entries = existsSync(store) ? await readdir(store, { recursive: true }) : [];
  for (const entry of entries.filter((e) => e.endsWith('.parquet') && !e.split(path.sep).some((part) => part.startsWith('.')))) {
    const dir = path.dirname(path.join(store, entry));
    const record = [...records.values()].find((r) => r.dir === dir);
    if (!record?.meta.segments.some((s) => s.files.includes(path.basename(entry)))) audit.unnamed.push(path.join(store, entry));
  }
  return audit;
}

/**
 * Makes the writers' lock a killed run left behind look as old as one whose holder died a while ago (proper-lockfile
 * takes a lock over once its mtime is over a minute old): the next run then need not wait that minute.
 */
export async function ageLeftLocks(store: string): Promise<number> {
  let aged = 0;
  const old = new Date(Date.now() - 5 * 60_000);
  for (const entry of existsSync(store) ? await readdir(store) : []) {
    const lock = path.join(store, entry, '.lock');
    if (existsSync(lock)) {
      await utimes(lock, old, old);
      aged += 1;
    }
  }
  return aged;
}
