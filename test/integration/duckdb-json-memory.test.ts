/**
 * DuckDB's JSON reader holds buffers of 128 MiB per thread that it cannot spill (`threadsWithin`), and its
 * scheduling can hold more of them than one per thread. A read that runs out of memory on several threads is read
 * again on one (`readOnOneThreadIfShort`), which the rest of the load keeps: measured here on DuckDB itself, under a
 * limit that three threads reading at once cannot fit in (each needs a buffer) and one does (it holds two at most).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_OBJECT_BYTES, readOnOneThreadIfShort } from '../../src/engines/duckdb.js';
import { routine } from '../support/adversarial.js';
import { tempDir, writeLogFile } from '../support/fixtures.js';

const FILES = 30;
const EVENTS_PER_FILE = 500;
/** Room for two 128 MiB buffers, not three. */
const LIMIT = '300MB';

describe('a JSON read short of memory on several threads', () => {
  it('fails on three threads, leaving nothing loaded, and is loaded whole on one, which the load then keeps', async () => {
    // Prepare
    const logs = await tempDir('trailwarden-json-memory-');
    const files: string[] = [];
    for (let f = 0; f < FILES; f++) {
      const day = `2026/11/${String(16 + (f % 7)).padStart(2, '0')}`;
      const records = Array.from({ length: EVENTS_PER_FILE }, (_, i) => routine(`e-${f}-${i}`, `${day.replaceAll('/', '-')}T10:00:00Z`));
      files.push(await writeLogFile(logs, { day, records }));
    }
    const instance = await DuckDBInstance.create(':memory:', { threads: '3', memory_limit: LIMIT });
    const c = await instance.connect();
    const list = `[${files.map((file) => `'${path.resolve(file).replaceAll("'", "''")}'`).join(', ')}]`;
    await c.run('CREATE TABLE loaded (eventid VARCHAR)');
    // As the engine loads: one INSERT of every file's records.
    const load = () =>
      c.run(
        `INSERT INTO loaded SELECT r->>'eventID' FROM (
           SELECT unnest(Records) AS r FROM read_json(${list}, columns = {Records: 'JSON[]'}, format = 'auto', maximum_object_size = ${DEFAULT_MAX_OBJECT_BYTES}))`,
      );
    const count = async () => Number((await c.runAndReadAll('SELECT count(*) FROM loaded')).getRowsJS()[0]![0]);
    const threads = async () => Number((await c.runAndReadAll("SELECT current_setting('threads')")).getRowsJS()[0]![0]);
    const retries: string[] = [];

    try {
      // Act
      const threeThreads = await load().then(
        () => 'loaded',
        (error: unknown) => String(error),
      );
      const afterFailure = await count();
      const next = await readOnOneThreadIfShort(
        load,
        3,
        (n) => c.run(`SET threads = ${n}`).then(() => undefined),
        (reason) => retries.push(reason),
      );

      // Assess: the failed statement left no row; the retry loaded each record once
      expect(threeThreads).toMatch(/Out of Memory/);
      expect(afterFailure).toBe(0);
      expect(retries).toEqual([expect.stringMatching(/Out of Memory/)]);
      expect(await count()).toBe(FILES * EVENTS_PER_FILE);
      const [[distinct]] = (await c.runAndReadAll('SELECT count(DISTINCT eventid) FROM loaded')).getRowsJS() as [[bigint]];
      expect(Number(distinct)).toBe(FILES * EVENTS_PER_FILE);
      expect(next).toBe(1);
      expect(await threads()).toBe(1);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});
