import { execFile } from 'node:child_process';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './fixtures.js';

const run = promisify(execFile);

/** A small, really full-able file system: a tmpfs mounted on a fresh temporary folder. */
export interface TinyDisk {
  readonly dir: string;
  /** Fills the disk until only `bytes` (rounded down to whole blocks by the file system) are left. */
  readonly fillLeaving: (bytes: number) => Promise<void>;
  readonly unmount: () => Promise<void>;
}

/**
 * Mounts a tmpfs of `kilobytes` KiB, or says why it can't: mounting needs root (CAP_SYS_ADMIN), which CI and
 * this project's sandbox have, but a developer's machine or an unprivileged container may not. Callers skip
 * their test with the returned reason rather than fail.
 */
export async function mountTinyDisk(kilobytes: number): Promise<TinyDisk | { skipReason: string }> {
  if (process.platform !== 'linux') return { skipReason: `a tmpfs can only be mounted on Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { skipReason: 'mounting a small tmpfs needs root (CAP_SYS_ADMIN); this test process is not root' };
  const dir = await tempDir('trailwarden-tiny-disk-');
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${kilobytes}k`, 'tmpfs', dir]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return { skipReason: `cannot mount a tmpfs here: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}` };
  }
  let fillers = 0;
  return {
    dir,
    fillLeaving: async (bytes) => {
      const { bavail, bsize } = await statfs(dir);
      const filler = Number(bavail) * Number(bsize) - bytes;
      if (filler <= 0) return;
      const fillDir = path.join(dir, 'filler');
      await mkdir(fillDir, { recursive: true });
      fillers += 1;
      await writeFile(path.join(fillDir, `filler-${fillers}`), Buffer.alloc(filler, 0x66));
    },
    unmount: async () => {
      await run('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
