/**
 * Log file validation with the store's record of hashes, on a local CloudTrail tree with digests: a second run
 * reads no log file and says the same; a file rewritten to the same size and given its old mtime back is hashed
 * again (its change time moved) and found modified; a corrupt record is ignored; a full re-hash can be asked for.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { logFileName, logKey } from '../../src/core/cloudtrail-layout.js';
import { DigestPlan, sha256Hex } from '../../src/demo/digests.js';
import { TreeWriter } from '../../src/demo/tree-writer.js';
import { hashLogFile } from '../../src/integrity/hash-file.js';
import { checkLogIntegrity, type HashRecordAccess } from '../../src/integrity/validate.js';
import { LocalLogSource } from '../../src/source/local.js';
import type { LogFile } from '../../src/source/types.js';
import { LocalEventStore } from '../../src/store/local.js';
import { record, silentLog, tempDir } from '../support/fixtures.js';
import { rewriteSameSize } from '../support/rewrite.js';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const HOUR = 3_600_000;
const FROM = Date.parse('2026-11-20T00:00:00Z');
const WINDOW = { start: new Date('2026-11-20T00:00:00Z'), end: new Date('2026-11-20T12:00:00Z') };
const DELIVERIES = 4;

/** Four hourly deliveries and their digests, as CloudTrail writes them (a local copy: no signatures). */
async function treeWithDigests(): Promise<{ root: string; keys: string[] }> {
  const root = await tempDir('trailwarden-hash-record-tree-');
  const writer = new TreeWriter(root);
  const plan = new DigestPlan();
  const keys: string[] = [];
  for (let h = 0; h < DELIVERIES; h++) {
    const deliveredMs = FROM + h * HOUR + 20 * 60_000;
    const key = logKey({
      account: ACCOUNT,
      region: REGION,
      day: '2026/11/20',
      name: logFileName(ACCOUNT, REGION, new Date(deliveredMs), `abcdefghijklmno${h}`),
    });
    const time = new Date(deliveredMs - 600_000).toISOString().replace('.000Z', 'Z');
    const json = JSON.stringify({ Records: [record({ eventTime: time, eventID: `5b9ea4d1-2acb-4935-9b73-fa07e1d88d2${h}` })] });
    await writer.put(key, gzipSync(json));
    plan.add(ACCOUNT, REGION, 0, { key, sha256: sha256Hex(json), deliveryMs: deliveredMs, oldest: time, newest: time });
    keys.push(key);
  }
  await plan.write(writer, FROM, undefined);
  return { root, keys };
}

describe('log file validation with the store’s record of hashes (local tree)', () => {
  let tree: { root: string; keys: string[] };
  let source: LocalLogSource;
  let store: LocalEventStore;
  let record: HashRecordAccess;

  /** One validation, with the store's record (default), another access to it, or `none` (no store). */
  const validate = async (access: HashRecordAccess | 'none' = record) => {
    const listing = await source.list(WINDOW);
    return checkLogIntegrity({ source, files: listing.files, window: WINDOW, log: silentLog, ...(access === 'none' ? {} : { record: access }) });
  };

  beforeEach(async () => {
    tree = await treeWithDigests();
    source = new LocalLogSource({ path: tree.root });
    store = new LocalEventStore({ path: await tempDir('trailwarden-hash-record-store-'), log: silentLog });
    record = { store, source: source.describe() };
  });

  it('hashes every listed file once; the next run reads none of them and gives the same result', async () => {
    // Act
    const first = await validate();
    const second = await validate();

    // Assess
    expect(first.result.problems).toEqual([]);
    expect(first.result.verified).toBe(DELIVERIES);
    expect([first.hashed, first.fromRecord]).toEqual([DELIVERIES, 0]);
    expect([second.hashed, second.fromRecord]).toEqual([0, DELIVERIES]);
    expect(second.result.problems).toEqual(first.result.problems);
    expect(second.result.verified).toBe(first.result.verified);
    expect(second.result.summary).toMatch(
      /^4 of 4 log files verified against \d+ digests \(4 hashes from the store's record of earlier runs, same size, modification and change time, and inode; 0 hashed this run\); /,
    );
    // Only the digests were read the second time.
    const logBytes = (await Promise.all(tree.keys.map((key) => stat(path.join(tree.root, key))))).reduce((n, info) => n + info.size, 0);
    expect(first.bytesRead - second.bytesRead).toBe(logBytes);
  });

  it('finds a file rewritten to the same size with its old mtime given back: its change time moved', async () => {
    // Prepare
    await validate();
    const target = tree.keys[1]!;
    const before = (await source.list(WINDOW)).files.find((f) => f.key === target)!;
    await rewriteSameSize(path.join(tree.root, target));
    const after = (await source.list(WINDOW)).files.find((f) => f.key === target)!;

    // Act
    const run = await validate();

    // Assess: the store's own version (size and mtime) can't tell; the hash record's identity can
    expect([after.bytes, after.version]).toEqual([before.bytes, before.version]);
    expect(after.identity).not.toBe(before.identity);
    expect([run.hashed, run.fromRecord]).toEqual([1, DELIVERIES - 1]);
    expect(run.result.problems.map((p) => [p.problem, p.objectKey])).toEqual([['modified', target]]);
  });

  it('ignores a corrupt record and hashes again; hashes everything when a re-hash is asked for; keeps no record without a store', async () => {
    // Prepare
    await validate();
    const hashesFile = path.join(
      store.root,
      (await readdir(store.root)).find((n) => !n.startsWith('.'))!,
      ACCOUNT,
      REGION,
      '2026',
      '11',
      '20',
      'hashes.json',
    );
    await writeFile(hashesFile, (await readFile(hashesFile, 'utf8')).replace(/"sha256":"[0-9a-f]{64}"/, '"sha256":"not a hash"'));

    // Act
    const afterCorruption = await validate();
    const rehashed = await validate({ ...record, rehash: true });
    const withoutStore = await validate('none');

    // Assess
    expect([afterCorruption.hashed, afterCorruption.fromRecord]).toEqual([DELIVERIES, 0]);
    expect(afterCorruption.result.verified).toBe(DELIVERIES);
    expect([rehashed.hashed, rehashed.fromRecord]).toEqual([DELIVERIES, 0]);
    expect(rehashed.result.summary).toMatch(/\(4 files hashed again: a full re-hash was asked for\)/);
    expect([withoutStore.hashed, withoutStore.fromRecord]).toEqual([DELIVERIES, 0]);
  });

  it('hashes nothing where no digest lists the files (validation off): nothing to compare a hash with', async () => {
    // Prepare: the same logs, without their digests
    const bare = await tempDir('trailwarden-hash-record-bare-');
    const writer = new TreeWriter(bare);
    for (const key of tree.keys) await writer.put(key, await readFile(path.join(tree.root, key)));
    source = new LocalLogSource({ path: bare });

    // Act
    const run = await validate({ store, source: source.describe() });

    // Assess
    expect([run.hashed, run.fromRecord, run.notListed]).toEqual([0, 0, DELIVERIES]);
    expect(run.bytesRead).toBe(0);
    expect(run.result.incomplete).toMatch(/no digest files found/);
    expect(run.result.summary).toMatch(/^0 of 4 log files verified against 0 digests \(none hashed: no digest lists them\); /);
  });

  it('takes a hash taken while loading for a file listed unchanged since (same size and identity), and reads any other', async () => {
    // Prepare: hashes handed over by the loading — the true one of the first file, a false one of the second (so that
    // taking it shows), and one of the third taken when it had another identity (so it must be read again)
    const listing = await source.list(WINDOW);
    const [first, second, third] = tree.keys.map((key) => listing.files.find((file) => file.key === key)!);
    const taken = (file: LogFile, sha256: string, identity = file.identity!) => [file.key, { key: file.key, bytes: file.bytes, identity, sha256 }] as const;
    const hashedWhileLoading = new Map([
      taken(first!, await hashLogFile(first!)),
      taken(second!, '0'.repeat(64)),
      taken(third!, '0'.repeat(64), 'local:1:1:1'),
    ]);

    // Act
    const run = await checkLogIntegrity({ source, files: listing.files, window: WINDOW, log: silentLog, record, hashedWhileLoading });

    // Assess: all hashed this run; the false hash taken (the second file found modified), the stale one not
    expect([run.hashed, run.fromRecord]).toEqual([DELIVERIES, 0]);
    expect(run.result.problems.map((p) => [p.problem, p.objectKey])).toEqual([['modified', second!.key]]);
    expect(run.result.verified).toBe(DELIVERIES - 1);
  });
});
