/** Time helpers for the pure core. Nothing here reads the clock: callers pass `now` / `asOf`. */

const DAY_MS = 86_400_000;

/** A half-open time window `[start, end)`. */
export interface TimeWindow {
  readonly start: Date;
  readonly end: Date;
}

/**
 * CloudTrail's own timestamp form, `YYYY-MM-DDTHH:MM:SSZ`. Because every eventTime has this exact
 * form, comparing strings compares times, which lets the same SQL run unchanged on Athena and DuckDB.
 */
export function toCloudTrailTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The CloudTrail time without separators, `YYYYMMDDTHHMMSSZ`: for ids and names that sort by time. */
export function compactTime(date: Date): string {
  return toCloudTrailTime(date).replaceAll('-', '').replaceAll(':', '');
}

/** Parses an ISO-8601 time with an explicit zone (or a bare date, taken as UTC midnight); whole seconds. */
export function parseAsOf(text: string): Date | undefined {
  const trimmed = text.trim();
  const isoWithZone = /^(\d{4})-(\d{2})-(\d{2})(T(\d{2}):(\d{2})(:(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/;
  const match = isoWithZone.exec(trimmed);
  if (!match) return undefined;
  // Date would roll 2026-02-30 over to March: check the fields themselves.
  const [year, month, day, hour, minute, second] = [1, 2, 3, 5, 6, 8].map((i) => Number(match[i] ?? 0)) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(trimmed.length === 10 ? `${trimmed}T00:00:00Z` : trimmed);
  return Number.isNaN(date.getTime()) ? undefined : floorToSecond(date);
}

/** Event times have whole seconds, so a window edge must too, or an event at that second is misplaced. */
export function floorToSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

export function daysBefore(date: Date, days: number): Date {
  return new Date(date.getTime() - days * DAY_MS);
}

/** `YYYY-MM-DD` (UTC). */
export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * The UTC day folders (`YYYY/MM/DD`) that can hold events of the window. CloudTrail files sit in the
 * folder of their *delivery* date, so a file can hold events of the previous day: start a day before
 * the window and end a day after it; the eventTime filter drops what is outside.
 */
export function deliveryDaysFor(window: TimeWindow): string[] {
  const days: string[] = [];
  const first = Date.UTC(window.start.getUTCFullYear(), window.start.getUTCMonth(), window.start.getUTCDate()) - DAY_MS;
  // Events just before the end can be delivered after midnight, into the next day's folder; without it a
  // report re-run later for the same as-of could see more events than the first run did.
  const last = Date.UTC(window.end.getUTCFullYear(), window.end.getUTCMonth(), window.end.getUTCDate()) + DAY_MS;
  for (let t = first; t <= last; t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10).replaceAll('-', '/'));
  }
  return days;
}
