import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { CLOUDTRAIL_TABLE } from '../core/cloudtrail-table.js';
import { GLOB_CHARACTERS } from '../core/cloudtrail-layout.js';
import { EngineError } from '../core/errors.js';
import { HASH_RECORD_FORMAT, HashRecordFile, mergeRecorded, type RecordedHash } from '../core/hash-record.js';
import { coversExactly, PartitionMeta, planPartition, STORE_FORMAT, type Segment, type StoredSourceFile } from '../core/store-partition.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { takingTurns } from '../fs/read-small-files.js';
import type { LogFile } from '../source/types.js';
import type { PartitionStatus, PartitionWork, StoreSnapshot, EventStore, StoreStatus, PruneResult } from './types.js';

/** The digest of the column spec the Parquet files are written with: a partition of another spec is rebuilt. */
export const SCHEMA_DIGEST = createHash('sha256').update(JSON.stringify(CLOUDTRAIL_TABLE)).digest('hex').slice(0, 16);

const META_FILE = 'partition.json';
/** Beside `partition.json`: the hashes log file validation computed for the partition's delivery files. */
const HASHES_FILE = 'hashes.json';
const SOURCE_FILE = 'source.json';
const STAGING = '.staging';
/** A Parquet or rollup file no partition names any more is removed after this long: a run that read the old record may still read it. */
const ORPHAN_GRACE_MS = 6 * 3600_000;
/** The Parquet files of a partition's segments. */
const parquetFilesOf = (meta: PartitionMeta): string[] => meta.segments.flatMap((segment) => segment.files);
/** The files a segment names: its Parquet files and its rollup's. */
const dataFiles = (segment: Segment): string[] => [...segment.files, ...(segment.rollup?.files ?? [])];

/** A writer's lock is taken over when its holder has not touched it for this long (the holder died). */
const LOCK_STALE_MS = 60_000;

function partitionKey(file: { account: string; region: string; day: string }): string {
  return `${file.account}/${file.region}/${file.day}`;
}

/** `text` as a file of `schema` that belongs to partition `expected`; undefined when it is not JSON, not of the schema, or another partition's. */
function parsePartitionFile<T extends { account: string; region: string; day: string }>(
  text: string,
  schema: z.ZodType<T>,
  expected: { account: string; region: string; day: string },
): T | undefined {
  let parsed;
  try {
    parsed = schema.safeParse(JSON.parse(text));
  } catch {
    return undefined;
  }
  return parsed.success && partitionKey(parsed.data) === partitionKey(expected) ? parsed.data : undefined;
}

/** Groups `files` by partition (account, region, delivery day), in the order they are listed. */
export function byPartition<F extends LogFile>(files: readonly F[]): Map<string, F[]> {
  const groups = new Map<string, F[]>();
  for (const file of files) {
    const key = partitionKey(file);
    const group = groups.get(key);
    if (group) group.push(file);
    else groups.set(key, [file]);
  }
  return groups;
}

function fingerprintOf(file: LogFile): { key: string; bytes: number; version?: string } {
  return { key: file.key, bytes: file.bytes, ...(file.version === undefined ? {} : { version: file.version }) };
}

/**
 * The columnar store on local disk (or a mounted volume): per log source, per account, region and delivery day, the
 * day's events as zstd-compressed Parquet files and a `partition.json` that names them and the delivery files they
 * came from. Layout: `<path>/<source>/<account>/<region>/<yyyy>/<mm>/<dd>/`.
 *
 * Crash-safe by ordering: a Parquet file is written under `.staging/`, renamed into its partition's folder, and only
 * then named by a new `partition.json` (written atomically); a run reads only the files a `partition.json` names.
 * Writers of one source take a lock (a folder, `proper-lockfile`); readers take none: the files a record names are
 * never changed, and the ones no record names any more are removed only hours later.
 */
export class LocalEventStore implements EventStore {
  readonly kind = 'local';
  readonly root: string;
  readonly #log: Logger;

  constructor(options: { path: string; log: Logger }) {
    this.root = path.resolve(options.path);
    this.#log = options.log;
    if (GLOB_CHARACTERS.test(this.root)) {
      throw new EngineError(
        `the store folder ${this.root} has one of * ? [ ] { } in its path, which DuckDB would read as a glob pattern; choose another store.path`,
      );
    }
  }

  describe(): string {
    return `Parquet store ${this.root}`;
  }

  /** The folder of one log source's partitions: a digest of its description, so two trees never share partitions. */
  #sourceDir(source: string): string {
    return path.join(this.root, createHash('sha256').update(source).digest('hex').slice(0, 16));
  }

  #partitionDir(source: string, partition: { account: string; region: string; day: string }): string {
    return path.join(this.#sourceDir(source), partition.account, partition.region, ...partition.day.split('/'));
  }

  /** A partition's record, read synchronously: a small file, and a run reads hundreds of them (see `takingTurns`). */
  #readMeta(dir: string, expected: { account: string; region: string; day: string }): PartitionMeta | 'unreadable' | undefined {
    let text: string;
    try {
      text = readFileSync(path.join(dir, META_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new EngineError(`cannot read ${path.join(dir, META_FILE)}: ${(error as Error).message}`, { cause: error });
    }
    const meta = parsePartitionFile(text, PartitionMeta, expected);
    if (!meta) {
      this.#log.warn({ file: path.join(dir, META_FILE) }, 'store partition record unreadable or misplaced: the partition is rebuilt');
      return 'unreadable';
    }
    return meta;
  }

  /** The first of `files` (names in `dir`) that is not there, if any (checked synchronously, as `#readMeta` reads). */
  #fileMissing(dir: string, files: readonly string[]): string | undefined {
    const isFile = (file: string) => {
      try {
        return statSync(path.join(dir, file)).isFile();
      } catch {
        return false;
      }
    };
    return files.find((file) => !isFile(file));
  }

  async plan(source: string, files: readonly LogFile[], options: { force?: boolean } = {}): Promise<PartitionWork[]> {
    const work: PartitionWork[] = [];
    const turn = takingTurns();
    for (const [, listed] of byPartition(files)) {
      const first = listed[0]!;
      const partition = { account: first.account, region: first.region, day: first.day };
      if (options.force) {
        work.push({ ...partition, action: 'rebuild', files: listed, reason: 'rebuild asked for' });
        continue;
      }
      const dir = this.#partitionDir(source, partition);
      const meta = this.#readMeta(dir, partition);
      await turn();
      if (meta === 'unreadable') {
        work.push({ ...partition, action: 'rebuild', files: listed, reason: `${META_FILE} unreadable` });
        continue;
      }
      const missing = meta && this.#fileMissing(dir, parquetFilesOf(meta));
      if (missing !== undefined) {
        work.push({ ...partition, action: 'rebuild', files: listed, reason: `its Parquet file ${missing} is missing` });
        continue;
      }
      const plan = planPartition(meta, listed.map(fingerprintOf), SCHEMA_DIGEST);
      if (plan.action === 'keep') continue;
      const wanted = new Set(plan.files.map((f) => f.key));
      const chosen = listed.filter((f) => wanted.has(f.key));
      work.push(
        plan.action === 'append' ? { ...partition, action: 'append', files: chosen } : { ...partition, action: 'rebuild', files: chosen, reason: plan.reason },
      );
    }
    return work;
  }

  async withLock<T>(source: string, work: () => Promise<T>): Promise<T> {
    const dir = this.#sourceDir(source);
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(path.join(dir, SOURCE_FILE), Buffer.from(`${JSON.stringify({ format: STORE_FORMAT, source }, null, 2)}\n`), { exclusive: false });
    return this.#locked(dir, async () => {
      await this.#removeStaleStaging();
      return work();
    });
  }

  /**
   * Runs `work` holding the writers' lock of a source folder. The lock is a folder whose mtime the holder refreshes;
   * one left by a dead process is taken over after LOCK_STALE_MS. Waiting is unbounded: a daemon job waits for a CLI
   * run's conversion rather than failing.
   */
  async #locked<T>(dir: string, work: () => Promise<T>): Promise<T> {
    const release = await lockfile
      .lock(dir, {
        lockfilePath: path.join(dir, '.lock'),
        realpath: false,
        stale: LOCK_STALE_MS,
        update: LOCK_STALE_MS / 6,
        retries: { retries: 1_000_000, factor: 1, minTimeout: 250, maxTimeout: 250 },
        onCompromised: (error) => this.#log.error({ err: error, store: dir }, 'store lock lost: another writer may have taken it over'),
      })
      .catch((error: unknown) => {
        throw new EngineError(`cannot lock the store ${dir}: ${(error as Error).message}`, { cause: error });
      });
    try {
      return await work();
    } finally {
      await release().catch(() => undefined);
    }
  }

  stagingFile(): string {
    return path.join(this.root, STAGING, `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
  }

  async prepareStaging(): Promise<void> {
    await mkdir(path.join(this.root, STAGING), { recursive: true });
  }

  async #removeStaleStaging(): Promise<void> {
    const dir = path.join(this.root, STAGING);
    const names = await readdir(dir).catch((): string[] => []);
    const now = Date.now();
    for (const name of names) {
      const info = await stat(path.join(dir, name)).catch(() => undefined);
      if (info && now - info.mtimeMs > ORPHAN_GRACE_MS) await rm(path.join(dir, name), { force: true, recursive: true });
    }
  }

  async commit(
    source: string,
    work: PartitionWork,
    segment: {
      staged: readonly string[];
      events: number;
      sources: readonly StoredSourceFile[];
      rollup?: { readonly digest: string; readonly staged: readonly string[] };
    },
    now: Date,
  ): Promise<void> {
    const dir = this.#partitionDir(source, work);
    await mkdir(dir, { recursive: true });
    const id = `${now.getTime().toString(36)}-${randomBytes(4).toString('hex')}`;
    const files: string[] = [];
    for (const staged of segment.staged) {
      const file = `seg-${id}-${files.length}.parquet`;
      await rename(staged, path.join(dir, file));
      files.push(file);
    }
    const rollups: string[] = [];
    for (const staged of segment.rollup?.staged ?? []) {
      const file = `seg-${id}-${rollups.length}.rollup`;
      await rename(staged, path.join(dir, file));
      rollups.push(file);
    }
    const current = this.#readMeta(dir, work);
    const previousFiles = current && current !== 'unreadable' ? current.segments.flatMap(dataFiles) : undefined;
    const previous = work.action === 'append' ? current : undefined;
    const kept: Segment[] = previous && previous !== 'unreadable' ? previous.segments : [];
    const meta: PartitionMeta = {
      format: STORE_FORMAT,
      schema: SCHEMA_DIGEST,
      account: work.account,
      region: work.region,
      day: work.day,
      segments: [
        ...kept,
        {
          files,
          events: segment.events,
          sources: [...segment.sources],
          ...(segment.rollup === undefined ? {} : { rollup: { digest: segment.rollup.digest, files: rollups } }),
        },
      ],
      updated: now.toISOString(),
    };
    await writeFileAtomic(path.join(dir, META_FILE), Buffer.from(`${JSON.stringify(meta)}\n`), { exclusive: false });
    // Files the new record no longer names start their grace period now: a run that read the old record may be reading them.
    const named = new Set(meta.segments.flatMap(dataFiles));
    for (const old of previousFiles ?? []) {
      if (!named.has(old)) await utimes(path.join(dir, old), now, now).catch(() => undefined);
    }
    await this.#removeOrphans(dir, meta);
  }

  /** Parquet and rollup files of `dir` that `meta` does not name, once they are old enough that no run can still be reading them. */
  async #removeOrphans(dir: string, meta: PartitionMeta): Promise<void> {
    const named = new Set(meta.segments.flatMap(dataFiles));
    const now = Date.now();
    for (const name of await readdir(dir).catch((): string[] => [])) {
      if (!(name.endsWith('.parquet') || name.endsWith('.rollup')) || named.has(name)) continue;
      const info = await stat(path.join(dir, name)).catch(() => undefined);
      if (info && now - info.mtimeMs > ORPHAN_GRACE_MS) await rm(path.join(dir, name), { force: true });
    }
  }

  async snapshot(source: string, files: readonly LogFile[]): Promise<StoreSnapshot | { readonly missing: string }> {
    const parquetFiles: string[] = [];
    const sources = new Map<string, StoredSourceFile>();
    let events = 0;
    let rollups: { files: string[]; digests: Set<string> } | undefined = { files: [], digests: new Set() };
    // Hundreds of partitions over 90 days: their records are read synchronously, in turns (see takingTurns).
    const turn = takingTurns();
    for (const [key, listed] of byPartition(files)) {
      const first = listed[0]!;
      const dir = this.#partitionDir(source, first);
      const meta = this.#readMeta(dir, first);
      await turn();
      if (meta === undefined || meta === 'unreadable' || !coversExactly(meta, listed.map(fingerprintOf), SCHEMA_DIGEST)) return { missing: key };
      if (this.#fileMissing(dir, parquetFilesOf(meta)) !== undefined) return { missing: key };
      for (const segment of meta.segments) {
        for (const file of segment.files) parquetFiles.push(path.join(dir, file));
        events += segment.events;
        for (const stored of segment.sources) sources.set(stored.key, stored);
        const rollup = segment.rollup;
        if (rollup === undefined || this.#fileMissing(dir, rollup.files) !== undefined) {
          rollups = undefined;
        } else if (rollups !== undefined) {
          rollups.digests.add(rollup.digest);
          rollups.files.push(...rollup.files.map((file) => path.join(dir, file)));
        }
      }
    }
    return { parquetFiles, sources, events, ...(rollups === undefined ? {} : { rollups }) };
  }

  async status(): Promise<StoreStatus> {
    const sources: StoreStatus['sources'][number][] = [];
    for (const slug of (await readdir(this.root).catch((): string[] => [])).sort()) {
      if (slug.startsWith('.')) continue;
      const dir = path.join(this.root, slug);
      const described = await readFile(path.join(dir, SOURCE_FILE), 'utf8')
        .then((text) => (JSON.parse(text) as { source?: string }).source ?? slug)
        .catch(() => slug);
      const partitions: PartitionStatus[] = [];
      for (const { account, region, day, dir: partitionDir } of await this.#partitionDirs(dir)) {
        const meta = this.#readMeta(partitionDir, { account, region, day });
        if (meta === undefined) continue;
        let bytes = 0;
        for (const name of await readdir(partitionDir).catch((): string[] => [])) {
          if (name.endsWith('.parquet') || name.endsWith('.rollup')) bytes += (await stat(path.join(partitionDir, name)).catch(() => undefined))?.size ?? 0;
        }
        if (meta === 'unreadable') {
          partitions.push({ account, region, day, events: 0, bytes, sourceFiles: 0, skipped: [], segments: 0, current: false });
          continue;
        }
        const stored = meta.segments.flatMap((s) => s.sources);
        partitions.push({
          account,
          region,
          day,
          events: meta.segments.reduce((n, s) => n + s.events, 0),
          bytes,
          sourceFiles: stored.length,
          skipped: stored.flatMap((s) => (s.skipped === undefined ? [] : [{ path: s.key, reason: s.skipped }])),
          segments: meta.segments.length,
          current: meta.format === STORE_FORMAT && meta.schema === SCHEMA_DIGEST,
        });
      }
      sources.push({ source: described, folder: dir, partitions });
    }
    return { root: this.root, format: STORE_FORMAT, sources };
  }

  /** Every partition folder under a source's folder: `<account>/<region>/<yyyy>/<mm>/<dd>`. */
  async #partitionDirs(sourceDir: string): Promise<{ account: string; region: string; day: string; dir: string }[]> {
    const found: { account: string; region: string; day: string; dir: string }[] = [];
    const list = async (dir: string) => (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && !e.name.startsWith('.'));
    for (const account of await list(sourceDir)) {
      for (const region of await list(path.join(sourceDir, account.name))) {
        for (const year of await list(path.join(sourceDir, account.name, region.name))) {
          for (const month of await list(path.join(sourceDir, account.name, region.name, year.name))) {
            for (const day of await list(path.join(sourceDir, account.name, region.name, year.name, month.name))) {
              found.push({
                account: account.name,
                region: region.name,
                day: `${year.name}/${month.name}/${day.name}`,
                dir: path.join(sourceDir, account.name, region.name, year.name, month.name, day.name),
              });
            }
          }
        }
      }
    }
    return found.sort((a, b) => (partitionKey(a) < partitionKey(b) ? -1 : 1));
  }

  /**
   * A partition's `hashes.json`, or why it is not used: absent, or unreadable (then never trusted in part). Read
   * synchronously, as `#readMeta` is.
   */
  #readHashes(dir: string, expected: { account: string; region: string; day: string }): HashRecordFile | undefined {
    const file = path.join(dir, HASHES_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#log.warn({ file, err: error }, 'store hash record unreadable: its log files are hashed again');
      return undefined;
    }
    const record = parsePartitionFile(text, HashRecordFile, expected);
    if (!record) this.#log.warn({ file }, 'store hash record unreadable or misplaced: ignored, its log files are hashed again');
    return record;
  }

  async recordedHashes(source: string, files: readonly LogFile[]): Promise<Map<string, RecordedHash>> {
    const recorded = new Map<string, RecordedHash>();
    const turn = takingTurns();
    for (const listed of byPartition(files).values()) {
      const record = this.#readHashes(this.#partitionDir(source, listed[0]!), listed[0]!);
      await turn();
      for (const entry of record?.files ?? []) recorded.set(entry.key, entry);
    }
    return recorded;
  }

  /**
   * Merge on write, without the writers' lock (a conversion may hold it for long): each partition's record is read,
   * merged with the new hashes and replaced atomically. Two runs writing at once may lose one's additions; every
   * entry names the identity it was computed for, so a lost or stale entry costs a hash, never a wrong verdict.
   */
  async recordHashes(source: string, hashes: readonly { readonly file: LogFile; readonly entry: RecordedHash }[]): Promise<void> {
    const groups = new Map<string, { partition: LogFile; entries: RecordedHash[] }>();
    for (const { file, entry } of hashes) {
      const key = partitionKey(file);
      const group = groups.get(key);
      if (group) group.entries.push(entry);
      else groups.set(key, { partition: file, entries: [entry] });
    }
    for (const { partition, entries } of groups.values()) {
      const dir = this.#partitionDir(source, partition);
      await mkdir(dir, { recursive: true });
      const current = this.#readHashes(dir, partition);
      const record: HashRecordFile = {
        format: HASH_RECORD_FORMAT,
        account: partition.account,
        region: partition.region,
        day: partition.day,
        files: mergeRecorded(current?.files ?? [], entries),
      };
      await writeFileAtomic(path.join(dir, HASHES_FILE), Buffer.from(`${JSON.stringify(record)}\n`), { exclusive: false });
    }
  }

  async prune(keepDays: number, now: Date): Promise<PruneResult> {
    const cutoff = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - keepDays * 86_400_000);
    const cutoffDay = cutoff.toISOString().slice(0, 10).replaceAll('-', '/');
    let partitions = 0;
    let bytes = 0;
    for (const slug of await readdir(this.root).catch((): string[] => [])) {
      if (slug.startsWith('.')) continue;
      const sourceDir = path.join(this.root, slug);
      await this.#locked(sourceDir, async () => {
        for (const partition of await this.#partitionDirs(sourceDir)) {
          if (partition.day >= cutoffDay) continue;
          for (const name of await readdir(partition.dir).catch((): string[] => []))
            bytes += (await stat(path.join(partition.dir, name)).catch(() => undefined))?.size ?? 0;
          // The record goes first: a run never finds a record whose files are gone.
          await rm(path.join(partition.dir, META_FILE), { force: true });
          await rm(partition.dir, { recursive: true, force: true });
          partitions += 1;
        }
      });
    }
    return { partitions, bytes, before: cutoffDay };
  }
}
