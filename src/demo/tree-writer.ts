/**
 * Writing the demo tree to disk: preparing the output folder (never clearing one the generator did not
 * make) and writing files with a bounded number of writes in flight.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const MARKER = '.trailwarden-demo';

/** Writes files with a few compressions in flight, so zlib's thread pool works while the next file is built. */
export class TreeWriter {
  readonly #root: string;
  readonly #dirs = new Set<string>();
  readonly #inflight: Promise<void>[] = [];
  files = 0;

  constructor(root: string) {
    this.#root = root;
  }

  async put(key: string, data: Buffer | string): Promise<void> {
    const file = path.join(this.#root, ...key.split('/'));
    const dir = path.dirname(file);
    if (!this.#dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#dirs.add(dir);
    }
    await writeFile(file, data);
    this.files++;
  }

  /** Starts a task; waits for the oldest one when too many are running. */
  async schedule(task: () => Promise<void>): Promise<void> {
    const running = task();
    // Marks the rejection as handled until drain() or the FIFO wait below awaits it.
    running.catch(() => undefined);
    this.#inflight.push(running);
    if (this.#inflight.length >= 16) await this.#inflight.shift();
  }

  async drain(): Promise<void> {
    while (this.#inflight.length > 0) await this.#inflight.shift();
  }
}

/** Refuses to clear a folder the generator did not make: `outDir` could be someone's real log copy. */
export async function prepareOutDir(outDir: string): Promise<void> {
  const existing = await readdir(outDir).catch(() => [] as string[]);
  if (existing.includes('AWSLogs')) {
    if (!existing.includes(MARKER)) {
      throw new Error(`${outDir} already holds AWSLogs/ that the demo generator did not write; choose an empty folder`);
    }
    await rm(path.join(outDir, 'AWSLogs'), { recursive: true, force: true });
  }
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, MARKER), 'Written by the trailwarden demo generator; safe to delete.\n');
}
