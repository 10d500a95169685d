/**
 * The IAM activity of a store-backed run comes from the partitions' rollups (the activity per day, written when the
 * logs are converted) for the days wholly inside one lookback period, and from the records for the days a period's
 * start or the as-of cuts. It must be the very table a raw run computes: with boundaries inside a day and on
 * midnight, late deliveries, second deliveries across partitions (which the rollups counted), and an eventID with
 * two contents (both kept).
 */
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../src/engines/duckdb.js';
import { actionCatalogue } from '../../src/inventory/action-catalogue.js';
import { LocalLogSource } from '../../src/source/local.js';
import { LocalEventStore } from '../../src/store/local.js';
import { record, silentLog, tempDir, writeLogFile } from '../support/fixtures.js';

const ACCOUNT = '111111111111';

function role(name: string): Record<string, unknown> {
  return {
    type: 'AssumedRole',
    principalId: `AROA${name.toUpperCase()}:worker`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/worker-${name.length}`,
    accountId: ACCOUNT,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: `AROA${name.toUpperCase()}`,
        arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
        accountId: ACCOUNT,
        userName: name,
      },
      attributes: { creationDate: '2026-10-01T00:00:00Z', mfaAuthenticated: 'false' },
    },
  };
}

function user(name: string): Record<string, unknown> {
  return { type: 'IAMUser', principalId: `AIDA${name.toUpperCase()}`, arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, accountId: ACCOUNT, userName: name };
}

/** The kinds of record the aggregate tells apart, at `time`. */
function recordsAt(time: string): Record<string, unknown>[] {
  return [
    record({ eventTime: time, userIdentity: role('deploy') }),
    record({ eventTime: time, userIdentity: role('deploy'), eventName: 'TerminateInstances', errorCode: 'Client.UnauthorizedOperation' }),
    record({ eventTime: time, userIdentity: user('alice'), eventSource: 's3.amazonaws.com', eventName: 'ListBuckets' }),
    record({
      eventTime: time,
      userIdentity: user('alice'),
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRole',
      requestParameters: { roleArn: `arn:aws:iam::${ACCOUNT}:role/deploy`, roleSessionName: 'worker' },
    }),
    record({
      eventTime: time,
      userIdentity: user('bob'),
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      responseElements: { ConsoleLogin: 'Failure' },
    }),
    record({ eventTime: time, userIdentity: role('reader'), eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventCategory: 'Data' }),
  ];
}

const DAYS = ['2026-10-23', '2026-10-24', '2026-10-25', '2026-11-01', '2026-11-15', '2026-11-16', '2026-11-17', '2026-11-22', '2026-11-23', '2026-11-24'];

/** Writes the tree; returns every record written, second deliveries included. */
async function writeTree(root: string): Promise<Record<string, unknown>[]> {
  const written: Record<string, unknown>[] = [];
  const deliver = async (folder: string, records: Record<string, unknown>[], region = 'us-east-1') => {
    await writeLogFile(root, { day: folder.replaceAll('-', '/'), region, records });
    written.push(...records);
  };
  for (const day of DAYS) {
    // On both sides of 08:00, where the as-of and the lookback starts of the first set fall.
    await deliver(day, recordsAt(`${day}T03:00:00Z`));
    await deliver(day, recordsAt(`${day}T12:00:00Z`), 'eu-west-1');
  }
  // A late delivery: events of 1 November in the folder of the 2nd.
  const late = recordsAt('2026-11-01T23:50:00Z');
  await deliver('2026-11-02', late);
  // Second deliveries in other partitions: of a whole day (1 November) and of a cut day (16 November).
  await deliver('2026-11-03', late);
  const cut = recordsAt('2026-11-16T09:00:00Z');
  await deliver('2026-11-16', cut);
  await deliver('2026-11-17', cut);
  // An eventID with another content (not a second delivery): both count.
  await deliver('2026-11-05', [{ ...late[0]!, eventName: 'StartInstances' }]);
  return written;
}

/** Calls in `[start, end)`, second deliveries (same eventID and content) once. */
function callsIn(records: readonly Record<string, unknown>[], start: string, end: string): number {
  return new Set(records.filter((r) => (r.eventTime as string) >= start && (r.eventTime as string) < end).map((r) => JSON.stringify(r))).size;
}

let engines: DuckDbEngine[] = [];
afterEach(async () => {
  for (const engine of engines) await engine.close();
  engines = [];
});

/** The engine's `iam_activity`, and how many rollup files it was summed from. */
async function activityOf(root: string, store: boolean, periodStarts: readonly string[], end: string) {
  const lines: { msg?: string; fromRollups?: number }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg?: string; fromRollups?: number }) });
  const window = { start: new Date(periodStarts[0]!), end: new Date(end) };
  const source = new LocalLogSource({ path: root });
  const listing = await source.list(window);
  const engine = await DuckDbEngine.create(
    { threads: 2, ...(store ? { store: new LocalEventStore({ path: path.join(root, '..', `store-${path.basename(root)}`), log: silentLog }) } : {}) },
    log,
  );
  engines.push(engine);
  await engine.loadWindow({ window, files: listing.files, source });
  const inventory = await engine.loadInventory({ tables: [], periodStarts, end, catalogue: actionCatalogue([]) });
  const rows = (await inventory.query('SELECT * FROM iam_activity ORDER BY ALL', [])).rows;
  const fromRollups = lines.find((line) => line.msg === 'IAM activity aggregated')?.fromRollups;
  return { rows, fromRollups };
}

describe('the IAM activity of a store-backed run', () => {
  it.each([
    ['cut inside days', ['2026-10-24T08:00:00Z', '2026-11-16T08:00:00Z'], '2026-11-23T08:00:00Z'],
    ['on midnight', ['2026-10-24T00:00:00Z', '2026-11-16T00:00:00Z'], '2026-11-23T00:00:00Z'],
    ['one period', ['2026-10-24T08:00:00Z'], '2026-11-23T08:00:00Z'],
  ])('is summed from rollups and is the raw run’s table (boundaries %s)', async (_name, periodStarts, end) => {
    // Prepare
    const root = await tempDir('trailwarden-rollups-');
    const written = await writeTree(root);

    // Act: the store-backed engine twice (the first converts), and a raw one
    await activityOf(root, true, periodStarts, end);
    const stored = await activityOf(root, true, periodStarts, end);
    const raw = await activityOf(root, false, periodStarts, end);

    // Assess
    expect(stored.fromRollups).toBeGreaterThan(0);
    expect(raw.fromRollups).toBe(0);
    expect(stored.rows).toEqual(raw.rows);
    // What the logs hold: every record of the window counted once, the second deliveries not again.
    const calls = (rows: readonly (readonly unknown[])[]) => rows.reduce((n, row) => n + Number(row[10]), 0);
    expect(calls(stored.rows)).toBe(callsIn(written, periodStarts[0]!, end));
    for (const [i, start] of periodStarts.entries()) {
      const next = periodStarts[i + 1] ?? end;
      expect(calls(stored.rows.filter((row) => row[0] === start))).toBe(callsIn(written, start, next));
    }
    // First and last seen stay those of the records, second deliveries or not.
    const first = periodStarts[0]!;
    const next = periodStarts[1] ?? end;
    const times = written
      .filter((r) => r.eventName === 'DescribeInstances' && (r.eventTime as string) >= first && (r.eventTime as string) < next)
      .map((r) => r.eventTime as string)
      .sort();
    const deploy = stored.rows.filter((row) => row[0] === first && row[3] === `arn:aws:iam::${ACCOUNT}:role/deploy` && row[6] === 'DescribeInstances');
    expect(deploy.map((row) => [row[11], row[12]])).toEqual([[times[0], times[times.length - 1]]]);
  });
});
