/**
 * The root-activity alert's logic, pure: which window to read, which events are new, how they are batched,
 * and how the progress (watermark + alerted event ids) moves. No clock, no I/O: `now` is a parameter.
 */
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
  readonly eventId: string;
  readonly session: RootSession;
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
 * From the watermark minus the overlap (CloudTrail delivers late: an event stamped before the watermark can
 * appear after it was passed), or `initial_lookback_hours` back on the very first run, up to `now`.
 */
export function alertWindows(progress: AlertProgress | undefined, now: Date, settings: AlertSettings): AlertWindows {
  const end = now.getTime();
  const start = progress?.watermark
    ? Date.parse(progress.watermark) - settings.overlap_minutes * MINUTE_MS
    : end - settings.initial_lookback_hours * 60 * MINUTE_MS;
  // A run "as of" a time before the watermark has nothing new to see: an empty window, not a reversed one.
  const eventsStart = Math.min(start, end);
  return {
    events: { start: new Date(eventsStart), end: new Date(end) },
    load: { start: new Date(eventsStart - ASSUME_ROOT_SESSION_MAX_MS), end: new Date(end) },
  };
}

function column(result: QueryResult, name: string): number {
  const index = result.columns.indexOf(name);
  if (index < 0) throw new Error(`the root alert query returned no "${name}" column (columns: ${result.columns.join(', ')})`);
  return index;
}

/** Rows of the alert query → events. */
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
    session: at('root_session'),
  };
  return result.rows.map((row) => {
    const get = (i: number) => row[i] ?? '';
    return {
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
      session: get(idx.session) === 'assumed_root' ? 'assumed_root' : 'root_user',
    };
  });
}

/** The events not alerted yet (the overlap re-reads some that were). */
export function unalerted(events: readonly RootEvent[], progress: AlertProgress | undefined): RootEvent[] {
  const alerted = progress?.alerted ?? {};
  return events.filter((event) => !Object.hasOwn(alerted, event.eventId));
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
      events: [...list].sort((x, y) => x.eventTime.localeCompare(y.eventTime) || x.eventId.localeCompare(y.eventId)),
    }));
}

/** Records a batch as alerted (its mail was accepted); the watermark stays until every batch of the run is. */
export function markAlerted(progress: AlertProgress | undefined, events: readonly RootEvent[]): AlertProgress {
  const alerted = { ...(progress?.alerted ?? {}) };
  for (const event of events) alerted[event.eventId] = event.eventTime;
  return { ...(progress?.watermark ? { watermark: progress.watermark } : {}), alerted };
}

/**
 * Moves the watermark to the end of a window whose every alert was accepted, and forgets alerted ids that no
 * later window can see again (older than the new watermark minus the overlap).
 */
export function advanceWatermark(progress: AlertProgress | undefined, windowEnd: Date, overlapMinutes: number): AlertProgress {
  const oldest = toCloudTrailTime(new Date(windowEnd.getTime() - overlapMinutes * MINUTE_MS));
  const alerted = Object.fromEntries(Object.entries(progress?.alerted ?? {}).filter(([, time]) => time >= oldest));
  const previous = progress?.watermark ? Date.parse(progress.watermark) : Number.NEGATIVE_INFINITY;
  // Never backwards: a run "as of" an earlier time must not make later windows re-read what was already covered.
  const watermark = toCloudTrailTime(new Date(Math.max(previous, windowEnd.getTime())));
  return { watermark, alerted };
}

/** `[trailwarden] ALERT root activity · <account>` */
export function alertSubject(account: string): string {
  return `[trailwarden] ALERT root activity · ${account}`;
}
