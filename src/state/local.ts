import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StateConflictError, StateError } from '../core/errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { contentVersion, parseState, serializeState } from './document.js';
import { emptyState, type DaemonState, type StateStore, type VersionedState } from './types.js';

export interface LocalStateOptions {
  /** The JSON file. Its folder is created when missing. */
  readonly path: string;
  /** A lock file older than this is a leftover of a killed writer (a write takes milliseconds). Default 30 s. */
  readonly staleLockMs?: number;
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Unique per acquisition: a release removes the lock only while it is still this one. */
  readonly token: string;
}

/** Lock files this process holds right now, with their tokens: a lock with our pid not among them is a previous life's. */
const heldLocks = new Map<string, string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The state as one local JSON file. A write is atomic (a temporary file renamed over the old one, so a crash
 * leaves the old or the new document, never half of one) and compare-and-swap: under a short-lived lock file,
 * the current file's SHA-256 must still be the version the writer read.
 */
export class LocalStateStore implements StateStore {
  readonly kind = 'local';
  readonly #file: string;
  readonly #lock: string;
  readonly #staleLockMs: number;

  constructor(options: LocalStateOptions) {
    this.#file = path.resolve(options.path);
    this.#lock = `${this.#file}.lock`;
    this.#staleLockMs = options.staleLockMs ?? 30_000;
  }

  describe(): string {
    return `local state file ${this.#file}`;
  }

  async #readBytes(): Promise<Buffer | undefined> {
    try {
      return await readFile(this.#file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateError(`cannot read the state file ${this.#file}: ${(error as Error).message}`, { cause: error });
    }
  }

  async read(): Promise<VersionedState> {
    const bytes = await this.#readBytes();
    if (!bytes) return { state: emptyState(), version: undefined };
    return { state: parseState(bytes, this.#file), version: contentVersion(bytes) };
  }

  /** The lock file's inode when it was left by a writer that can no longer be writing; undefined otherwise. */
  async #staleLock(): Promise<number | undefined> {
    try {
      const info = await stat(this.#lock);
      if (Date.now() - info.mtimeMs > this.#staleLockMs) return info.ino;
      const owner = JSON.parse(await readFile(this.#lock, 'utf8')) as LockOwner;
      if (owner.host !== os.hostname()) return undefined;
      // Our pid but not held by us: a previous life of this process id (PID 1 in a restarted container).
      if (owner.pid === process.pid) return heldLocks.has(this.#lock) ? undefined : info.ino;
      return isAlive(owner.pid) ? undefined : info.ino;
    } catch {
      // Vanished or half-written: the owner is finishing or died while creating it; let the next attempt decide.
      return undefined;
    }
  }

  /**
   * Removes a stale lock without removing a live one. Breakers take turns under a second lock file, and
   * each removes the lock only when, checked again under it, it is still the very file (inode) judged stale:
   * two writers that both found it stale can't remove the lock the first of them has taken since.
   */
  async #breakStaleLock(staleIno: number): Promise<void> {
    const breaker = `${this.#lock}.break`;
    try {
      await writeFileExclusive(breaker, String(process.pid));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another writer is breaking it right now; a breaker that died mid-way (milliseconds) is cleared once old.
      const info = await stat(breaker).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > this.#staleLockMs) await rm(breaker, { force: true });
      return;
    }
    try {
      const current = await stat(this.#lock).catch(() => undefined);
      if (current?.ino === staleIno) await rm(this.#lock, { force: true });
    } finally {
      await rm(breaker, { force: true });
    }
  }

  /** The lock's token, once taken. */
  async #acquireLock(): Promise<string> {
    await mkdir(path.dirname(this.#file), { recursive: true });
    const token = randomBytes(8).toString('hex');
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        // Written in full under a private name, then linked into place: the lock appears whole or not at all.
        const draft = `${this.#lock}.new-${token}`;
        await writeFileExclusive(draft, JSON.stringify({ pid: process.pid, host: os.hostname(), token } satisfies LockOwner));
        try {
          await link(draft, this.#lock);
        } finally {
          await rm(draft, { force: true });
        }
        heldLocks.set(this.#lock, token);
        return token;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StateError(`cannot lock the state file ${this.#file}: ${(error as Error).message}`, { cause: error });
        }
        const staleIno = attempt === 0 ? await this.#staleLock() : undefined;
        if (staleIno !== undefined) {
          await this.#breakStaleLock(staleIno);
          continue;
        }
      }
    }
    throw new StateConflictError(
      `${this.#file} is being written by another trailwarden process right now (${this.#lock} exists): two daemons, or a daemon and "run --job", share this state; run only one`,
    );
  }

  async write(state: DaemonState, expectedVersion: string | undefined): Promise<string> {
    const bytes = serializeState(state);
    const token = await this.#acquireLock();
    try {
      const current = await this.#readBytes();
      const currentVersion = current ? contentVersion(current) : undefined;
      if (currentVersion !== expectedVersion) {
        throw new StateConflictError(
          `${this.#file} changed since this process read it (another trailwarden process wrote it): not overwriting it. Run only one daemon per state file`,
        );
      }
      try {
        // Temporary file, fsync, rename over the old one, fsync of the folder: the old or the new document, whole.
        await writeFileAtomic(this.#file, bytes, { exclusive: false });
      } catch (error) {
        throw new StateError(`cannot write the state file ${this.#file}: ${(error as Error).message}`, { cause: error });
      }
      return contentVersion(bytes);
    } finally {
      await this.#releaseLock(token);
    }
  }

  /** Removes the lock only while it is still ours (a stale-lock breaker may have replaced it meanwhile). */
  async #releaseLock(token: string): Promise<void> {
    heldLocks.delete(this.#lock);
    const owner = await readFile(this.#lock, 'utf8').then(
      (text) => JSON.parse(text) as LockOwner,
      () => undefined,
    );
    if (owner?.token === token) await rm(this.#lock, { force: true });
  }
}

async function writeFileExclusive(file: string, text: string): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}
