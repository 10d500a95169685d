/**
 * The store's record of log file hashes: a recorded hash stands for a file only with the same key, size and identity;
 * a `hashes.json` that cannot be read or is misplaced is ignored as a whole (and said), never trusted in part.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { identityBasis, mergeRecorded, recordedHashOf, type RecordedHash } from '../../src/core/hash-record.js';
import { keysListedByDigests, validateLogIntegrity, type FoundDigest } from '../../src/core/integrity.js';
import type { LogFile } from '../../src/source/types.js';
import { LocalEventStore } from '../../src/store/local.js';
import { tempDir } from '../support/fixtures.js';

const KEY = 'AWSLogs/111111111111/CloudTrail/eu-west-1/2026/11/20/111111111111_CloudTrail_eu-west-1_20261120T1005Z_aaaaaaaaaaaaaaaa.json.gz';
const SHA = 'a'.repeat(64);
const LOCAL_ID = 'local:mtime=1000000000,ctime=2000000000,ino=42';

const file = (overrides: Partial<LogFile> = {}): LogFile => ({
  path: `/logs/${KEY}`,
  key: KEY,
  account: '111111111111',
  region: 'eu-west-1',
  day: '2026/11/20',
  bytes: 100,
  version: 'mtime:1000',
  identity: LOCAL_ID,
  ...overrides,
});
const entry = (overrides: Partial<RecordedHash> = {}): RecordedHash => ({ key: KEY, bytes: 100, identity: LOCAL_ID, sha256: SHA, ...overrides });

/** A logger whose warnings are kept. */
function capturingLog(): { log: pino.Logger; warnings: { msg: string; file?: string }[] } {
  const warnings: { msg: string; file?: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = JSON.parse(chunk.toString('utf8')) as { level: number; msg: string; file?: string };
      if (line.level === 40) warnings.push({ msg: line.msg, ...(line.file ? { file: line.file } : {}) });
      done();
    },
  });
  return { log: pino({ level: 'warn' }, stream), warnings };
}

describe('recordedHashOf', () => {
  const recorded = new Map([[KEY, entry()]]);

  it('reuses a hash recorded for the same key, size and identity', () => {
    expect(recordedHashOf(recorded, file())).toBe(SHA);
  });

  it('does not reuse it when the change time, the inode or the size differ (a rewrite given its old mtime back)', () => {
    // Same mtime (the partition's version is unchanged), another ctime: touch -r after a rewrite.
    expect(recordedHashOf(recorded, file({ identity: 'local:mtime=1000000000,ctime=3000000000,ino=42' }))).toBeUndefined();
    expect(recordedHashOf(recorded, file({ identity: 'local:mtime=1000000000,ctime=2000000000,ino=43' }))).toBeUndefined();
    expect(recordedHashOf(recorded, file({ bytes: 101 }))).toBeUndefined();
  });

  it('matches an S3 object on its ETag, and never a file without a trusted identity', () => {
    const s3 = new Map([[KEY, entry({ identity: 'etag:"abc"' })]]);
    expect(recordedHashOf(s3, file({ identity: undefined, version: 'etag:"abc"' }))).toBe(SHA);
    expect(recordedHashOf(s3, file({ identity: undefined, version: 'etag:"abd"' }))).toBeUndefined();
    expect(recordedHashOf(new Map([[KEY, entry({ identity: 'x' })]]), file({ identity: undefined, version: undefined }))).toBeUndefined();
    // A bare mtime is settable (touch -r): never enough to reuse a hash on.
    expect(recordedHashOf(new Map([[KEY, entry({ identity: 'mtime:1000' })]]), file({ identity: undefined, version: 'mtime:1000' }))).toBeUndefined();
  });

  it('merges new hashes over old ones by key, and words what a reuse was matched on', () => {
    const other = entry({ key: `${KEY}.b`, sha256: 'b'.repeat(64) });
    expect(mergeRecorded([entry(), other], [entry({ sha256: 'c'.repeat(64) })])).toEqual([entry({ sha256: 'c'.repeat(64) }), other]);
    expect(identityBasis(['etag:"abc"'])).toBe('same size and ETag');
    expect(identityBasis([LOCAL_ID])).toBe('same size, modification and change time, and inode');
  });
});

describe('the summary says where the hashes came from', () => {
  const digest: FoundDigest = {
    key: 'AWSLogs/111111111111/CloudTrail-Digest/eu-west-1/2026/11/20/111111111111_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20261120T110000Z.json.gz',
    account: '111111111111',
    region: 'eu-west-1',
    content: {
      json: {
        digestStartTime: '2026-11-20T10:00:00Z',
        digestEndTime: '2026-11-20T11:00:00Z',
        digestS3Bucket: 'b',
        digestS3Object:
          'AWSLogs/111111111111/CloudTrail-Digest/eu-west-1/2026/11/20/111111111111_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20261120T110000Z.json.gz',
        digestPublicKeyFingerprint: 'f',
        previousDigestSignature: null,
        logFiles: [{ s3Bucket: 'b', s3Object: KEY, hashValue: SHA, hashAlgorithm: 'SHA-256' }],
      },
      sha256: 'd'.repeat(64),
    },
    signature: { status: 'unverifiable', reason: 'no signature metadata' },
  };
  const validate = (hashing: Parameters<typeof validateLogIntegrity>[0]['hashing'], digests = [digest]) =>
    validateLogIntegrity({
      digests,
      logs: [{ key: KEY, account: '111111111111', region: 'eu-west-1', ...(digests.length > 0 ? { sha256: SHA } : {}) }],
      inScope: () => true,
      digestsFrom: '2026-11-20T00:00:00Z',
      hashing,
    });

  it('counts the hashes taken from the record and those computed now', () => {
    expect(validate({ hashed: 0, fromRecord: 1, basis: 'same size and ETag' }).summary).toMatch(
      /^1 of 1 log file verified against 1 digest \(1 hash from the store's record of earlier runs, same size and ETag; 0 hashed this run\);/,
    );
    expect(validate({ hashed: 1, fromRecord: 0, rehash: true }).summary).toMatch(
      /^1 of 1 log file verified against 1 digest \(1 file hashed again: a full re-hash was asked for\);/,
    );
    expect(validate({ hashed: 1, fromRecord: 0 }).summary).toMatch(/^1 of 1 log file verified against 1 digest;/);
  });

  it('hashes nothing without digests, and says so', () => {
    // Act
    const listed = keysListedByDigests([]);
    const result = validate({ hashed: 0, fromRecord: 0 }, []);

    // Assess: no digest lists the file, so no hash of it is ever compared; the result is incomplete either way
    expect(listed.size).toBe(0);
    expect(keysListedByDigests([digest])).toEqual(new Set([KEY]));
    expect(result.incomplete).toMatch(/no digest files found/);
    expect(result.summary).toMatch(/^0 of 1 log file verified against 0 digests \(none hashed: no digest lists them\);/);
  });
});

describe("the local store's hashes.json", () => {
  it('keeps the hashes per partition and gives back only those of the partitions asked for', async () => {
    // Prepare
    const root = await tempDir('trailwarden-hash-record-');
    const { log, warnings } = capturingLog();
    const store = new LocalEventStore({ path: root, log });
    const other = file({ key: KEY.replace('/20/', '/21/').replace('20261120', '20261121'), day: '2026/11/21' });

    // Act
    await store.recordHashes('local folder /logs', [
      { file: file(), entry: entry() },
      { file: other, entry: entry({ key: other.key }) },
    ]);
    await store.recordHashes('local folder /logs', [{ file: file(), entry: entry({ sha256: 'c'.repeat(64) }) }]);
    const day20 = await store.recordedHashes('local folder /logs', [file()]);
    const otherSource = await store.recordedHashes('local folder /elsewhere', [file()]);

    // Assess
    expect([...day20.values()]).toEqual([entry({ sha256: 'c'.repeat(64) })]);
    expect(otherSource.size).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('ignores a corrupt or misplaced record whole, with a warning naming it', async () => {
    // Prepare: a record cut short, and a well-formed one moved to another day's folder
    const root = await tempDir('trailwarden-hash-record-');
    const { log, warnings } = capturingLog();
    const store = new LocalEventStore({ path: root, log });
    await store.recordHashes('src', [{ file: file(), entry: entry() }]);
    const [slug] = (await readdir(root)).filter((n) => !n.startsWith('.'));
    const day20 = path.join(root, slug!, '111111111111', 'eu-west-1', '2026', '11', '20', 'hashes.json');
    const text = await readFile(day20, 'utf8');
    const day21 = path.join(path.dirname(day20), '..', '21');
    await mkdir(day21, { recursive: true });
    await writeFile(path.join(day21, 'hashes.json'), text);
    await writeFile(day20, text.slice(0, text.length - 20));
    const moved = file({ key: KEY.replace('/20/', '/21/'), day: '2026/11/21' });

    // Act
    const corrupt = await store.recordedHashes('src', [file()]);
    const misplaced = await store.recordedHashes('src', [moved]);
    // A corrupt record is replaced by the next write, not merged with.
    await store.recordHashes('src', [{ file: file(), entry: entry({ sha256: 'e'.repeat(64) }) }]);
    const rewritten = await store.recordedHashes('src', [file()]);

    // Assess
    expect(corrupt.size).toBe(0);
    expect(misplaced.size).toBe(0);
    expect(warnings.map((w) => w.file)).toEqual([day20, path.join(path.resolve(day21), 'hashes.json'), day20]);
    expect(warnings[0]!.msg).toMatch(/hash record unreadable .*hashed again/);
    expect([...rewritten.values()]).toEqual([entry({ sha256: 'e'.repeat(64) })]);
  });
});
