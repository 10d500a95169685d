/**
 * `trailwarden run` with a store on the demo tree (which has digests): log file validation hashes the window's log
 * files once; the next run takes their hashes from the store's record, reads none of them and reports the same; a
 * file rewritten to the same size and given its old mtime back is found modified by the run after; `--rehash` reads
 * every file again. (`npm run build` first.)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDemo, type DemoDelivery } from '../../src/demo/generate.js';
import { tempDir } from '../support/fixtures.js';
import { rewriteSameSize } from '../support/rewrite.js';
import { runOnTree } from '../support/store-runs.js';

const INTEGRITY_LINE = /^Log integrity: (.*)$/m;

describe('log file validation over the store, run after run', () => {
  it('reads no log file for it once the store holds their hashes, and still finds a same-size rewrite', async () => {
    // Prepare
    const logs = await tempDir('trailwarden-store-integrity-');
    const deliveries: DemoDelivery[] = [];
    const demo = await generateDemo({ outDir: logs, targetEvents: 8_000, onDelivery: (d) => deliveries.push(d) });
    const out = await tempDir('trailwarden-store-integrity-out-');
    // An untouched file two days before the as-of day, in a stream with digests all day.
    const target = deliveries.find(
      (d) =>
        d.key.includes('/2026/11/21/') &&
        d.key.endsWith('.json.gz') &&
        d.fate === undefined &&
        !d.corrupt &&
        d.duplicateKey === undefined &&
        !(d.account === demo.digestGap.account && d.region === demo.digestGap.region),
    )!;

    // Act
    const first = await runOnTree(logs, out);
    const second = await runOnTree(logs, out);
    await rewriteSameSize(path.join(logs, target.key));
    const third = await runOnTree(logs, out);
    const audit = await runOnTree(logs, out, ['--rehash']);

    // Assess
    const line = async (run: typeof first) => INTEGRITY_LINE.exec(await readFile(path.join(run.dir, 'report.txt'), 'utf8'))?.[1];
    const [firstLine, secondLine, thirdLine] = await Promise.all([line(first), line(second), line(third)]);
    expect(firstLine).toMatch(/^[\d,]+ of [\d,]+ log files verified against [\d,]+ digests; /);
    // Hashed again: only the demo's truncated file, which has no hash to record (it cannot be read).
    const unreadable = demo.unreadableFiles.length;
    expect(unreadable).toBe(1);
    expect(secondLine).toMatch(
      /^[\d,]+ of [\d,]+ log files verified against [\d,]+ digests \([\d,]+ hashes from the store's record of earlier runs, same size, modification and change time, and inode; 1 hashed this run\); /,
    );
    expect(secondLine!.replace(/ \([^)]*store's record[^)]*\)/, '')).toBe(firstLine);
    expect(second.csvs['log_integrity_30d.csv']).toBe(first.csvs['log_integrity_30d.csv']);
    expect(thirdLine).toMatch(/; 2 hashed this run\); /);
    const rows = (run: typeof first) => run.csvs['log_integrity_30d.csv']!.trim().split(/\r?\n/).slice(1);
    const added = rows(third).filter((row) => !rows(first).includes(row));
    expect(added, JSON.stringify(added)).toHaveLength(1);
    expect(added[0]).toMatch(new RegExp(`^modified,${target.account},${target.region},${target.key.replace(/[.]/g, '\\.')},`));
    expect(rows(first).every((row) => rows(third).includes(row))).toBe(true);
    // --rehash: every listed file read again, the same verdict.
    expect(await line(audit)).toMatch(
      /^[\d,]+ of [\d,]+ log files verified against [\d,]+ digests \([\d,]+ files hashed again: a full re-hash was asked for\); /,
    );
    expect(audit.csvs['log_integrity_30d.csv']).toBe(third.csvs['log_integrity_30d.csv']);
  });
});
