import { readFileSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Files read before the event loop gets a turn (see `readSmallFiles`): a few milliseconds of blocking at most.
 */
const FILES_PER_TURN = 128;

/**
 * Reads many small files (digests, a few KB each) in the order given: synchronously, FILES_PER_TURN at a time, with
 * a turn of the event loop in between so that timers and the daemon's health endpoint are not held up. Node's
 * promise reads cost four trips to libuv's thread pool per file (open, stat, read, close): measured on 4,607 digest
 * files, 0.49 s sixteen at a time and 0.51 s sixty-four at a time, against 0.08-0.18 s read this way. The first file
 * that cannot be read fails the whole, with node's error (which names the file).
 */
export async function readSmallFiles(files: readonly string[]): Promise<Buffer[]> {
  const bodies: Buffer[] = [];
  for (let from = 0; from < files.length; from += FILES_PER_TURN) {
    if (from > 0) await nextTurn();
    for (const file of files.slice(from, from + FILES_PER_TURN)) bodies.push(readFileSync(file));
  }
  return bodies;
}
