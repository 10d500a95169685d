/**
 * What a run does to a stored partition given the delivery files listed now (planPartition), and when it may read
 * a partition as its record of those files (coversExactly): the store's whole notion of "up to date".
 */
import { describe, expect, it } from 'vitest';
import { coversExactly, PartitionMeta, planPartition, STORE_FORMAT, type SourceFingerprint, type StoredSourceFile } from '../../src/core/store-partition.js';

const SCHEMA = 'schema-digest-1';

const a: SourceFingerprint = { key: 'AWSLogs/1/CloudTrail/us-east-1/2026/11/20/a.json.gz', bytes: 100, version: 'mtime:1000' };
const b: SourceFingerprint = { key: 'AWSLogs/1/CloudTrail/us-east-1/2026/11/20/b.json.gz', bytes: 200, version: 'mtime:2000' };
const c: SourceFingerprint = { key: 'AWSLogs/1/CloudTrail/us-east-1/2026/11/20/c.json.gz', bytes: 300, version: 'mtime:3000' };

function stored(file: SourceFingerprint, extra: Partial<StoredSourceFile> = {}): StoredSourceFile {
  return { ...file, dropped: [], without_time: 0, ...extra };
}

/** A partition record built from `segments` (each a list of delivery files), by this format and `schema`. */
function meta(segments: readonly (readonly SourceFingerprint[])[], overrides: Partial<PartitionMeta> = {}): PartitionMeta {
  return PartitionMeta.parse({
    format: STORE_FORMAT,
    schema: SCHEMA,
    account: '1',
    region: 'us-east-1',
    day: '2026/11/20',
    segments: segments.map((files, i) => ({ files: [`seg-${i}-0.parquet`], events: files.length * 10, sources: files.map((f) => stored(f)) })),
    updated: '2026-11-20T12:00:00.000Z',
    ...overrides,
  });
}

describe('planPartition', () => {
  it('converts a partition that is not stored yet from all its files', () => {
    // Act
    const plan = planPartition(undefined, [a, b], SCHEMA);

    // Assess
    expect(plan).toEqual({ action: 'rebuild', files: [a, b], reason: 'not stored yet' });
  });

  it('keeps a partition built from exactly the listed files, in any listing order and over several segments', () => {
    // Prepare
    const record = meta([[a], [b, c]]);

    // Act
    const plan = planPartition(record, [c, a, b], SCHEMA);

    // Assess
    expect(plan).toEqual({ action: 'keep' });
  });

  it('appends only the files delivered since the partition was written (a late delivery)', () => {
    // Prepare
    const record = meta([[a, b]]);

    // Act
    const plan = planPartition(record, [a, c, b], SCHEMA);

    // Assess
    expect(plan).toEqual({ action: 'append', files: [c] });
  });

  it.each([
    ['its size changed', { ...b, bytes: 201 }],
    ['its version (mtime or ETag) changed', { ...b, version: 'mtime:2001' }],
    ['it lost its version', { key: b.key, bytes: b.bytes }],
  ])('rebuilds the partition from all listed files when a stored file changed: %s', (_case, changed) => {
    // Prepare
    const record = meta([[a, b]]);

    // Act
    const plan = planPartition(record, [a, changed, c], SCHEMA);

    // Assess
    expect(plan).toEqual({ action: 'rebuild', files: [a, changed, c], reason: `${b.key} changed since it was stored` });
  });

  it('rebuilds the partition when a stored file is no longer listed', () => {
    // Prepare
    const record = meta([[a], [b]]);

    // Act
    const plan = planPartition(record, [b], SCHEMA);

    // Assess
    expect(plan).toEqual({ action: 'rebuild', files: [b], reason: `${a.key} is no longer in the source` });
  });

  it('compares files without a version by size alone', () => {
    // Prepare: a source that cannot tell versions (no mtime, no ETag)
    const unversioned = { key: a.key, bytes: a.bytes };
    const record = meta([[unversioned]]);

    // Act
    const same = planPartition(record, [{ key: a.key, bytes: a.bytes }], SCHEMA);
    const resized = planPartition(record, [{ key: a.key, bytes: a.bytes + 1 }], SCHEMA);

    // Assess
    expect(same).toEqual({ action: 'keep' });
    expect(resized.action).toBe('rebuild');
  });

  it('rebuilds, never reads, a partition of another store format, older or newer', () => {
    // Prepare
    const older = meta([[a]], { format: STORE_FORMAT - 1 });
    const newer = meta([[a]], { format: STORE_FORMAT + 1 });

    // Act
    const plans = [planPartition(older, [a], SCHEMA), planPartition(newer, [a], SCHEMA)];

    // Assess
    expect(plans).toEqual([
      { action: 'rebuild', files: [a], reason: `written by store format ${STORE_FORMAT - 1}, this is ${STORE_FORMAT}` },
      { action: 'rebuild', files: [a], reason: `written by store format ${STORE_FORMAT + 1}, this is ${STORE_FORMAT}` },
    ]);
  });

  it('rebuilds a partition written with another CloudTrail column set', () => {
    // Prepare
    const record = meta([[a]], { schema: 'schema-digest-0' });

    // Act
    const plan = planPartition(record, [a], SCHEMA);

    // Assess
    expect(plan).toEqual({ action: 'rebuild', files: [a], reason: 'written with another CloudTrail column set' });
  });

  it('keeps the skipped files of a partition as stored: a file that could not be read is not converted again while unchanged', () => {
    // Prepare
    const record = PartitionMeta.parse({ ...meta([]), segments: [{ files: [], events: 0, sources: [stored(a, { skipped: 'not a valid gzip file' })] }] });

    // Act
    const plan = planPartition(record, [a], SCHEMA);

    // Assess
    expect(plan).toEqual({ action: 'keep' });
  });
});

describe('coversExactly', () => {
  it('is true only for the very files the partition was built from', () => {
    // Prepare
    const record = meta([[a], [b]]);

    // Act
    const verdicts = {
      same: coversExactly(record, [b, a], SCHEMA),
      oneMore: coversExactly(record, [a, b, c], SCHEMA),
      oneLess: coversExactly(record, [a], SCHEMA),
      changed: coversExactly(record, [a, { ...b, version: 'mtime:9' }], SCHEMA),
      otherSchema: coversExactly(record, [a, b], 'schema-digest-0'),
      otherFormat: coversExactly(meta([[a], [b]], { format: 0 }), [a, b], SCHEMA),
    };

    // Assess
    expect(verdicts).toEqual({ same: true, oneMore: false, oneLess: false, changed: false, otherSchema: false, otherFormat: false });
  });

  it('is false for a record that names one delivery file in two segments (it could not have been built from the listing)', () => {
    // Prepare: a and b listed, but a stored twice — counts differ from the listing even though every key matches
    const record = meta([[a], [a, b]]);

    // Act
    const covered = coversExactly(record, [a, b], SCHEMA);

    // Assess
    expect(covered).toBe(false);
  });
});

describe('PartitionMeta', () => {
  it('refuses a record with unknown keys, a malformed day or a Parquet name that could leave the partition folder', () => {
    // Prepare
    const good = meta([[a]]);
    const bad = [
      { ...good, extra: 1 },
      { ...good, day: '2026-11-20' },
      { ...good, segments: [{ ...good.segments[0]!, files: ['../../elsewhere.parquet'] }] },
    ];

    // Act
    const parsed = bad.map((record) => PartitionMeta.safeParse(record).success);

    // Assess
    expect(PartitionMeta.safeParse(good).success).toBe(true);
    expect(parsed).toEqual([false, false, false]);
  });
});
