import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSetup } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { CronSchedule, scheduleProblems } from '../../src/core/cron.js';
import { catchUpSlot } from '../../src/daemon/plan.js';
import { tempDir } from '../support/fixtures.js';

const iso = (d: Date | undefined) => d?.toISOString();

describe('CronSchedule: slots of a cron expression in a time zone', () => {
  it('finds the next and previous Monday 08:00 in Berlin, across the switch to summer time', () => {
    // Prepare
    const weekly = new CronSchedule('0 8 * * 1', 'Europe/Berlin');
    // Act / Assess: 08:00 CET is 07:00Z; after 28 March 2027, 08:00 CEST is 06:00Z.
    expect(iso(weekly.next(new Date('2026-11-18T12:00:00Z')))).toBe('2026-11-23T07:00:00.000Z');
    expect(iso(weekly.previous(new Date('2026-11-18T12:00:00Z')))).toBe('2026-11-16T07:00:00.000Z');
    expect(iso(weekly.next(new Date('2027-03-23T00:00:00Z')))).toBe('2027-03-29T06:00:00.000Z');
    expect(iso(weekly.previous(new Date('2027-03-28T23:00:00Z')))).toBe('2027-03-22T07:00:00.000Z');
  });

  it('treats a slot as "previous" at its own instant and "next" only strictly after', () => {
    const weekly = new CronSchedule('0 8 * * 1', 'Europe/Berlin');
    const slot = new Date('2026-11-23T07:00:00Z');
    expect(iso(weekly.previous(slot))).toBe(slot.toISOString());
    expect(iso(weekly.next(slot))).toBe('2026-11-30T07:00:00.000Z');
  });

  it('every 15 minutes, and with seconds', () => {
    const alert = new CronSchedule('*/15 * * * *', 'UTC');
    expect(iso(alert.next(new Date('2026-11-23T10:07:30Z')))).toBe('2026-11-23T10:15:00.000Z');
    expect(iso(alert.previous(new Date('2026-11-23T10:07:30Z')))).toBe('2026-11-23T10:00:00.000Z');
    const seconds = new CronSchedule('*/10 * * * * *', 'UTC');
    expect(iso(seconds.next(new Date('2026-11-23T10:07:31Z')))).toBe('2026-11-23T10:07:40.000Z');
  });

  it('runs a fixed-hour time of the skipped hour shifted by the change, and a repeated hour once', () => {
    const nightly = new CronSchedule('30 2 * * *', 'Europe/Berlin');
    // 28 March 2027: 02:00 CET → 03:00 CEST, no 02:30 that day: it runs at 03:30 CEST (01:30Z), not never.
    expect(iso(nightly.next(new Date('2027-03-27T02:00:00Z')))).toBe('2027-03-28T01:30:00.000Z');
    expect(iso(nightly.next(new Date('2027-03-28T01:30:00Z')))).toBe('2027-03-29T00:30:00.000Z');
    expect(iso(nightly.previous(new Date('2027-03-28T12:00:00Z')))).toBe('2027-03-28T01:30:00.000Z');
    // 31 October 2027: 02:30 happens twice (CEST then CET); the first is the slot, the second is not.
    expect(iso(nightly.next(new Date('2027-10-30T02:00:00Z')))).toBe('2027-10-31T00:30:00.000Z');
    expect(iso(nightly.next(new Date('2027-10-31T00:30:00Z')))).toBe('2027-11-01T01:30:00.000Z');
  });

  it('keeps a job of every hour within its interval through both changes: both passes of a repeated hour, nothing invented', () => {
    // Prepare
    const alert = new CronSchedule('*/15 * * * *', 'Europe/Berlin');
    const slotsBetween = (from: string, to: string) => {
      const slots: string[] = [];
      for (let at = alert.next(new Date(from)); at && at < new Date(to); at = alert.next(at)) slots.push(at.toISOString());
      return slots;
    };

    // Act: the fold (31 Oct 2027, 02:00-02:59 twice) and the gap (28 Mar 2027, 02:00-02:59 never).
    const fold = slotsBetween('2027-10-30T23:59:00Z', '2027-10-31T02:01:00Z');
    const gap = slotsBetween('2027-03-28T00:29:00Z', '2027-03-28T01:31:00Z');

    // Assess: every 15 real minutes, with no hole and no duplicate, through both.
    expect(fold).toEqual(Array.from({ length: 9 }, (_, i) => new Date(Date.parse('2027-10-31T00:00:00Z') + i * 900_000).toISOString()));
    expect(gap).toEqual([
      '2027-03-28T00:30:00.000Z',
      '2027-03-28T00:45:00.000Z',
      '2027-03-28T01:00:00.000Z',
      '2027-03-28T01:15:00.000Z',
      '2027-03-28T01:30:00.000Z',
    ]);
  });

  it('fires at the first occurrence of a fold in zones ahead of UTC+12 too', () => {
    // 4 April 2027, Auckland: 03:00 NZDT (UTC+13) → 02:00 NZST (UTC+12); 02:30 NZDT is 13:30Z, 02:30 NZST 14:30Z.
    const nightly = new CronSchedule('30 2 * * *', 'Pacific/Auckland');
    expect(iso(nightly.next(new Date('2027-04-03T00:00:00Z')))).toBe('2027-04-03T13:30:00.000Z');
    expect(iso(nightly.previous(new Date('2027-04-03T15:00:00Z')))).toBe('2027-04-03T13:30:00.000Z');
  });

  it('agrees with node-cron on every slot it returns (node-cron has the last word)', () => {
    const schedule = new CronSchedule('0 8 1-7 * 1', 'America/New_York');
    let at = new Date('2026-01-01T00:00:00Z');
    for (let i = 0; i < 12; i += 1) {
      at = schedule.next(at)!;
      expect(schedule.matches(at)).toBe(true);
    }
  });
});

describe('catch-up rule', () => {
  const weekly = new CronSchedule('0 8 * * 1', 'Europe/Berlin');

  it('runs once for the latest missed slot, however many were missed', () => {
    expect(iso(catchUpSlot(weekly, new Date('2026-10-26T07:00:00Z'), new Date('2026-11-18T12:00:00Z')))).toBe('2026-11-16T07:00:00.000Z');
  });

  it('does nothing when the last success is the latest slot, or when the job never ran', () => {
    expect(catchUpSlot(weekly, new Date('2026-11-16T07:00:00Z'), new Date('2026-11-18T12:00:00Z'))).toBeUndefined();
    expect(catchUpSlot(weekly, undefined, new Date('2026-11-18T12:00:00Z'))).toBeUndefined();
  });
});

describe('schedule validation at config load', () => {
  it('names each bad expression and unknown zone', () => {
    expect(scheduleProblems('0 8 * * 1', 'Europe/Berlin')).toEqual({});
    expect(scheduleProblems('61 * * * *', 'UTC').schedule).toMatch(/^"61 \* \* \* \*" is not a valid cron expression \(minute: /);
    expect(scheduleProblems('0 8 * * 1', 'Mars/Olympus').timezone).toMatch(/"Mars\/Olympus" is not a known IANA time zone/);
  });

  it('reports every job problem together, with its key, when the config is loaded', async () => {
    // Prepare
    const dir = await tempDir();
    const file = path.join(dir, 'trailwarden.yaml');
    await writeFile(
      file,
      [
        'source: { kind: local, path: logs }',
        'archive: { kind: local, path: out/archive }',
        'mail: { kind: outbox, path: out/outbox, from: "tw <tw@localhost>", to: [sec@example.com] }',
        `checks: { path: ${JSON.stringify(path.resolve('config/checks'))} }`,
        'jobs:',
        '  weekly: { type: report, schedule: "0 8 * * fooday", timezone: Europe/Berlin }',
        '  root: { type: root_alert, schedule: "*/15 * * * *", timezone: Europe/Nowhere }',
        '  fine: { type: report, schedule: "0 6 * * *" }',
      ].join('\n'),
    );
    // Act
    const error = await loadSetup(file).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^jobs\.weekly\.schedule: "0 8 \* \* fooday" is not a valid cron expression/);
    expect(problems[1]).toMatch(/^jobs\.root\.timezone: "Europe\/Nowhere" is not a known IANA time zone/);
  });
});
