import { randomBytes } from 'node:crypto';
import { link, lstat, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** The part of an open file an atomic write uses; node's `FileHandle` is one. */
export interface WritableFile {
  writeFile(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file-system calls an atomic write makes. The default is node's; a test hands in one whose write fails
 * half-way, as on a full disk.
 */
export interface WriteFileSystem {
  open(file: string, flags: 'wx' | 'r'): Promise<WritableFile>;
  link(existingPath: string, newPath: string): Promise<void>;
  rename(oldPath: string, newPath: string): Promise<void>;
  rm(file: string, options: { force: true }): Promise<void>;
  lstat(file: string): Promise<unknown>;
}

export const nodeFileSystem: WriteFileSystem = { open, link, rename, rm, lstat };

/**
 * The temporary name a write uses beside `file`: hidden (a leading `.`) and ending in `.tmp`, so no reader takes
 * it for the file itself — evidence names never start with `.`, a relay picks up `*.eml` only.
 */
export function temporaryName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
}

/** `link()` errors that mean "this file system has no hard links" (FAT, some network and FUSE file systems). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

export interface AtomicWriteOptions {
  /**
   * `true`: fail with `EEXIST` when `file` exists, never replacing it (evidence, outbox messages). `false`:
   * replace it (a state document).
   */
  readonly exclusive: boolean;
  readonly fs?: WriteFileSystem;
}

/**
 * Writes `data` to `file` so that a reader finds the whole file or none: it is written to a temporary name in
 * the same folder, flushed to disk (`fsync`), then put in place, and the folder is flushed so the new name
 * survives a power loss. A failed write (a full disk, an I/O error) removes the temporary file and rethrows the
 * error as it came (its `code` intact): nothing truncated is ever left under `file`.
 *
 * Exclusive writes are put in place with `link()` then `unlink()` of the temporary name, not `rename()`: a link
 * fails with `EEXIST` when the name exists, where a rename would silently replace it. On a file system without
 * hard links the name is checked and then renamed; that is exclusive against everything but another writer of
 * the very same name in the same instant, which the callers rule out (a run folder is created exclusively by its
 * run; outbox names carry the run id).
 */
export async function writeFileAtomic(file: string, data: Uint8Array, options: AtomicWriteOptions): Promise<void> {
  const fs = options.fs ?? nodeFileSystem;
  const temp = temporaryName(file);
  try {
    await writeDurably(fs, temp, data);
    if (!options.exclusive) await fs.rename(temp, file);
    else await putInPlaceExclusively(fs, temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncFolder(path.dirname(file), fs);
}

async function writeDurably(fs: WriteFileSystem, file: string, data: Uint8Array): Promise<void> {
  const handle = await fs.open(file, 'wx');
  try {
    await handle.writeFile(data);
    // Durable before it becomes visible: a power loss must not leave an empty or partial file behind the name.
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  // close() can report a deferred write error (NFS): it fails the write too.
  await handle.close();
}

async function putInPlaceExclusively(fs: WriteFileSystem, temp: string, file: string): Promise<void> {
  try {
    await fs.link(temp, file);
  } catch (error) {
    if (!NO_HARD_LINKS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    const existing = await fs.lstat(file).then(
      () => true,
      (statError: NodeJS.ErrnoException) => {
        if (statError.code === 'ENOENT') return false;
        throw statError;
      },
    );
    if (existing) throw Object.assign(new Error(`EEXIST: file already exists, ${file}`), { code: 'EEXIST', path: file });
    await fs.rename(temp, file);
    return;
  }
  await fs.rm(temp, { force: true });
}

/** fsync of the folder, so a new name in it survives a crash; skipped where a folder can't be flushed (Windows). */
export async function syncFolder(dir: string, fs: WriteFileSystem = nodeFileSystem): Promise<void> {
  let handle: WritableFile;
  try {
    handle = await fs.open(dir, 'r');
  } catch (error) {
    if (CANNOT_SYNC_FOLDER.has((error as NodeJS.ErrnoException).code ?? '')) return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!CANNOT_SYNC_FOLDER.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

/** Errors of opening or flushing a folder on platforms and file systems that don't support it. */
const CANNOT_SYNC_FOLDER = new Set(['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF']);
