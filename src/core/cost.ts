/**
 * Athena's price arithmetic, pure. Athena bills the bytes a query scans, rounded up to the megabyte,
 * with a 10 MB minimum per query, at $5 per TB. AWS bills storage and transfer in binary units, so
 * MB = 2^20 and TB = 2^40 bytes here; the difference to decimal units is under 10% and stated in the report.
 */

export const MB = 2 ** 20;
export const TB = 2 ** 40;
export const USD_PER_TB = 5;
export const MINIMUM_BILLED_BYTES = 10 * MB;

/** The bytes Athena bills for one query that scanned `scannedBytes`: rounded up to the MB, at least 10 MB. */
export function billedBytes(scannedBytes: number): number {
  if (!Number.isFinite(scannedBytes) || scannedBytes < 0) throw new RangeError(`scanned bytes must be a non-negative number, got ${scannedBytes}`);
  return Math.max(MINIMUM_BILLED_BYTES, Math.ceil(scannedBytes / MB) * MB);
}

/** The estimated price in USD of one query that scanned `scannedBytes`. */
export function queryCostUsd(scannedBytes: number): number {
  return (billedBytes(scannedBytes) / TB) * USD_PER_TB;
}

/** One billed query of a run. */
export interface QueryCost {
  /** What the query was for: "load window" or a check id. */
  readonly label: string;
  readonly scannedBytes: number;
  readonly billedBytes: number;
  readonly costUsd: number;
}

/** What a run's queries scanned and are estimated to cost. */
export interface CostSummary {
  readonly queries: readonly QueryCost[];
  readonly scannedBytes: number;
  readonly billedBytes: number;
  readonly costUsd: number;
}

/**
 * Sums the queries of a run; each query is billed on its own (so the 10 MB minimum applies to each). A query with
 * `billed: false` (a reused result, a failed query) costs nothing, not even the minimum.
 */
export function summariseCost(queries: readonly { label: string; scannedBytes: number; billed?: boolean }[]): CostSummary {
  const lines = queries.map((q): QueryCost =>
    q.billed === false
      ? { label: q.label, scannedBytes: q.scannedBytes, billedBytes: 0, costUsd: 0 }
      : { label: q.label, scannedBytes: q.scannedBytes, billedBytes: billedBytes(q.scannedBytes), costUsd: queryCostUsd(q.scannedBytes) },
  );
  return {
    queries: lines,
    scannedBytes: lines.reduce((sum, q) => sum + q.scannedBytes, 0),
    billedBytes: lines.reduce((sum, q) => sum + q.billedBytes, 0),
    costUsd: lines.reduce((sum, q) => sum + q.costUsd, 0),
  };
}

/** Bytes for people: "812 B", "14.3 MB", "2.10 GB" (binary units, like the price). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** Megabytes (MiB) with one decimal, "0.4 MB": columns of sizes that line up (store status, conversion progress). */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

/** Dollars for people: small amounts keep enough digits to be non-zero ("$0.000048"). */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0.00';
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2)}`;
}
