/**
 * Time as the daemon sees it. The scheduler asks the clock for "now" and for a callback at an instant, so a
 * test can drive a whole week of schedules with a manual clock, and production uses the system's.
 */
export interface Clock {
  now(): Date;
  /** Calls `callback` once at `at` (at once when `at` has passed); returns a function that cancels it. */
  at(at: Date, callback: () => void): () => void;
  /**
   * Calls `callback` once after `ms` milliseconds have elapsed, whatever the wall clock does meanwhile (an `at`
   * timer set before the clock was put back waits for the old time); returns a function that cancels it.
   */
  after(ms: number, callback: () => void): () => void;
}

/** setTimeout can wait at most 2^31-1 ms (~24.8 days); longer waits are re-armed in steps. */
const MAX_TIMEOUT_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => new Date(),
  at(at, callback) {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      const wait = at.getTime() - Date.now();
      if (wait <= 0) {
        callback();
        return;
      }
      timer = setTimeout(arm, Math.min(wait, MAX_TIMEOUT_MS));
    };
    // Deferred even when due, so the caller finishes its own bookkeeping first.
    timer = setTimeout(arm, 0);
    return () => clearTimeout(timer);
  },
  after(ms, callback) {
    // setTimeout measures elapsed (monotonic) time, not the wall clock.
    const timer = setTimeout(callback, Math.min(ms, MAX_TIMEOUT_MS));
    return () => clearTimeout(timer);
  },
};
