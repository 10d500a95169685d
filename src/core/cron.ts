/**
 * When a job is due: a cron expression in a time zone, evaluated without reading the clock (the caller passes
 * the instant). node-cron defines the language — its parser expands the fields and its matcher has the last
 * word on every candidate instant, so a job is due exactly when node-cron would consider it due — and this
 * module adds what node-cron lacks: the previous slot before an instant, and the next one after *any* instant
 * (node-cron's own `getNextRun` reads the system clock).
 *
 * Daylight-saving time, as cron does it: a job at every hour fires at every real instant that matches (both
 * passes of a repeated hour); a job at fixed hours fires once in a repeated hour, and a time of the skipped
 * hour runs shifted by the change.
 */
import { createTask, parse, validateDetailed, type ScheduledTask } from 'node-cron';

const DAY_MS = 86_400_000;
/** How far `next`/`previous` search before deciding an expression never matches (e.g. 30 February). */
const SEARCH_DAYS = 366 * 30;
/**
 * Where the zone's offset is sampled on either side of a wall-clock time. Its instant lies within 14 h of the
 * same digits read as UTC (offsets run from -12 to +14), and a DST change that concerns it lies a few hours from
 * it: 18 h either side is before and after any such change (half a day was not, for zones ahead of UTC+12 such
 * as Pacific/Auckland, whose fold then resolved to its second occurrence).
 */
const OFFSET_SAMPLE_MS = 18 * 3_600_000;

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock fields of an instant in a time zone. */
export function localParts(instant: number, timeZone: string): LocalParts {
  const fields: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) fields[part.type] = part.value;
  return {
    year: Number(fields.year),
    month: Number(fields.month),
    day: Number(fields.day),
    hour: Number(fields.hour),
    minute: Number(fields.minute),
    second: Number(fields.second),
    weekday: WEEKDAYS[fields.weekday ?? ''] ?? 0,
  };
}

/** Milliseconds the zone's wall clock is ahead of UTC at an instant. */
function offsetAt(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(instant / 1000) * 1000;
}

/** The problems of a schedule, for the config's error list; empty when it is valid. */
export function scheduleProblems(expression: string, timeZone: string): { schedule?: string; timezone?: string } {
  const problems: { schedule?: string; timezone?: string } = {};
  const detail = validateDetailed(expression);
  if (!detail.valid) {
    const reasons = detail.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    problems.schedule = `"${expression}" is not a valid cron expression (${reasons || 'expected 5 fields, or 6 with seconds: [second] minute hour day-of-month month day-of-week'})`;
  }
  try {
    formatterFor(timeZone);
  } catch {
    problems.timezone = `"${timeZone}" is not a known IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`;
  }
  return problems;
}

/** A parsed cron expression in a time zone: the slots it fires at. */
export class CronSchedule {
  readonly expression: string;
  readonly timeZone: string;
  readonly #matcher: ScheduledTask;
  readonly #seconds: number[];
  readonly #minutes: number[];
  readonly #hours: number[];
  readonly #months: Set<number>;
  readonly #days: Set<number> | undefined;
  readonly #weekdays: Set<number> | undefined;

  /** Throws when the expression or the zone is invalid (config validation reports both beforehand). */
  constructor(expression: string, timeZone: string) {
    const problems = scheduleProblems(expression, timeZone);
    if (problems.schedule || problems.timezone) throw new Error([problems.schedule, problems.timezone].filter(Boolean).join('; '));
    this.expression = expression;
    this.timeZone = timeZone;
    const fields = parse(expression);
    // Never started: only its matcher is used. Destroyed at once so node-cron's task registry stays empty.
    this.#matcher = createTask(expression, () => undefined, { timezone: timeZone, name: `trailwarden-matcher-${expression}` });
    void this.#matcher.destroy();
    this.#seconds = [...fields.second].sort((a, b) => a - b);
    this.#minutes = [...fields.minute].sort((a, b) => a - b);
    this.#hours = [...fields.hour].sort((a, b) => a - b);
    this.#months = new Set(fields.month);
    // Day filters are only a shortcut; tokens such as "L" leave the decision to node-cron's matcher.
    const numeric = (values: (number | string)[]) => (values.every((v) => typeof v === 'number') ? new Set(values) : undefined);
    this.#days = numeric(fields.dayOfMonth);
    this.#weekdays = numeric(fields.dayOfWeek.map((d) => (d === 7 ? 0 : d)));
  }

  /** Whether node-cron's matcher fires at this instant (whole seconds). */
  matches(instant: Date): boolean {
    return this.#matcher.match(instant);
  }

  /**
   * The slots of one local calendar day, ascending. Daylight-saving changes follow cron's own rule: a job
   * that runs every hour (`*` in the hour field, e.g. the root alert every 15 minutes) fires at every real
   * instant whose wall-clock time matches — both passes of a repeated hour, nothing in the skipped one — so
   * it never goes silent for longer than its interval. A job at fixed hours fires once in a repeated hour
   * (the first pass), and a time it names in the skipped hour runs shifted by the change (02:30 → 03:30)
   * rather than not at all that day.
   */
  #slotsOfDay(year: number, month: number, day: number, hourFilter: (hour: number) => boolean): number[] {
    const date = new Date(Date.UTC(year, month - 1, day));
    if (!this.#months.has(month)) return [];
    if (this.#days && !this.#days.has(day)) return [];
    if (this.#weekdays && !this.#weekdays.has(date.getUTCDay())) return [];
    const everyHour = this.#hours.length === 24;
    const slots = new Set<number>();
    for (const hour of this.#hours) {
      if (!hourFilter(hour)) continue;
      for (const minute of this.#minutes) {
        for (const second of this.#seconds) {
          const naive = Date.UTC(year, month - 1, day, hour, minute, second);
          // The offsets before and after cover both sides of a DST change; in a fold both are real instants.
          const before = naive - offsetAt(naive - OFFSET_SAMPLE_MS, this.timeZone);
          const after = naive - offsetAt(naive + OFFSET_SAMPLE_MS, this.timeZone);
          const candidates = [...new Set([before, after])].sort((a, b) => a - b);
          const real = candidates.filter((instant) => {
            const p = localParts(instant, this.timeZone);
            return p.day === day && p.hour === hour && p.minute === minute && p.second === second;
          });
          if (real.length === 0) {
            // The spring-forward gap: no instant has this wall-clock time. With the offset from before the
            // change it lands just after the gap, shifted by the change. The day filters above decided the day;
            // day tokens only node-cron understands (e.g. "L") leave the gap slot out rather than guess.
            if (!everyHour && this.#days !== undefined && this.#weekdays !== undefined) slots.add(before);
            continue;
          }
          for (const instant of everyHour ? real : real.slice(0, 1)) {
            if (this.#matcher.match(new Date(instant))) slots.add(instant);
          }
        }
      }
    }
    return [...slots].sort((a, b) => a - b);
  }

  /** The first slot strictly after `after`, or undefined when there is none within 30 years. */
  next(after: Date): Date | undefined {
    const from = after.getTime();
    const start = localParts(from, this.timeZone);
    let cursor = Date.UTC(start.year, start.month - 1, start.day);
    for (let i = 0; i < SEARCH_DAYS; i += 1, cursor += DAY_MS) {
      const d = new Date(cursor);
      // On the first day, hours well before `after` can't hold the answer (an hour of slack covers a DST change).
      const filter = i === 0 ? (hour: number) => hour >= start.hour - 1 : () => true;
      const found = this.#slotsOfDay(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), filter).find((slot) => slot > from);
      if (found !== undefined) return new Date(found);
    }
    return undefined;
  }

  /** The last slot at or before `atOrBefore`, or undefined when there is none within 30 years. */
  previous(atOrBefore: Date): Date | undefined {
    const until = atOrBefore.getTime();
    const start = localParts(until, this.timeZone);
    let cursor = Date.UTC(start.year, start.month - 1, start.day);
    for (let i = 0; i < SEARCH_DAYS; i += 1, cursor -= DAY_MS) {
      const d = new Date(cursor);
      const filter = i === 0 ? (hour: number) => hour <= start.hour + 1 : () => true;
      const slots = this.#slotsOfDay(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), filter).filter((slot) => slot <= until);
      const last = slots.at(-1);
      if (last !== undefined) return new Date(last);
    }
    return undefined;
  }
}
