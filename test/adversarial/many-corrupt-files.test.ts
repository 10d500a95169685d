/**
 * Many corrupt files must not make loading quadratic. Each failure of a read statement used to re-read the rest
 * of its batch from scratch: k bad files among n cost about k × n file reads (here 61 statements of ~570 files,
 * ~35,000). The engine's debug log says how many statements it ran and how many files it handed them: that must
 * stay within O(n log n) — here n × log2 n — and the statements about one or two per bad file.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { closeEngines, loadTree, rootEvent, rootEventIds, routine } from '../support/adversarial.js';
import { tempDir, writeLogFile } from '../support/fixtures.js';

afterEach(closeEngines);

const FILES = 600;
const EVERY = 10; // one corrupt file in ten, each of a kind DuckDB names in its error (screening can't see them)

function corrupt(i: number): Buffer {
  const records = [routine(`f${i}-a`), routine(`f${i}-b`)];
  const text = JSON.stringify({ Records: records });
  switch ((i / EVERY) % 3) {
    case 0:
      return gzipSync(text.replace(/"userIdentity":\{/, '"userIdentity":"root","x":{')); // a userIdentity that is a string
    case 1:
      return gzipSync(text.replace('"eventID":', '"eventID":"dup","eventID":')); // a duplicate key
    default:
      return gzipSync(`${text}!`); // a byte after the document
  }
}

describe('a tree with many corrupt files', () => {
  it('isolates them with a bounded number of file reads and loses no good record', async () => {
    // Prepare
    const root = await tempDir();
    for (let i = 0; i < FILES; i++) {
      const name = `f${String(i).padStart(4, '0')}.json.gz`;
      if (i % EVERY === 0) await writeLogFile(root, { day: '2026/11/20', name, content: corrupt(i) });
      else await writeLogFile(root, { day: '2026/11/20', name, records: [routine(`f${i}-a`), routine(`f${i}-b`)] });
    }
    await writeLogFile(root, { day: '2026/11/21', name: 'zz-root.json.gz', records: [rootEvent('root-1')] });
    const n = FILES + 1;
    const k = FILES / EVERY;

    // Act
    const { engine, stats, log } = await loadTree(root);

    // Assess: every good record in, each bad one counted
    expect(await rootEventIds(engine)).toEqual(['root-1']);
    const damaged = stats.recordsDropped.filter((d) => d.count > 0);
    expect(damaged).toHaveLength((k * 2) / 3);
    expect(stats.events).toBe(FILES * 2 - damaged.length + 1);
    expect(stats.filesSkipped).toEqual([]);
    // ... within the bound: O(n log n) files handed to statements, and not many more statements than bad files
    const reads = log.find((line) => line.msg === 'window loaded')?.reads as { statements: number; files: number };
    expect(reads.files).toBeLessThanOrEqual(n * Math.ceil(Math.log2(n)));
    expect(reads.statements).toBeLessThanOrEqual(2 * k + 8);
  });
});
