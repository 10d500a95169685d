import { StateConflictError } from '../core/errors.js';
import type { DaemonState, JobState, StateStore } from './types.js';

/**
 * One process's view of the state: read once, then every change goes through `update`, one at a time, each a
 * compare-and-swap against the version this process wrote last. Jobs of one daemon share it, so they never
 * conflict with each other — only with another process writing the same store (a `run --job` beside the
 * daemon, a second daemon): that write fails with StateConflictError, and the handle re-reads the store so
 * the following writes build on what the other process stored instead of failing forever.
 */
export class StateHandle {
  readonly store: StateStore;
  #state: DaemonState;
  #version: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(store: StateStore, state: DaemonState, version: string | undefined) {
    this.store = store;
    this.#state = state;
    this.#version = version;
  }

  static async open(store: StateStore): Promise<StateHandle> {
    const { state, version } = await store.read();
    return new StateHandle(store, state, version);
  }

  async #reload(): Promise<void> {
    try {
      const { state, version } = await this.store.read();
      this.#state = state;
      this.#version = version;
    } catch {
      // Unreadable now: keep what we had; the next write reports the conflict again.
    }
  }

  get state(): DaemonState {
    return this.#state;
  }

  job(name: string): JobState {
    return this.#state.jobs[name] ?? {};
  }

  /** Applies `change` to one job's state and stores the result; the in-memory state changes only once stored. */
  updateJob(name: string, change: (job: JobState) => JobState): Promise<void> {
    const next = this.#queue.then(async () => {
      const updated: DaemonState = { ...this.#state, jobs: { ...this.#state.jobs, [name]: change(this.job(name)) } };
      try {
        this.#version = await this.store.write(updated, this.#version);
      } catch (error) {
        // This write loses and says so; but the next one starts from what is stored now, or every later write
        // of this long-lived process would conflict too (a root alert would then re-send the same mail forever).
        if (error instanceof StateConflictError) await this.#reload();
        throw error;
      }
      this.#state = updated;
    });
    // A failed write must not block the writes queued after it.
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
