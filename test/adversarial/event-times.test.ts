/**
 * Event times are times, whatever ISO-8601 form they are written in: the window is taken on the instant, the
 * checks (which compare `eventtime` with bound `YYYY-MM-DDTHH:MM:SSZ` strings) see every event inside it, the
 * original text stays available, and a time that is no time is counted, never silently dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WINDOW, closeEngines, keyOf, loadTree, rootEvent, rootEventIds } from '../support/adversarial.js';
import { tempDir, writeLogFile } from '../support/fixtures.js';

afterEach(closeEngines);

// WINDOW is [2026-11-16T08:00:00Z, 2026-11-23T08:00:00Z).
const INSIDE: readonly (readonly [string, string])[] = [
  ['2026-11-23t07:59:59z', '2026-11-23T07:59:59Z'],
  ['2026-11-23T09:30:00+02:00', '2026-11-23T07:30:00Z'],
  ['2026-11-16T08:00:00.500Z', '2026-11-16T08:00:00Z'],
  ['2026-11-16T03:00:00-05:00', '2026-11-16T08:00:00Z'],
  ['2026-11-20 10:00:00Z', '2026-11-20T10:00:00Z'],
  ['20261120T100001Z', '2026-11-20T10:00:01Z'],
  ['2026-11-20T10:00:02', '2026-11-20T10:00:02Z'],
  ['2026-11-20T10:03Z', '2026-11-20T10:03:00Z'],
  ['2026-11-20T10:00:04+0100', '2026-11-20T09:00:04Z'],
  ['2026-11-22T24:00:00Z', '2026-11-23T00:00:00Z'],
  ['2026-11-20T10:00:05,25Z', '2026-11-20T10:00:05Z'],
];

const OUTSIDE = [
  '2026-11-16T07:59:59.999Z', // just before the start
  '2026-11-23T08:00:00.000Z', // the end itself
  '2026-11-23T03:30:00-05:00', // 08:30Z: after the end, though it reads as earlier
  '2026-11-16T10:00:00+05:00', // 05:00Z: before the start, though it reads as later
];

const NOT_TIMES: readonly unknown[] = [1763632800, { epoch: 1763632800 }, 'yesterday', '2026-11-20', '2026-11-31T10:00:00Z'];

/** Counted per file and kind of value, with the smallest value of the kind as an example. */
const NOT_TIME_REASONS = [
  { reason: 'eventTime is a number, not a date and time (e.g. "1763632800")', count: 1 },
  { reason: 'eventTime is an object, not a date and time (e.g. "{\\"epoch\\":1763632800}")', count: 1 },
  { reason: 'eventTime is not an ISO-8601 date and time (e.g. "2026-11-20")', count: 3 },
];

/**
 * Read straight from the raw files, and through the columnar store: on the run that converts them (straight from
 * JSON to Parquet) and on the next one, which reads only the store. All three must say the same.
 */
const WAYS = [
  { way: 'raw', load: (root: string) => loadTree(root) },
  {
    way: 'store, converting',
    load: async (root: string) => {
      const loaded = await loadTree(root, { storeDir: await tempDir() });
      // Straight from JSON to Parquet: the way every chunk of readable files is converted.
      expect(loaded.log.filter((line) => line.msg === 'store chunk converted').map((line) => line.direct)).toEqual([true]);
      return loaded;
    },
  },
  {
    way: 'store, already converted',
    load: async (root: string) => {
      const storeDir = await tempDir();
      await loadTree(root, { storeDir });
      const again = await loadTree(root, { storeDir });
      expect(again.log.find((line) => line.msg === 'window loaded from the store')).toMatchObject({ converted: 0 });
      return again;
    },
  },
] as const;

describe.each(WAYS)('event times in any ISO-8601 form ($way)', ({ load: loadTree }) => {
  it('places each event by its instant, shows the checks the canonical time and keeps the original text', async () => {
    // Prepare: root events with every form of time, in the folders around the window
    const root = await tempDir();
    const inside = INSIDE.map(([time], i) => rootEvent(`inside-${i}`, time));
    const outside = OUTSIDE.map((time, i) => rootEvent(`outside-${i}`, time));
    await writeLogFile(root, { day: '2026/11/20', records: [...inside, ...outside] });

    // Act
    const { engine, stats } = await loadTree(root);

    // Assess: the check finds exactly the events inside, with their canonical time; the original text is kept
    expect(await rootEventIds(engine)).toEqual(INSIDE.map((_, i) => `inside-${i}`).sort());
    const rows = await engine.query('SELECT eventid, eventtime, eventtime_original FROM cloudtrail_window ORDER BY eventid', []);
    expect(rows.rows).toEqual(INSIDE.map(([original, canonical], i) => [`inside-${i}`, canonical, original]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
    expect(stats).toMatchObject({ events: INSIDE.length, recordsDropped: [], recordsWithoutTime: 0 });
  });

  it('keeps the canonical form as it is: eventtime_original equals eventtime', async () => {
    const root = await tempDir();
    await writeLogFile(root, { day: '2026/11/20', records: [rootEvent('plain', '2026-11-20T10:00:00Z')] });
    const { engine } = await loadTree(root);
    expect((await engine.query('SELECT eventtime, eventtime_original FROM cloudtrail_window', [])).rows).toEqual([
      ['2026-11-20T10:00:00Z', '2026-11-20T10:00:00Z'],
    ]);
  });

  it('counts a record whose eventTime is not a time, per file and reason, apart from one without eventTime', async () => {
    // Prepare
    const root = await tempDir();
    const file = await writeLogFile(root, {
      day: '2026/11/20',
      records: [
        rootEvent('fine', '2026-11-20T10:00:00Z'),
        ...NOT_TIMES.map((time, i) => rootEvent(`not-a-time-${i}`, '', { eventTime: time })),
        rootEvent('no-time', '', { eventTime: undefined }),
      ],
    });

    // Act
    const { engine, stats } = await loadTree(root);

    // Assess
    expect(await rootEventIds(engine)).toEqual(['fine']);
    expect(stats.recordsWithoutTime).toBe(1);
    expect([...stats.recordsDropped].sort((a, b) => (a.reason < b.reason ? -1 : 1))).toEqual(NOT_TIME_REASONS.map((r) => ({ path: keyOf(root, file), ...r })));
  });

  it('takes the window on the instant even where the check window is narrower than the load window', async () => {
    // Prepare: an event at 07:30Z written with a +02:00 offset, near the end of a one-day check window
    const root = await tempDir();
    await writeLogFile(root, { day: '2026/11/23', records: [rootEvent('offset', '2026-11-23T09:30:00+02:00')] });
    const { engine } = await loadTree(root);

    // Act: the check over [22nd 08:00, 23rd 08:00) and over [23rd 07:31, 23rd 08:00)
    const dayBefore = await rootEventIds(engine, { start: new Date('2026-11-22T08:00:00Z'), end: WINDOW.end });
    const afterIt = await rootEventIds(engine, { start: new Date('2026-11-23T07:31:00Z'), end: WINDOW.end });

    // Assess
    expect(dayBefore).toEqual(['offset']);
    expect(afterIt).toEqual([]);
  });
});
