/**
 * The root-activity alert's logic, pure: which window to read, which events are new, how they are batched,
 * and how the progress (watermark + alerted event ids) moves. No clock, no I/O: `now` is a parameter.
 */
import { createHash } from 'node:crypto';
import type { QueryResult } from '../core/model.js';
import { toCloudTrailTime, type TimeWindow } from '../core/time.js';
import type { AlertProgress } from '../state/types.js';

const MINUTE_MS = 60_000;
/**
 * sts:AssumeRoot sessions last at most 900 seconds, so the AssumeRoot call behind any root event of the
 * window lies at most 15 minutes before the window: the window is loaded that much earlier to find it.
 */
export const ASSUME_ROOT_SESSION_MAX_MS = 15 * MINUTE_MS;

/** How a root event's credentials were obtained. */
export type RootSession = 'root_user' | 'assumed_root';

/** One row of the alert query: a root event with what the alert shows. */
export interface RootEvent {
  readonly eventTime: string;
  readonly account: string;
  readonly region: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly sourceIp: string;
  readonly userAgent: string;
  /** `true` / `false` as CloudTrail logs it, or '' when absent. */
  readonly mfa: string;
  /** `console` or `api`. */
  readonly access: string;
  readonly errorCode: string;
  /** CloudTrail's eventID; '' when the event was logged without one. */
  readonly eventId: string;
  /** `userIdentity.accessKeyId`; '' when absent (console sign-ins). */
  readonly accessKeyId: string;
  readonly session: RootSession;
  /** What "never twice" remembers the event by: see alertKey. */
  readonly key: string;
}

export interface AlertSettings {
  readonly overlap_minutes: number;
  readonly initial_lookback_hours: number;
}

export interface AlertWindows {
  /** Root events are looked for in `[start, end)`. */
  readonly events: TimeWindow;
  /** What the engine loads: the events window plus the AssumeRoot calls that may precede it. */
  readonly load: TimeWindow;
}

/**
 * How far ahead of this machine's clock a stored watermark may be and still be trusted: the skew between two
 * NTP-synchronised hosts sharing one state (a daemon and a `run --job`) is far below it. Further ahead, it was
 * written by a run "as of" the future or under a clock that has since gone back.
 */
export const WATERMARK_CLOCK_TOLERANCE_MS = 60_000;

/** A stored watermark that can't be true: it is ahead of the clock. */
export interface DistrustedWatermark {
  readonly stored: string;
  readonly now: string;
}

/**
 * The stored watermark when it is ahead of `wallClock` (beyond the tolerance). Everything before a watermark has
 * been alerted, so one ahead of the clock claims events that haven't happened yet: trusting it would read an
 * empty window run after run, and record success.
 */
export function distrustedWatermark(progress: AlertProgress | undefined, wallClock: Date): DistrustedWatermark | undefined {
  if (!progress?.watermark) return undefined;
  if (Date.parse(progress.watermark) <= wallClock.getTime() + WATERMARK_CLOCK_TOLERANCE_MS) return undefined;
  return { stored: progress.watermark, now: toCloudTrailTime(wallClock) };
}

/**
 * The progress to work from: a watermark ahead of the clock is dropped (the run then looks back
 * `initial_lookback_hours`, as a first run does); the alerted ids are kept, so what they still cover is not
 * alerted twice.
 */
export function trustedProgress(progress: AlertProgress | undefined, wallClock: Date): AlertProgress | undefined {
  if (!progress || !distrustedWatermark(progress, wallClock)) return progress;
  return { alerted: progress.alerted };
}

/**
 * From the watermark minus the overlap (CloudTrail delivers late: an event stamped before the watermark can
 * appear after it was passed), or `initial_lookback_hours` back on the very first run, up to `asOf` — but never
 * past `wallClock`: a window that ends in the future would move the watermark there.
 */
export function alertWindows(progress: AlertProgress | undefined, asOf: Date, wallClock: Date, settings: AlertSettings): AlertWindows {
  const end = Math.min(asOf.getTime(), wallClock.getTime());
  const watermark = trustedProgress(progress, wallClock)?.watermark;
  const start = watermark ? Date.parse(watermark) - settings.overlap_minutes * MINUTE_MS : end - settings.initial_lookback_hours * 60 * MINUTE_MS;
  // A run "as of" a time before the watermark has nothing new to see: an empty window, not a reversed one.
  const eventsStart = Math.min(start, end);
  return {
    events: { start: new Date(eventsStart), end: new Date(end) },
    load: { start: new Date(eventsStart - ASSUME_ROOT_SESSION_MAX_MS), end: new Date(end) },
  };
}

/**
 * What identifies a root event from one run to the next, for "never twice": its eventID — or, for an event
 * CloudTrail logged without one, `sha256:` and the SHA-256 of the fields that tell it apart (time, account,
 * region, service, action, source IP, user agent, access key, error code), as JSON so no two field lists give
 * the same text. The query returns the same values every run, so the key is the same every run; an event
 * delivered twice without an id has the same content, so it is alerted once.
 */
export function alertKey(event: Omit<RootEvent, 'key'>): string {
  if (event.eventId) return event.eventId;
  const identity = [
    event.eventTime,
    event.account,
    event.region,
    event.eventSource,
    event.eventName,
    event.sourceIp,
    event.userAgent,
    event.accessKeyId,
    event.errorCode,
  ];
  return `sha256:${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}`;
}

function column(result: QueryResult, name: string): number {
  const index = result.columns.indexOf(name);
  if (index < 0) throw new Error(`the root alert query returned no "${name}" column (columns: ${result.columns.join(', ')})`);
  return index;
}

/** Rows of the alert query → events, one per key (an event delivered twice without an id is one event). */
export function rootEventsFrom(result: QueryResult): RootEvent[] {
  const at = (name: string) => column(result, name);
  const idx = {
    time: at('event_time'),
    account: at('account'),
    region: at('region'),
    source: at('event_source'),
    name: at('event_name'),
    ip: at('source_ip'),
    agent: at('user_agent'),
    mfa: at('mfa_authenticated'),
    access: at('access'),
    error: at('error_code'),
    id: at('event_id'),
    accessKey: at('access_key_id'),
    session: at('root_session'),
  };
  const events = new Map<string, RootEvent>();
  for (const row of result.rows) {
    const get = (i: number) => row[i] ?? '';
    const event = {
      eventTime: get(idx.time),
      account: get(idx.account),
      region: get(idx.region),
      eventSource: get(idx.source),
      eventName: get(idx.name),
      sourceIp: get(idx.ip),
      userAgent: get(idx.agent),
      mfa: get(idx.mfa),
      access: get(idx.access),
      errorCode: get(idx.error),
      eventId: get(idx.id),
      accessKeyId: get(idx.accessKey),
      session: get(idx.session) === 'assumed_root' ? ('assumed_root' as const) : ('root_user' as const),
    };
    const key = alertKey(event);
    if (!events.has(key)) events.set(key, { ...event, key });
  }
  return [...events.values()];
}

/** The events not alerted yet (the overlap re-reads some that were). */
export function unalerted(events: readonly RootEvent[], progress: AlertProgress | undefined): RootEvent[] {
  const alerted = progress?.alerted ?? {};
  return events.filter((event) => !Object.hasOwn(alerted, event.key));
}

export interface AlertBatch {
  readonly account: string;
  readonly events: readonly RootEvent[];
}

/** One alert per account (each account has its own owner), accounts in order, events by time then id. */
export function batchesByAccount(events: readonly RootEvent[]): AlertBatch[] {
  const byAccount = new Map<string, RootEvent[]>();
  for (const event of events) {
    const list = byAccount.get(event.account) ?? [];
    list.push(event);
    byAccount.set(event.account, list);
  }
  return [...byAccount.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([account, list]) => ({
      account,
      events: [...list].sort((x, y) => x.eventTime.localeCompare(y.eventTime) || x.key.localeCompare(y.key)),
    }));
}

/** Records a batch as alerted (its mail was accepted); the watermark stays until every batch of the run is. */
export function markAlerted(progress: AlertProgress | undefined, events: readonly RootEvent[]): AlertProgress {
  const alerted = { ...(progress?.alerted ?? {}) };
  for (const event of events) alerted[event.key] = event.eventTime;
  return { ...(progress?.watermark ? { watermark: progress.watermark } : {}), alerted };
}

/**
 * Moves the watermark to the end of a window whose every alert was accepted, and forgets alerted keys that no
 * later window can see again (older than the new watermark minus the overlap). The watermark never passes
 * `wallClock`, and never moves back — except from a stored value ahead of the clock, which is not trusted.
 */
export function advanceWatermark(progress: AlertProgress | undefined, windowEnd: Date, overlapMinutes: number, wallClock: Date): AlertProgress {
  const end = Math.min(windowEnd.getTime(), wallClock.getTime());
  const trusted = trustedProgress(progress, wallClock);
  const previous = trusted?.watermark ? Date.parse(trusted.watermark) : Number.NEGATIVE_INFINITY;
  // Never backwards: a run "as of" an earlier time must not make later windows re-read what was already covered.
  const watermark = new Date(Math.min(Math.max(previous, end), wallClock.getTime()));
  const oldest = toCloudTrailTime(new Date(watermark.getTime() - overlapMinutes * MINUTE_MS));
  const alerted = Object.fromEntries(Object.entries(progress?.alerted ?? {}).filter(([, time]) => time >= oldest));
  return { watermark: toCloudTrailTime(watermark), alerted };
}

/** `[trailwarden] ALERT root activity · <account>` */
export function alertSubject(account: string): string {
  return `[trailwarden] ALERT root activity · ${account}`;
}
