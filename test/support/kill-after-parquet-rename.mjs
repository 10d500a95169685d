/**
 * Loaded into a CLI run with `node --import` (the store's crash test): kills the process with SIGKILL right after it
 * has renamed its Nth Parquet file into a store partition (TRAILWARDEN_TEST_KILL_AFTER_PARQUET, default 1) — the
 * moment a segment's data is in place and its partition.json not yet written. Like a power cut: no cleanup at all.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const killAfter = Number(process.env.TRAILWARDEN_TEST_KILL_AFTER_PARQUET ?? '1');
const rename = fs.promises.rename;
let renamed = 0;

fs.promises.rename = async (from, to) => {
  await rename(from, to);
  if (String(to).endsWith('.parquet') && ++renamed === killAfter) process.kill(process.pid, 'SIGKILL');
};
// `import { rename } from 'node:fs/promises'` in the application sees the patched function.
syncBuiltinESMExports();
