import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ArchiveError } from '../core/errors.js';
import { MANIFEST_FILE } from '../core/manifest.js';
import { syncFolder, writeFileAtomic, type WriteFileSystem } from '../fs/atomic-write.js';
import { assertEvidenceName, assertRunId, datePath } from './layout.js';
import type { ArchivedRun, EvidenceArchive, RunFolder, StoredBytes, StoredFile } from './types.js';

export interface LocalArchiveOptions {
  readonly path: string;
  /** The file-system calls evidence is written with (default: node's); tests hand in one that fails like a full disk. */
  readonly fs?: WriteFileSystem;
}

/** Sub-folder names of `dir` that match `pattern`; none when `dir` does not exist. */
async function folders(dir: string, pattern: RegExp): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && pattern.test(e.name)).map((e) => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ArchiveError(`cannot list ${dir}`, { cause: error });
  }
}

/** A run folder on local disk, read back. */
export class LocalArchivedRun implements ArchivedRun {
  readonly location: string;

  constructor(dir: string) {
    this.location = path.resolve(dir);
  }

  locationOf(name: string): string {
    return path.join(this.location, name);
  }

  async read(name: string): Promise<StoredBytes | undefined> {
    assertEvidenceName(name);
    try {
      return { bytes: await readFile(this.locationOf(name)) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ArchiveError(`cannot read ${this.locationOf(name)}`, { cause: error });
    }
  }

  async names(): Promise<string[]> {
    try {
      return (await readdir(this.location)).sort();
    } catch (error) {
      throw new ArchiveError(`cannot list ${this.location}`, { cause: error });
    }
  }

  // A local file has no link a mail reader could open: the report names its path instead.
  async link(): Promise<undefined> {
    return undefined;
  }
}

/**
 * Evidence in a local folder. Run folders and files are created exclusively: never overwritten. Each file appears
 * whole or not at all (written under a hidden temporary name, flushed, then linked into place), so a full disk
 * or a crash never leaves a truncated CSV — or a truncated `manifest.json`, whose presence means "complete".
 */
export class LocalArchive implements EvidenceArchive {
  readonly kind = 'local';
  readonly #root: string;
  readonly #fs: WriteFileSystem | undefined;

  constructor(options: LocalArchiveOptions) {
    this.#root = path.resolve(options.path);
    this.#fs = options.fs;
  }

  describe(): string {
    return `local folder ${this.#root}`;
  }

  async openRun(runId: string, reportDate: Date): Promise<RunFolder> {
    assertRunId(runId);
    const parent = path.join(this.#root, ...datePath(reportDate));
    const dir = path.join(parent, runId);
    try {
      await mkdir(parent, { recursive: true });
      // Not recursive: fails with EEXIST rather than writing into an earlier run's evidence.
      await mkdir(dir);
      // The new folder's name survives a power loss, like the names of the files written into it.
      await syncFolder(parent, this.#fs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EEXIST' ? 'it already exists and evidence is never overwritten' : (error as Error).message;
      throw new ArchiveError(`cannot create the run folder ${dir}: ${why}`, { cause: error });
    }
    const fs = this.#fs;
    return {
      location: dir,
      locationOf: (name) => path.join(dir, name),
      async write(name: string, content: string | Uint8Array): Promise<StoredFile> {
        assertEvidenceName(name);
        const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
        try {
          await writeFileAtomic(path.join(dir, name), data, { exclusive: true, fs });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          const why = code === 'EEXIST' ? 'it already exists and evidence is never overwritten' : (error as Error).message;
          throw new ArchiveError(`cannot write ${path.join(dir, name)}: ${why}`, { cause: error });
        }
        return { name, bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
      },
      // A local file has no link a mail reader could open: the report names its path instead.
      link: async () => undefined,
    };
  }

  async *runsByDay(until: Date): AsyncIterable<readonly ArchivedRun[]> {
    const last = datePath(until).join('/');
    const newestFirst = (names: string[]) => names.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    for (const year of newestFirst(await folders(this.#root, /^\d{4}$/))) {
      if (year > last.slice(0, 4)) continue;
      for (const month of newestFirst(await folders(path.join(this.#root, year), /^\d{2}$/))) {
        if (`${year}/${month}` > last.slice(0, 7)) continue;
        for (const day of newestFirst(await folders(path.join(this.#root, year, month), /^\d{2}$/))) {
          if (`${year}/${month}/${day}` > last) continue;
          const dayDir = path.join(this.#root, year, month, day);
          const runs: ArchivedRun[] = [];
          for (const name of (await folders(dayDir, /^[A-Za-z0-9_.-]+$/)).filter((n) => !n.startsWith('.')).sort()) {
            // A folder without a manifest is a run that did not finish: not a run to compare with.
            if ((await stat(path.join(dayDir, name, MANIFEST_FILE)).catch(() => undefined))?.isFile()) runs.push(new LocalArchivedRun(path.join(dayDir, name)));
          }
          if (runs.length > 0) yield runs;
        }
      }
    }
  }

  /** Searches `<root>/*\/*\/*\/<runId>`: the folder date is the as-of date, which the run id does not carry. */
  async findRun(runId: string): Promise<ArchivedRun | undefined> {
    assertRunId(runId);
    for (const year of await folders(this.#root, /^\d{4}$/)) {
      for (const month of await folders(path.join(this.#root, year), /^\d{2}$/)) {
        for (const day of await folders(path.join(this.#root, year, month), /^\d{2}$/)) {
          const dir = path.join(this.#root, year, month, day, runId);
          if (!(await stat(dir).catch(() => undefined))?.isDirectory()) continue;
          if (!(await stat(path.join(dir, MANIFEST_FILE)).catch(() => undefined))?.isFile()) {
            throw new ArchiveError(`run ${runId} at ${dir} is incomplete: it has no ${MANIFEST_FILE} (the run did not finish), so it is not a finished run`);
          }
          return new LocalArchivedRun(dir);
        }
      }
    }
    return undefined;
  }
}
