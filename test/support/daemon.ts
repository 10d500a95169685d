import type { Clock } from '../../src/daemon/clock.js';
import { contentVersion, serializeState } from '../../src/state/document.js';
import { readFile } from 'node:fs/promises';
import { DaemonState, emptyState, type StateStore, type VersionedState } from '../../src/state/types.js';
import { StateConflictError } from '../../src/core/errors.js';

/** A state file as the daemon wrote it, validated by its schema. */
export async function readStateFile(file: string): Promise<DaemonState> {
  return DaemonState.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** Lets pending promise chains and I/O callbacks of the code under test run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock that moves only when the test says so. `advanceTo` fires every timer due on the way, in time
 * order, with `now` set to each timer's instant, and lets the work it started settle before the next one.
 *
 * It keeps two times, as a real machine does: the wall clock (`now`, what `at` timers wait for) and the time
 * elapsed (what `after` timers wait for, like setTimeout). `advanceTo` moves both; `jumpTo` moves only the
 * wall clock, in either direction, like an NTP step or a VM resumed with a wrong clock.
 */
export class ManualClock implements Clock {
  #now: number;
  #elapsed = 0;
  #seq = 0;
  #timers: { at: number; seq: number; callback: () => void }[] = [];
  #elapsedTimers: { due: number; seq: number; callback: () => void }[] = [];

  constructor(start: Date | string) {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  at(at: Date, callback: () => void): () => void {
    const timer = { at: at.getTime(), seq: (this.#seq += 1), callback };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  after(ms: number, callback: () => void): () => void {
    const timer = { due: this.#elapsed + ms, seq: (this.#seq += 1), callback };
    this.#elapsedTimers.push(timer);
    return () => {
      this.#elapsedTimers = this.#elapsedTimers.filter((t) => t !== timer);
    };
  }

  /** Timers still armed. */
  pending(): number {
    return this.#timers.length + this.#elapsedTimers.length;
  }

  /** Sets the wall clock, forwards or backwards, without firing anything (the next `advance…` fires what is due). */
  jumpTo(to: Date | string): void {
    this.#now = new Date(to).getTime();
  }

  /** The next timer due at or before `target` (wall clock), with the wall-clock instant it fires at. */
  #nextDue(target: number): { at: number; seq: number; fire: () => void } | undefined {
    const candidates = [
      ...this.#timers.map((t) => ({
        at: t.at,
        seq: t.seq,
        fire: () => {
          this.#timers = this.#timers.filter((x) => x !== t);
          t.callback();
        },
      })),
      ...this.#elapsedTimers.map((t) => ({
        at: this.#now + (t.due - this.#elapsed),
        seq: t.seq,
        fire: () => {
          this.#elapsedTimers = this.#elapsedTimers.filter((x) => x !== t);
          t.callback();
        },
      })),
    ];
    return candidates.filter((c) => c.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
  }

  #moveTo(instant: number): void {
    const delta = Math.max(0, instant - this.#now);
    this.#now += delta;
    this.#elapsed += delta;
  }

  async advanceTo(to: Date | string): Promise<void> {
    const target = new Date(to).getTime();
    await settle();
    for (;;) {
      const due = this.#nextDue(target);
      if (!due) break;
      this.#moveTo(due.at);
      due.fire();
      await settle();
    }
    this.#moveTo(target);
    await settle();
  }

  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(new Date(this.#now + ms));
  }
}

/** A state store in memory, with the same compare-and-swap contract as the real ones (for scheduler tests). */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  bytes: Buffer | undefined;
  writes = 0;

  constructor(initial?: DaemonState) {
    this.bytes = initial ? serializeState(initial) : undefined;
  }

  describe(): string {
    return 'memory';
  }

  async read(): Promise<VersionedState> {
    if (!this.bytes) return { state: emptyState(), version: undefined };
    return { state: JSON.parse(this.bytes.toString('utf8')) as DaemonState, version: contentVersion(this.bytes) };
  }

  async write(state: DaemonState, expectedVersion: string | undefined): Promise<string> {
    if ((this.bytes ? contentVersion(this.bytes) : undefined) !== expectedVersion) throw new StateConflictError('memory state changed');
    this.bytes = serializeState(state);
    this.writes += 1;
    return contentVersion(this.bytes);
  }

  get state(): DaemonState {
    return this.bytes ? (JSON.parse(this.bytes.toString('utf8')) as DaemonState) : emptyState();
  }
}

/** A promise the test resolves when it chooses. */
export function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
