import type { RecordedHash } from '../core/hash-record.js';
import type { SkippedFile } from '../core/model.js';
import type { StoredSourceFile } from '../core/store-partition.js';
import type { LogFile } from '../source/types.js';

/** One partition (account, region, delivery day) that must be converted before a run reads it. */
export interface PartitionWork {
  readonly account: string;
  readonly region: string;
  readonly day: string;
  /** `append`: only `files` are new, the stored segments stay; `rebuild`: `files` are all of the partition's. */
  readonly action: 'append' | 'rebuild';
  readonly files: readonly LogFile[];
  readonly reason?: string;
}

/** What a run reads from the store for its listed files: the Parquet files, and what converting each delivery file gave. */
export interface StoreSnapshot {
  readonly parquetFiles: readonly string[];
  /**
   * The segments' activity rollups (see `Segment.rollup`): their files, and the digests they were written with.
   * Undefined when a segment has none, or a rollup file is missing: the activity is then read from the records.
   */
  readonly rollups?: { readonly files: readonly string[]; readonly digests: ReadonlySet<string> };
  /** By delivery file key. */
  readonly sources: ReadonlyMap<string, StoredSourceFile>;
  readonly events: number;
}

export interface PartitionStatus {
  readonly account: string;
  readonly region: string;
  readonly day: string;
  readonly events: number;
  /** Parquet bytes on disk (the records and their activity rollups). */
  readonly bytes: number;
  readonly sourceFiles: number;
  readonly skipped: readonly SkippedFile[];
  readonly segments: number;
  /** False when written by another format or column spec (rebuilt when a run needs it). */
  readonly current: boolean;
}

export interface StoreStatus {
  readonly root: string;
  readonly format: number;
  readonly sources: readonly { readonly source: string; readonly folder: string; readonly partitions: readonly PartitionStatus[] }[];
}

export interface PruneResult {
  readonly partitions: number;
  readonly bytes: number;
  /** Partitions of delivery days before this one (`YYYY/MM/DD`) were removed. */
  readonly before: string;
}

/**
 * The persistent columnar copy of the CloudTrail logs that the DuckDB engine reads instead of the raw files: each
 * delivery file is converted once. `source` (a log source's description) keeps the partitions of different log trees
 * apart.
 */
export interface EventStore {
  readonly kind: string;
  /** The store's folder: the engine may read only there once confined. */
  readonly root: string;
  describe(): string;
  /** The partitions of `files` that are missing or out of date, and what to convert for each; `force` rebuilds all. */
  plan(source: string, files: readonly LogFile[], options?: { force?: boolean }): Promise<PartitionWork[]>;
  /** Runs `work` as the only writer of the source's partitions (other processes wait). */
  withLock<T>(source: string, work: () => Promise<T>): Promise<T>;
  /** A fresh path for Parquet files being written (in the store's folder, so they can be renamed into place). */
  stagingFile(): string;
  prepareStaging(): Promise<void>;
  /** Puts a converted segment in place and records it: after this, a run reads it. */
  commit(
    source: string,
    work: PartitionWork,
    segment: {
      staged: readonly string[];
      events: number;
      sources: readonly StoredSourceFile[];
      /** The segment's activity rollup, staged (none when it could not be made: the runs then read the records). */
      rollup?: { readonly digest: string; readonly staged: readonly string[] };
    },
    now: Date,
  ): Promise<void>;
  /** The stored record of exactly `files`, or the first partition that does not hold exactly them. */
  snapshot(source: string, files: readonly LogFile[]): Promise<StoreSnapshot | { readonly missing: string }>;
  status(): Promise<StoreStatus>;
  /** Removes the partitions of delivery days more than `keepDays` days before `now`'s day. */
  prune(keepDays: number, now: Date): Promise<PruneResult>;
  /**
   * The hashes recorded for log files of the partitions `files` belong to (by key), as earlier runs' log file
   * validation computed them. A record that cannot be read is ignored (logged): its files are hashed again.
   */
  recordedHashes(source: string, files: readonly LogFile[]): Promise<Map<string, RecordedHash>>;
  /** Adds hashes to the record (by partition); safe beside other writers: a lost addition only means hashing again. */
  recordHashes(source: string, hashes: readonly { readonly file: LogFile; readonly entry: RecordedHash }[]): Promise<void>;
}
