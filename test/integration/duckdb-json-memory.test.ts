/**
 * DuckDB's JSON reader holds buffers of 128 MiB per thread that it cannot spill (`threadsWithin`), and its
 * scheduling can hold more of them than one per thread. A read that runs out of memory on several threads is read
 * again on one (`readOnOneThreadIfShort`): measured here on DuckDB itself, under a limit three threads never fit
 * in and one always does.
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
  it('fails on three threads, and is read again on one, whole, and back on three after', async () => {
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
    let events = 0;
    const read = async () => {
      const result = await c.runAndReadAll(
        `SELECT sum(len(Records)) FROM read_json(${list}, columns = {Records: 'JSON[]'}, format = 'auto', maximum_object_size = ${DEFAULT_MAX_OBJECT_BYTES})`,
      );
      events = Number(result.getRowsJS()[0]![0]);
    };
    const retries: string[] = [];

    try {
      // Act
      const threeThreads = await read().then(
        () => 'read',
        (error: unknown) => String(error),
      );
      await readOnOneThreadIfShort(
        read,
        3,
        (n) => c.run(`SET threads = ${n}`).then(() => undefined),
        (reason) => retries.push(reason),
      );
      const threadsAfter = (await c.runAndReadAll("SELECT current_setting('threads')")).getRowsJS()[0]?.[0];

      // Assess
      expect(threeThreads).toMatch(/Out of Memory/);
      expect(retries).toEqual([expect.stringMatching(/Out of Memory/)]);
      expect(events).toBe(FILES * EVENTS_PER_FILE);
      expect(Number(threadsAfter)).toBe(3);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});
