import { describe, expect, it } from 'vitest';
import { advanceWatermark, alertSubject, alertWindows, batchesByAccount, markAlerted, unalerted, type RootEvent } from '../../src/alert/model.js';
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
    session: 'root_user',
    ...extra,
  };
}

const settings = { overlap_minutes: 60, initial_lookback_hours: 24 };

describe('root alert windows and progress', () => {
  it('reads from the watermark minus the overlap, or the initial lookback, and loads 15 minutes more for AssumeRoot calls', () => {
    const now = new Date('2026-11-23T10:15:00Z');
    expect(alertWindows(undefined, now, settings).events.start.toISOString()).toBe('2026-11-22T10:15:00.000Z');
    const windows = alertWindows({ watermark: '2026-11-23T10:00:00Z', alerted: {} }, now, settings);
    expect(windows.events).toEqual({ start: new Date('2026-11-23T09:00:00Z'), end: now });
    expect(windows.load.start).toEqual(new Date('2026-11-23T08:45:00Z'));
  });

  it('alerts each event once: ids alerted in the overlap are not alerted again, and are forgotten once out of reach', () => {
    // Prepare: run 1 alerted e1 at 09:50 and moved the watermark to 10:00.
    let progress = advanceWatermark(markAlerted(undefined, [event('e1', '111111111111', '2026-11-23T09:50:00Z')]), new Date('2026-11-23T10:00:00Z'), 60);
    // Act: run 2 re-reads 09:00–10:15 and sees e1 again plus a late-delivered e0 and a new e2.
    const seen = [
      event('e0', '111111111111', '2026-11-23T09:40:00Z'),
      event('e1', '111111111111', '2026-11-23T09:50:00Z'),
      event('e2', '111111111111', '2026-11-23T10:10:00Z'),
    ];
    const fresh = unalerted(seen, progress);
    // Assess
    expect(fresh.map((e) => e.eventId)).toEqual(['e0', 'e2']);
    progress = advanceWatermark(markAlerted(progress, fresh), new Date('2026-11-23T11:00:00Z'), 60);
    // 09:40 and 09:50 are before 11:00 - 60 min: no later window reads them, so they are dropped from the list.
    expect(progress).toEqual({ watermark: '2026-11-23T11:00:00Z', alerted: { e2: '2026-11-23T10:10:00Z' } });
  });

  it('keeps the watermark until the whole run is done, and never moves it back', () => {
    const partial = markAlerted({ watermark: '2026-11-23T10:00:00Z', alerted: {} }, [event('e1', '1', '2026-11-23T10:05:00Z')]);
    expect(partial.watermark).toBe('2026-11-23T10:00:00Z');
    expect(advanceWatermark(partial, new Date('2026-11-23T09:00:00Z'), 60).watermark).toBe('2026-11-23T10:00:00Z');
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
