/**
 * Time for the demo generator: CloudTrail's time format, and times placed relative to the as-of instant the
 * demo is built around. Nothing here reads the clock.
 */

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** CloudTrail's `YYYY-MM-DDTHH:MM:SSZ` for an epoch-millisecond time (milliseconds dropped). */
export function ctTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

/** Parses an ISO time and floors it to the second: event times have whole seconds, so window edges must too. */
export function parseIsoSeconds(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO-8601 time: ${iso}`);
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}

export interface Clock {
  asOfMs: number;
  /** UTC midnight of the asOf day. */
  midnightMs: number;
}

/** `daysAgo` days before the asOf day, at a wall-clock UTC time 'HH:MM:SS'. */
export function dayAt(c: Clock, daysAgo: number, hms: string): number {
  const [h = 0, m = 0, s = 0] = hms.split(':').map(Number);
  return c.midnightMs - daysAgo * DAY_MS + h * HOUR_MS + m * MINUTE_MS + s * SECOND_MS;
}

/** Exactly `days` days (plus `seconds`) before asOf: for events on the window edges. */
export function ago(c: Clock, days: number, seconds = 0): number {
  return c.asOfMs - days * DAY_MS - seconds * SECOND_MS;
}
