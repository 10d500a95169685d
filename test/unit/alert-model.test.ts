import { describe, expect, it } from 'vitest';
import {
  advanceWatermark,
  alertKey,
  alertSubject,
  alertWindows,
  batchesByAccount,
  markAlerted,
  rootEventsFrom,
  unalerted,
  type RootEvent,
} from '../../src/alert/model.js';
import { AlertRenderer, alertView } from '../../src/alert/render.js';

function event(id: string, account: string, time: string, extra: Partial<RootEvent> = {}): RootEvent {
  return {
    eventTime: time,
    account,
    region: 'us-east-1',
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    sourceIp: '203.0.113.7',
    userAgent: 'aws-cli/2',
    mfa: 'true',
    access: 'api',
    errorCode: '',
    eventId: id,
    accessKeyId: 'AKIAROOTEXAMPLE00001',
    session: 'root_user',
    key: id,
    ...extra,
  };
}

const settings = { overlap_minutes: 60, initial_lookback_hours: 24 };

describe('root alert windows and progress', () => {
  it('reads from the watermark minus the overlap, or the initial lookback, and loads 15 minutes more for AssumeRoot calls', () => {
    const now = new Date('2026-11-23T10:15:00Z');
    expect(alertWindows(undefined, now, now, settings).events.start.toISOString()).toBe('2026-11-22T10:15:00.000Z');
    const windows = alertWindows({ watermark: '2026-11-23T10:00:00Z', alerted: {} }, now, now, settings);
    expect(windows.events).toEqual({ start: new Date('2026-11-23T09:00:00Z'), end: now });
    expect(windows.load.start).toEqual(new Date('2026-11-23T08:45:00Z'));
  });

  it('alerts each event once: ids alerted in the overlap are not alerted again, and are forgotten once out of reach', () => {
    // Prepare: run 1 alerted e1 at 09:50 and moved the watermark to 10:00.
    let progress = advanceWatermark(
      markAlerted(undefined, [event('e1', '111111111111', '2026-11-23T09:50:00Z')]),
      new Date('2026-11-23T10:00:00Z'),
      60,
      new Date('2026-11-23T10:00:00Z'),
    );
    // Act: run 2 re-reads 09:00–10:15 and sees e1 again plus a late-delivered e0 and a new e2.
    const seen = [
      event('e0', '111111111111', '2026-11-23T09:40:00Z'),
      event('e1', '111111111111', '2026-11-23T09:50:00Z'),
      event('e2', '111111111111', '2026-11-23T10:10:00Z'),
    ];
    const fresh = unalerted(seen, progress);
    // Assess
    expect(fresh.map((e) => e.eventId)).toEqual(['e0', 'e2']);
    progress = advanceWatermark(markAlerted(progress, fresh), new Date('2026-11-23T11:00:00Z'), 60, new Date('2026-11-23T11:00:00Z'));
    // 09:40 and 09:50 are before 11:00 - 60 min: no later window reads them, so they are dropped from the list.
    expect(progress).toEqual({ watermark: '2026-11-23T11:00:00Z', alerted: { e2: '2026-11-23T10:10:00Z' } });
  });

  it('keeps the watermark until the whole run is done, and never moves it back', () => {
    const partial = markAlerted({ watermark: '2026-11-23T10:00:00Z', alerted: {} }, [event('e1', '1', '2026-11-23T10:05:00Z')]);
    expect(partial.watermark).toBe('2026-11-23T10:00:00Z');
    expect(advanceWatermark(partial, new Date('2026-11-23T09:00:00Z'), 60, new Date('2026-11-23T10:20:00Z')).watermark).toBe('2026-11-23T10:00:00Z');
  });

  it('never lets the window end or the watermark pass the clock, and does not trust a watermark ahead of it', () => {
    const clock = new Date('2026-11-23T10:15:00Z');
    // A run "as of" the future reads up to the clock only.
    expect(alertWindows(undefined, new Date('2027-06-01T00:00:00Z'), clock, settings).events.end).toEqual(clock);
    expect(advanceWatermark(undefined, new Date('2027-06-01T00:00:00Z'), 60, clock).watermark).toBe('2026-11-23T10:15:00Z');
    // A stored watermark half a year ahead: looked back 24 h as on a first run, and replaced by the clock's time.
    const poisoned = { watermark: '2027-06-01T00:00:00Z', alerted: { e1: '2026-11-23T10:00:00Z' } };
    expect(alertWindows(poisoned, clock, clock, settings).events.start.toISOString()).toBe('2026-11-22T10:15:00.000Z');
    expect(advanceWatermark(poisoned, clock, 60, clock)).toEqual({ watermark: '2026-11-23T10:15:00Z', alerted: { e1: '2026-11-23T10:00:00Z' } });
    // Within a minute ahead (two hosts' clocks): trusted, and saved no later than the clock.
    const skewed = { watermark: '2026-11-23T10:15:30Z', alerted: {} };
    expect(alertWindows(skewed, clock, clock, settings).events.start.toISOString()).toBe('2026-11-23T09:15:30.000Z');
    expect(advanceWatermark(skewed, clock, 60, clock).watermark).toBe('2026-11-23T10:15:00Z');
  });

  it('keys an event without an eventID on its content: the same every run, different for any other event', () => {
    // Prepare: the same query result twice, as two runs read it, and the same event but for one field each.
    const columns = [
      'event_time',
      'account',
      'region',
      'event_source',
      'event_name',
      'source_ip',
      'user_agent',
      'mfa_authenticated',
      'access',
      'error_code',
      'event_id',
      'access_key_id',
      'root_session',
    ];
    const row = [
      '2026-11-23T10:03:00Z',
      '111111111111',
      'us-east-1',
      'iam.amazonaws.com',
      'CreateUser',
      '203.0.113.7',
      'aws-cli/2',
      'true',
      'api',
      null,
      null,
      'AKIA1',
      'root_user',
    ];
    const read = (rows: (string | null)[][]) => rootEventsFrom({ columns, rows });
    const variants = [0, 1, 2, 3, 4, 5, 6, 9, 11].map((i) => row.map((value, j) => (j === i ? `${value ?? ''}x` : value)));
    // Act
    const [first] = read([row]);
    const [second] = read([row]);
    const others = read(variants);
    const twice = read([row, [...row]]);
    // Assess
    expect(first?.key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(second?.key).toBe(first?.key);
    expect(new Set([first?.key, ...others.map((e) => e.key)]).size).toBe(1 + variants.length);
    expect(twice).toHaveLength(1);
    expect(alertKey({ ...first!, eventId: 'e-1' })).toBe('e-1');
    expect(unalerted(read([row]), markAlerted(undefined, read([row])))).toEqual([]);
  });

  it('batches one alert per account, events in time order', () => {
    const batches = batchesByAccount([
      event('b', '222222222222', '2026-11-23T10:02:00Z'),
      event('a2', '111111111111', '2026-11-23T10:03:00Z'),
      event('a1', '111111111111', '2026-11-23T10:01:00Z'),
    ]);
    expect(batches.map((b) => [b.account, b.events.map((e) => e.eventId)])).toEqual([
      ['111111111111', ['a1', 'a2']],
      ['222222222222', ['b']],
    ]);
    expect(alertSubject('111111111111')).toBe('[trailwarden] ALERT root activity · 111111111111');
  });
});

describe('alert e-mail', () => {
  it('shows every field, labels AssumeRoot sessions, and escapes attacker-controlled text', async () => {
    // Prepare
    const renderer = await AlertRenderer.load();
    const hostile = '<script>alert("root")</script>\u202e';
    const batch = batchesByAccount([
      event('e1', '111111111111', '2026-11-23T10:01:00Z', {
        userAgent: hostile,
        access: 'console',
        mfa: 'false',
        eventSource: 'signin.amazonaws.com',
        eventName: 'ConsoleLogin',
      }),
      event('e2', '111111111111', '2026-11-23T10:02:00Z', {
        session: 'assumed_root',
        eventSource: 's3.amazonaws.com',
        eventName: 'DeleteBucketPolicy',
        sourceIp: '198.51.100.9',
      }),
    ])[0]!;
    // Act
    const { html, text } = renderer.render(
      alertView(batch, {
        windowStart: '2026-11-23T09:00:00Z',
        windowEnd: '2026-11-23T10:15:00Z',
        generatedAt: '2026-11-23T10:15:00Z',
        jobName: 'root',
        toolVersion: '0.1.0',
      }),
    );
    // Assess
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;root&quot;)&lt;/script&gt;\ufffd');
    expect(html).toContain('centralized root access (sts:AssumeRoot session)');
    expect(html).toContain('root user credentials');
    for (const value of ['2026-11-23T10:01:00Z', 'us-east-1', 'signin.amazonaws.com ConsoleLogin', '203.0.113.7', '198.51.100.9', 'console', 'API'])
      expect(html).toContain(value);
    expect(text).toContain('user agent: <script>alert("root")</script>\ufffd');
    expect(text).toMatch(/MFA: +no +access: console/);
    expect(text).toContain("1 with the account's own root credentials, 1 in centralized root access sessions");
  });
});
