import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StateConflictError, StateError } from '../core/errors.js';
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
}

/** Lock files this process holds right now: a lock with our pid that is not among them is a previous life's. */
const heldLocks = new Set<string>();

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

  /** True when the lock was left by a writer that can no longer be writing. */
  async #lockIsStale(): Promise<boolean> {
    try {
      const info = await stat(this.#lock);
      if (Date.now() - info.mtimeMs > this.#staleLockMs) return true;
      const owner = JSON.parse(await readFile(this.#lock, 'utf8')) as LockOwner;
      if (owner.host !== os.hostname()) return false;
      // Our pid but not held by us: a previous life of this process id (PID 1 in a restarted container).
      if (owner.pid === process.pid) return !heldLocks.has(this.#lock);
      return !isAlive(owner.pid);
    } catch {
      // Vanished or half-written: the owner is finishing or died while creating it; let the next attempt decide.
      return false;
    }
  }

  async #acquireLock(): Promise<void> {
    await mkdir(path.dirname(this.#file), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const handle = await open(this.#lock, 'wx');
        heldLocks.add(this.#lock);
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: os.hostname() } satisfies LockOwner));
        await handle.close();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StateError(`cannot lock the state file ${this.#file}: ${(error as Error).message}`, { cause: error });
        }
        if (attempt === 0 && (await this.#lockIsStale())) {
          await rm(this.#lock, { force: true });
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
    await this.#acquireLock();
    try {
      const current = await this.#readBytes();
      const currentVersion = current ? contentVersion(current) : undefined;
      if (currentVersion !== expectedVersion) {
        throw new StateConflictError(
          `${this.#file} changed since this process read it (another trailwarden process wrote it): not overwriting it. Run only one daemon per state file`,
        );
      }
      const temp = `${this.#file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        const handle = await open(temp, 'wx');
        try {
          await handle.writeFile(bytes);
          // Durable before it becomes visible: a power loss must not leave an empty file behind the rename.
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, this.#file);
      } catch (error) {
        await rm(temp, { force: true });
        throw new StateError(`cannot write the state file ${this.#file}: ${(error as Error).message}`, { cause: error });
      }
      return contentVersion(bytes);
    } finally {
      await rm(this.#lock, { force: true });
      heldLocks.delete(this.#lock);
    }
  }
}
