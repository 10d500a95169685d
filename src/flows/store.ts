/**
 * `trailwarden store …`: what the columnar store holds, rebuilding days of it from the raw logs, and removing old
 * days. Runs keep the store up to date by themselves; these are for operators.
 */
import type { Backends } from '../app.js';
import { ConfigError } from '../core/errors.js';
import { formatMegabytes } from '../core/cost.js';
import type { TimeWindow } from '../core/time.js';
import type { PruneResult, StoreStatus, EventStore } from '../store/types.js';

function requireStore(backends: Backends): EventStore {
  const store = backends.store();
  if (!store) throw new ConfigError('store', ['no store is configured: add a store: section (kind: local, path: …) to the config']);
  return store;
}

/** One line per account and region of each source: days stored, events, size on disk, skipped delivery files. */
export function formatStatus(status: StoreStatus): string {
  const lines = [`store ${status.root} (format ${status.format})`];
  if (status.sources.length === 0) lines.push('  empty: the next run converts the logs of its window');
  for (const source of status.sources) {
    lines.push(`  ${source.source}`);
    const groups = new Map<string, (typeof source.partitions)[number][]>();
    for (const partition of source.partitions) {
      const key = `${partition.account} ${partition.region}`;
      groups.set(key, [...(groups.get(key) ?? []), partition]);
    }
    lines.push(
      `    ${'account'.padEnd(12)}  ${'region'.padEnd(15)}  ${'days'.padStart(4)}  ${'first'.padEnd(10)}  ${'last'.padEnd(10)}  ${'events'.padStart(11)}  ${'size'.padStart(10)}  skipped  outdated`,
    );
    for (const [key, partitions] of groups) {
      const [account, region] = key.split(' ');
      const events = partitions.reduce((n, p) => n + p.events, 0);
      const bytes = partitions.reduce((n, p) => n + p.bytes, 0);
      const skipped = partitions.reduce((n, p) => n + p.skipped.length, 0);
      const outdated = partitions.filter((p) => !p.current).length;
      lines.push(
        `    ${account!.padEnd(12)}  ${region!.padEnd(15)}  ${String(partitions.length).padStart(4)}  ${partitions[0]!.day.padEnd(10)}  ${partitions.at(-1)!.day.padEnd(10)}  ${events.toLocaleString('en-US').padStart(11)}  ${formatMegabytes(bytes).padStart(10)}  ${String(skipped).padStart(7)}  ${String(outdated).padStart(8)}`,
      );
    }
    for (const partition of source.partitions) {
      for (const file of partition.skipped) lines.push(`    skipped ${file.path}: ${file.reason}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function storeStatus(backends: Backends): Promise<StoreStatus> {
  return requireStore(backends).status();
}

/** The window of delivery days `from`..`to` (YYYY/MM/DD, inclusive). */
export function daysWindow(from: string, to: string): TimeWindow {
  const start = new Date(`${from.replaceAll('/', '-')}T00:00:00Z`);
  const end = new Date(new Date(`${to.replaceAll('/', '-')}T00:00:00Z`).getTime() + 86_400_000);
  return { start, end };
}

/**
 * Converts again every partition of the delivery days `from`..`to` from the source's raw logs, whatever is stored
 * (after a bug fix, or to take in files that were changed in place with the same size and mtime).
 */
export async function storeRebuild(backends: Backends, range: { from: string; to: string }): Promise<{ partitions: number; files: number }> {
  requireStore(backends);
  const engine = await backends.engine();
  if (!engine.syncStore) throw new ConfigError('engine', [`the store is for engine duckdb; this config uses engine ${engine.kind}`]);
  const source = backends.source();
  const listing = await source.list(daysWindow(range.from, range.to), { fetch: false });
  // The listing starts a day early (late deliveries); only the asked days are rebuilt.
  const files = listing.files.filter((file) => file.day >= range.from && file.day <= range.to);
  return engine.syncStore(files, source, { force: true });
}

export async function storePrune(backends: Backends, keepDays: number, now: Date): Promise<PruneResult> {
  return requireStore(backends).prune(keepDays, now);
}
