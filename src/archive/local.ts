import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ArchiveError } from '../core/errors.js';
import type { EvidenceArchive, RunFolder, StoredFile } from './types.js';

export interface LocalArchiveOptions {
  readonly path: string;
}

function datePath(date: Date): string[] {
  const iso = date.toISOString();
  return [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
}

/** Evidence in a local folder. Run folders and files are created exclusively: never overwritten. */
export class LocalArchive implements EvidenceArchive {
  readonly kind = 'local';
  readonly #root: string;

  constructor(options: LocalArchiveOptions) {
    this.#root = path.resolve(options.path);
  }

  describe(): string {
    return `local folder ${this.#root}`;
  }

  async openRun(runId: string, reportDate: Date): Promise<RunFolder> {
    if (!/^[A-Za-z0-9_.-]+$/.test(runId)) throw new ArchiveError(`invalid run id "${runId}"`);
    const parent = path.join(this.#root, ...datePath(reportDate));
    const dir = path.join(parent, runId);
    try {
      await mkdir(parent, { recursive: true });
      // Not recursive: fails with EEXIST rather than writing into an earlier run's evidence.
      await mkdir(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EEXIST' ? 'it already exists and evidence is never overwritten' : (error as Error).message;
      throw new ArchiveError(`cannot create the run folder ${dir}: ${why}`, { cause: error });
    }
    return {
      location: dir,
      locationOf: (name) => path.join(dir, name),
      async write(name: string, content: string | Uint8Array): Promise<StoredFile> {
        if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new ArchiveError(`invalid evidence file name "${name}"`);
        const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
        try {
          await writeFile(path.join(dir, name), data, { flag: 'wx' });
        } catch (error) {
          throw new ArchiveError(`cannot write ${path.join(dir, name)}`, { cause: error });
        }
        return { name, bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
      },
    };
  }
}
