import type { DaemonState, JobState, StateStore } from './types.js';

/**
 * One process's view of the state: read once, then every change goes through `update`, one at a time, each a
 * compare-and-swap against the version this process wrote last. Jobs of one daemon share it, so they never
 * conflict with each other — only with another process writing the same store.
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
      this.#version = await this.store.write(updated, this.#version);
      this.#state = updated;
    });
    // A failed write must not block the writes queued after it.
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
