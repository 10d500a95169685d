import { describe, expect, it } from 'vitest';
import { readOnOneThreadIfShort, threadsWithin } from '../../src/engines/duckdb.js';

describe('threadsWithin', () => {
  it('keeps the threads asked for without a limit, or when the limit holds two JSON buffers for each and a reserve', () => {
    // Act + Assess
    expect(threadsWithin(16, undefined)).toBe(16);
    expect(threadsWithin(2, '768MB')).toBe(2);
    expect(threadsWithin(4, '1.25GiB')).toBe(4);
  });

  it('runs fewer threads under a limit too small for all of them (256 MiB each, 128 MiB kept aside), never none', () => {
    // Act + Assess: the store's default 768MB (732 MiB) holds two
    expect(threadsWithin(8, '768MB')).toBe(2);
    expect(threadsWithin(8, '768 mb')).toBe(2);
    expect(threadsWithin(4, '1GiB')).toBe(3);
    expect(threadsWithin(16, '2GB')).toBe(6);
    expect(threadsWithin(8, '1.5GiB')).toBe(5);
    expect(threadsWithin(8, '64MB')).toBe(1);
  });
});

/** A read that runs out of memory while more than `fitsOn` threads are set, and the thread settings it saw. */
function readFitting(fitsOn: number, failure = 'Out of Memory Error: failed to allocate data of size 128.0 MiB (713.0 MiB/732.4 MiB used)') {
  const seen = { reads: [] as number[], set: [] as number[], retries: [] as string[] };
  let threads = 0;
  return {
    seen,
    start: (n: number) => {
      threads = n;
    },
    read: async () => {
      seen.reads.push(threads);
      if (threads > fitsOn) throw new Error(failure);
    },
    setThreads: async (n: number) => {
      seen.set.push(n);
      threads = n;
    },
    onRetry: (reason: string) => seen.retries.push(reason),
  };
}

describe('readOnOneThreadIfShort', () => {
  it('reads again on one thread when a read runs out of memory, and says to go on with one', async () => {
    // Prepare
    const fake = readFitting(1);
    fake.start(3);

    // Act
    const next = await readOnOneThreadIfShort(fake.read, 3, fake.setThreads, fake.onRetry);

    // Assess
    expect(next).toBe(1);
    expect(fake.seen.reads).toEqual([3, 1]);
    expect(fake.seen.set).toEqual([1]);
    expect(fake.seen.retries).toEqual([expect.stringContaining('Out of Memory')]);
  });

  it('throws the failure of the read on one thread too, the thread setting left at one for its caller to restore', async () => {
    // Prepare
    const fake = readFitting(0);
    fake.start(2);

    // Act
    const reading = readOnOneThreadIfShort(fake.read, 2, fake.setThreads, fake.onRetry);

    // Assess
    await expect(reading).rejects.toThrow(/Out of Memory/);
    expect(fake.seen.reads).toEqual([2, 1]);
    expect(fake.seen.set).toEqual([1]);
  });

  it('reads once when the read succeeds, fails for another reason, or already runs on one thread', async () => {
    // Prepare
    const fits = readFitting(4);
    fits.start(4);
    const badFile = readFitting(0, 'Invalid Input Error: Malformed JSON in file "x.json.gz"');
    badFile.start(4);
    const single = readFitting(0);
    single.start(1);

    // Act
    const next = await readOnOneThreadIfShort(fits.read, 4, fits.setThreads, fits.onRetry);
    const malformed = readOnOneThreadIfShort(badFile.read, 4, badFile.setThreads, badFile.onRetry);
    const alone = readOnOneThreadIfShort(single.read, 1, single.setThreads, single.onRetry);

    // Assess
    expect(next).toBe(4);
    await expect(malformed).rejects.toThrow(/Malformed JSON/);
    await expect(alone).rejects.toThrow(/Out of Memory/);
    for (const fake of [fits, badFile, single]) {
      expect(fake.seen.reads).toHaveLength(1);
      expect(fake.seen.set).toEqual([]);
      expect(fake.seen.retries).toEqual([]);
    }
  });
});
