import pino from 'pino';
import { DuckDbEngine } from './engines/duckdb.js';
import { LocalLogSource } from './source/local.js';
const window = { start: new Date('2026-10-24T08:00:00Z'), end: new Date('2026-11-23T08:00:00Z') };
const listing = await new LocalLogSource({ path: process.argv[2]! }).list(window);
for (const batchSize of (process.argv[3] ?? '64,256,100000').split(',').map(Number)) {
  const e = await DuckDbEngine.create({ threads: 2, batchSize }, pino({ level: 'warn' }));
  const t = performance.now();
  const s = await e.loadWindow({ window, files: listing.files });
  console.log(batchSize, s.events, s.filesSkipped.length, Math.round(performance.now() - t), 'ms', s.filesSkipped.slice(1, 3));
  await e.close();
}
