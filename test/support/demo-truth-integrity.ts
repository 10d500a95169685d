/**
 * Ground truth of `log_integrity_30d` for the demo: worked out from what the generator did to its tree (the fates it
 * hands to `onDelivery`, the truncated file, the hour it left without a digest), never from reading the digests —
 * the validation under test reads those. Mirrors config/checks/log_integrity_30d/query.sql (its columns and order).
 */
import { INTEGRITY_DETAILS } from '../../src/core/integrity.js';
import type { DemoDelivery, DemoResult } from '../../src/demo/generate.js';
import { DAY_MS, HOUR_MS, ctTime, parseIsoSeconds } from '../../src/demo/time.js';
import type { CheckTruth } from './demo-truth.js';

export const INTEGRITY_CHECK = 'log_integrity_30d';
const LOOKBACK_DAYS = 30;

/** `…_<yyyymmddThhmmZ>_<random>.json[.gz]` → `yyyy-mm-ddThh:mm:00Z`. */
function deliveredAt(key: string): string {
  const m = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[A-Za-z0-9]+\.json(\.gz)?$/.exec(key);
  if (!m) throw new Error(`demo truth: ${key} is not a log file name`);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00Z`;
}

/**
 * The rows the check must return at `asOf`: which files were tampered with, which the gap leaves unverified, in the
 * window's delivery folders (a day before the window to a day after its end) and delivered by an hour after its end.
 */
export function integrityTruth(deliveries: readonly DemoDelivery[], gap: DemoResult['digestGap'], asOf: string): CheckTruth {
  const asOfMs = parseIsoSeconds(asOf);
  const firstDay = ctTime(Math.floor((asOfMs - LOOKBACK_DAYS * DAY_MS) / DAY_MS) * DAY_MS - DAY_MS).slice(0, 10);
  const lastDay = ctTime(Math.floor(asOfMs / DAY_MS) * DAY_MS + DAY_MS).slice(0, 10);
  const latest = ctTime(asOfMs + HOUR_MS);
  const inScope = (key: string) => {
    const day = /\/CloudTrail\/[^/]+\/(\d{4})\/(\d{2})\/(\d{2})\//.exec(key)!.slice(1, 4).join('-');
    return day >= firstDay && day <= lastDay && deliveredAt(key) <= latest;
  };
  const rows: string[][] = [];
  const row = (problem: string, d: DemoDelivery, key: string, detail: string) => rows.push([problem, d.account, d.region, key, deliveredAt(key), detail]);
  for (const d of deliveries) {
    for (const key of [d.key, ...(d.duplicateKey ? [d.duplicateKey] : [])]) {
      if (!inScope(key)) continue;
      if (d.fate === 'modified') row('modified', d, key, INTEGRITY_DETAILS.modified);
      else if (d.corrupt) row('modified', d, key, INTEGRITY_DETAILS.unreadable);
      else if (d.fate === 'deleted') row('missing', d, key, INTEGRITY_DETAILS.missing);
      else if (d.fate === 'injected') row('not_covered', d, key, INTEGRITY_DETAILS.notCovered);
      else if (d.account === gap.account && d.region === gap.region && deliveredAt(key) >= gap.start && deliveredAt(key) < gap.end) {
        row('not_covered', d, key, INTEGRITY_DETAILS.notCovered);
      }
    }
  }
  // The digest after the missing hour starts a new chain: the gap runs from the missing digest's start to its end.
  const nextEnd = ctTime(parseIsoSeconds(gap.end) + HOUR_MS);
  const next = gap.digestKey.replace(
    /\/\d{4}\/\d{2}\/\d{2}\/([^/]+)_\d{8}T\d{6}Z\.json\.gz$/,
    (_, name: string) => `/${nextEnd.slice(0, 10).replaceAll('-', '/')}/${name}_${nextEnd.replace(/[-:]/g, '')}.json.gz`,
  );
  if (gap.start.slice(0, 10) >= firstDay) rows.push(['chain_gap', gap.account, gap.region, next, gap.start, INTEGRITY_DETAILS.gap(gap.start, gap.end)]);
  const order = (r: string[]) => [r[4]!, r[3]!, r[0]!];
  rows.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return 0;
  });
  return { columns: ['problem', 'account', 'region', 'object_key', 'observed_at', 'detail'], rows };
}
