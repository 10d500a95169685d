/**
 * How fast the store converts a tree: `node scripts/convert-rate.mjs <logs folder> [days] [as-of]` (after
 * `npm run build`) converts the last `days` (default 3) before `as-of` (default the demo's) into a fresh store under
 * the system's temporary folder, as a run's conversion does (768MB, the store's default), and prints the files,
 * gzip MB, seconds, MB/s and peak RSS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { DuckDbEngine } from '../dist/engines/duckdb.js';
import { LocalLogSource } from '../dist/source/local.js';
import { LocalEventStore } from '../dist/store/local.js';
import { DEMO_AS_OF } from '../dist/demo/constants.js';

const [logs, days = '3', asOf = DEMO_AS_OF] = process.argv.slice(2);
if (!logs) throw new Error('usage: node scripts/convert-rate.mjs <logs folder> [days] [as-of]');
const log = pino({ level: process.env.TRAILWARDEN_LOG_LEVEL ?? 'warn' });
const storeDir = mkdtempSync(path.join(os.tmpdir(), 'trailwarden-convert-rate-'));
try {
  const store = new LocalEventStore({ path: storeDir, log });
  const source = new LocalLogSource({ path: logs });
  const end = new Date(asOf);
  const listing = await source.list({ start: new Date(end.getTime() - Number(days) * 86_400_000), end });
  const bytes = listing.files.reduce((n, f) => n + f.bytes, 0);
  const engine = await DuckDbEngine.create({ memoryLimit: '768MB', spillPath: path.join(storeDir, '.spill'), store }, log);
  const started = performance.now();
  const converted = await engine.syncStore(listing.files, source);
  const seconds = (performance.now() - started) / 1000;
  await engine.close();
  const mb = bytes / 1e6;
  console.log(
    JSON.stringify({
      ...converted,
      gzipMB: Math.round(mb),
      seconds: Number(seconds.toFixed(1)),
      mbPerSecond: Number((mb / seconds).toFixed(2)),
      peakRssMB: process.resourceUsage().maxRSS >> 10,
    }),
  );
} finally {
  rmSync(storeDir, { recursive: true, force: true });
}
