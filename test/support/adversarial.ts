/**
 * Helpers for the adversarial tests (test/adversarial/): a root event to lose, the window they load, the engine
 * with its debug log captured, and the real root-activity check run on what was loaded.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { DuckDbEngine, type DuckDbEngineOptions } from '../../src/engines/duckdb.js';
import type { LogFile } from '../../src/source/types.js';
import { LocalEventStore } from '../../src/store/local.js';
import { LocalLogSource } from '../../src/source/local.js';
import type { TimeWindow } from '../../src/core/time.js';
import { record } from './fixtures.js';

/** Seven days, as root_activity_7d looks back. */
export const WINDOW: TimeWindow = { start: new Date('2026-11-16T08:00:00Z'), end: new Date('2026-11-23T08:00:00Z') };

const ROOT_CHECK_SQL = readFile(path.resolve('config/checks/root_activity_7d/query.sql'), 'utf8');

/** A root user's API call: what CIS 4.3 (root_activity_7d) must report. */
export function rootEvent(eventID: string, eventTime = '2026-11-20T09:00:00Z', fields: Record<string, unknown> = {}): Record<string, unknown> {
  return record({
    eventTime,
    eventID,
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    userIdentity: { type: 'Root', principalId: '111111111111', arn: 'arn:aws:iam::111111111111:root', accountId: '111111111111' },
    readOnly: false,
    ...fields,
  });
}

/** A routine call by a role session. */
export function routine(eventID: string, eventTime = '2026-11-20T10:00:00Z'): Record<string, unknown> {
  return record({ eventTime, eventID });
}

const engines = new Set<DuckDbEngine>();

/** Closes every engine `loadTree` opened (call from afterEach). */
export async function closeEngines(): Promise<void> {
  for (const engine of engines) await engine.close();
  engines.clear();
}

export interface Loaded {
  readonly engine: DuckDbEngine;
  readonly stats: Awaited<ReturnType<DuckDbEngine['loadWindow']>>;
  /** The engine's debug log lines. */
  readonly log: Record<string, unknown>[];
}

/**
 * Loads the window over `root` (or exactly `files`) with a DuckDB engine whose debug log is kept; with `storeDir`,
 * through a columnar store there (converted on the first load, read from Parquet after).
 */
export async function loadTree(
  root: string,
  options: DuckDbEngineOptions & { window?: TimeWindow; extraFiles?: readonly LogFile[]; storeDir?: string } = {},
): Promise<Loaded> {
  const window = options.window ?? WINDOW;
  const source = new LocalLogSource({ path: root });
  const listing = await source.list(window);
  const log: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void log.push(JSON.parse(line) as Record<string, unknown>) });
  const { storeDir, ...engineOptions } = options;
  const store = storeDir === undefined ? undefined : new LocalEventStore({ path: storeDir, log: logger });
  const engine = await DuckDbEngine.create({ threads: 2, ...engineOptions, ...(store ? { store } : {}) }, logger);
  engines.add(engine);
  const stats = await engine.loadWindow({ window, files: [...listing.files, ...(options.extraFiles ?? [])], ...(store ? { source } : {}) });
  return { engine, stats, log };
}

/** The event ids root_activity_7d reports over the loaded window (the check's own SQL, bound as a run binds it). */
export async function rootEventIds(engine: DuckDbEngine, window: TimeWindow = WINDOW): Promise<string[]> {
  const result = await engine.query(await ROOT_CHECK_SQL, [window.start.toISOString().replace('.000Z', 'Z'), window.end.toISOString().replace('.000Z', 'Z')]);
  const id = result.columns.indexOf('event_id');
  return result.rows.map((row) => row[id] ?? '').sort();
}

/** The key a file gets under `AWSLogs/`, for comparing with `path` in the stats. */
export function keyOf(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}
