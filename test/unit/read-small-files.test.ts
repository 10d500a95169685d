import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSmallFiles } from '../../src/fs/read-small-files.js';

describe('readSmallFiles', () => {
  let dir: string;
  const files: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tw-read-small-'));
    // More than one turn's worth, in an order that is not the names' order.
    for (let i = 0; i < 300; i++) {
      const file = path.join(dir, `${(i * 7919) % 1000}.json`);
      await writeFile(file, `{"n":${i}}`);
      files.push(file);
    }
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('returns every body in the order the files were given', async () => {
    const bodies = await readSmallFiles(files);
    expect(bodies.map((body) => (JSON.parse(body.toString('utf8')) as { n: number }).n)).toEqual(files.map((_file, i) => i));
  });

  it('lets the event loop run between turns', async () => {
    /** The files, noting where the last turn of reads began. */
    class Watched extends Array<string> {
      lastTurn = -1;
      override slice(start?: number, end?: number): string[] {
        this.lastTurn = start ?? 0;
        return [...this].slice(start, end);
      }
    }
    const watched = Watched.from(files) as Watched;
    let ranAt: number | undefined;
    setImmediate(() => (ranAt = watched.lastTurn));
    await readSmallFiles(watched);
    // The immediate ran after the first turn of reads and before the second, not after the last file.
    expect(ranAt).toBe(0);
  });

  it('fails with an error that names the file it could not read', async () => {
    const missing = path.join(dir, 'gone.json');
    await expect(readSmallFiles([files[0]!, missing])).rejects.toThrow(missing);
  });
});
