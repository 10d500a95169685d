import { describe, expect, it } from 'vitest';
import { threadsWithin } from '../../src/engines/duckdb.js';

describe('threadsWithin', () => {
  it('keeps the threads asked for without a limit, or when the limit holds a JSON reader for each', () => {
    // Act + Assess
    expect(threadsWithin(16, undefined)).toBe(16);
    expect(threadsWithin(2, '768MB')).toBe(2);
    expect(threadsWithin(4, '1GiB')).toBe(4);
  });

  it('runs fewer threads under a limit too small for all of them (192 MiB each), never none', () => {
    // Act + Assess: the store's default 768MB (732 MiB) holds three
    expect(threadsWithin(8, '768MB')).toBe(3);
    expect(threadsWithin(8, '768 mb')).toBe(3);
    expect(threadsWithin(16, '2GB')).toBe(9);
    expect(threadsWithin(8, '1.5GiB')).toBe(8);
    expect(threadsWithin(8, '64MB')).toBe(1);
  });
});
