/**
 * The columnar store's bookkeeping, pure: what a partition (one account, region and delivery day) records about
 * the delivery files it was built from, and what a run must do to a partition given the files listed now.
 */
import { z } from 'zod';

/**
 * The store's format. A partition written with another number is rebuilt from the raw logs, never read: a newer
 * trailwarden may lay out its files differently. Bump it when the Parquet columns or their meaning change.
 */
export const STORE_FORMAT = 1;

/**
 * A partition that would get more segments than this is rebuilt as one instead: a root alert every 15 minutes appends
 * one to today's partitions each time, and every segment is a file each run opens.
 */
export const MAX_SEGMENTS = 24;

/** A delivery file as the store identifies it: same key, size and version (S3 ETag or local mtime) = same content. */
export interface SourceFingerprint {
  readonly key: string;
  readonly bytes: number;
  /** The S3 ETag, or the local file's modification time; absent when the source can't tell (then size alone decides). */
  readonly version?: string;
}

export const DroppedCount = z.object({ reason: z.string(), count: z.number().int().min(0) }).strict();
export type DroppedCount = z.infer<typeof DroppedCount>;

/** What converting one delivery file gave: read (with any records that could not be used), or skipped with the reason. */
export const StoredSourceFile = z
  .object({
    key: z.string().min(1),
    bytes: z.number().int().min(0),
    version: z.string().optional(),
    /** Why the file could not be used at all; absent when it was read. */
    skipped: z.string().optional(),
    /** Records of the file that could not be used, per reason (as the report lists them). */
    dropped: z.array(DroppedCount).default([]),
    /** Records without an eventTime, which no window can place. */
    without_time: z.number().int().min(0).default(0),
  })
  .strict();
export type StoredSourceFile = z.infer<typeof StoredSourceFile>;

/** What one conversion added to a partition: its Parquet files and the delivery files converted into them (a late delivery adds a segment). */
export const Segment = z
  .object({
    /** Its Parquet files' names in the partition's folder; none when the delivery files held no event (all skipped, say). */
    files: z.array(z.string().regex(/^[a-z0-9_-]+\.parquet$/)),
    events: z.number().int().min(0),
    sources: z.array(StoredSourceFile),
    /**
     * The IAM activity of its records per day (`activityByDaySql`), by a digest of that SQL: a run sums these instead
     * of reading the records, when every segment of its window has one of its digest. Absent: written before rollups.
     */
    rollup: z
      .object({
        digest: z.string(),
        files: z.array(z.string().regex(/^[a-z0-9_-]+\.rollup$/)),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Segment = z.infer<typeof Segment>;

/** `partition.json`: the commit point of a partition. Written last (atomically); a Parquet file it does not name is never read. */
export const PartitionMeta = z
  .object({
    format: z.number().int(),
    /** A digest of the CloudTrail column spec the Parquet files were written with. */
    schema: z.string(),
    account: z.string(),
    region: z.string(),
    /** The delivery day folder, `YYYY/MM/DD`. */
    day: z.string().regex(/^\d{4}\/\d\d\/\d\d$/),
    segments: z.array(Segment),
    /** When the partition was last written (for `store status`). */
    updated: z.string(),
  })
  .strict();
export type PartitionMeta = z.infer<typeof PartitionMeta>;

/** What a run does to one partition before reading it. */
export type PartitionPlan<F extends SourceFingerprint> =
  | { readonly action: 'keep' }
  /** Files delivered since the partition was written: converted into a new segment. */
  | { readonly action: 'append'; readonly files: readonly F[] }
  /** Built again from all its files: new, changed, removed, or written by another format. */
  | { readonly action: 'rebuild'; readonly files: readonly F[]; readonly reason: string };

function sameFile(stored: StoredSourceFile, listed: SourceFingerprint): boolean {
  return stored.bytes === listed.bytes && (stored.version ?? '') === (listed.version ?? '');
}

/**
 * Decides what to do with a partition whose delivery files are `listed` now. Kept only when it was built from
 * exactly these files (same key, size and version) by this format and column spec; files that are new since are
 * appended; a file that changed or disappeared from the source, or an outdated format, rebuilds it from scratch.
 */
export function planPartition<F extends SourceFingerprint>(meta: PartitionMeta | undefined, listed: readonly F[], schema: string): PartitionPlan<F> {
  if (meta === undefined) return { action: 'rebuild', files: listed, reason: 'not stored yet' };
  if (meta.format !== STORE_FORMAT) return { action: 'rebuild', files: listed, reason: `written by store format ${meta.format}, this is ${STORE_FORMAT}` };
  if (meta.schema !== schema) return { action: 'rebuild', files: listed, reason: 'written with another CloudTrail column set' };
  const stored = new Map(meta.segments.flatMap((segment) => segment.sources.map((source) => [source.key, source] as const)));
  const listedByKey = new Map(listed.map((file) => [file.key, file] as const));
  for (const [key, source] of stored) {
    const now = listedByKey.get(key);
    if (now === undefined) return { action: 'rebuild', files: listed, reason: `${key} is no longer in the source` };
    if (!sameFile(source, now)) return { action: 'rebuild', files: listed, reason: `${key} changed since it was stored` };
  }
  const fresh = listed.filter((file) => !stored.has(file.key));
  if (fresh.length === 0) return { action: 'keep' };
  if (meta.segments.length >= MAX_SEGMENTS) return { action: 'rebuild', files: listed, reason: `compacting its ${meta.segments.length} segments into one` };
  return { action: 'append', files: fresh };
}

/** Whether `meta` holds exactly `listed`, so a run may read it as its record of these files. */
export function coversExactly(meta: PartitionMeta, listed: readonly SourceFingerprint[], schema: string): boolean {
  return planPartition(meta, listed, schema).action === 'keep' && meta.segments.reduce((n, s) => n + s.sources.length, 0) === listed.length;
}
