import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSmallFiles, takingTurns } from '../../src/fs/read-small-files.js';

describe('readSmallFiles and takingTurns', () => {
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

  it('lets the event loop run between turns of calls, not after each call', async () => {
    const turn = takingTurns();
    let calls = 0;
    let ranAfter: number | undefined;
    setImmediate(() => (ranAfter = calls));
    for (let i = 0; i < 300; i++) {
      calls += 1;
      await turn();
    }
    // A turn every 128 calls: the immediate ran once 128 calls were made, not before, and not only at the end.
    expect(ranAfter).toBe(128);
  });

  it('fails with an error that names the file it could not read', async () => {
    const missing = path.join(dir, 'gone.json');
    await expect(readSmallFiles([files[0]!, missing])).rejects.toThrow(missing);
  });
});
