/**
 * The `engine` section of the config (kind `athena`) as the engine's options and the SDK clients' settings.
 */
import type { AthenaClient, AthenaClientConfig } from '@aws-sdk/client-athena';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { s3ClientConfigFrom } from '../../aws/s3-client.js';
import type { AthenaEngineConfig, SourceConfig } from '../../config/schema.js';

/** How the engine behaves; `athenaEngineOptions` derives it from the config file. */
export interface AthenaEngineOptions {
  /** Glue database and table of the CloudTrail logs (see `trailwarden setup athena`). */
  readonly database: string;
  readonly table: string;
  /** How the table is partitioned (default projection): with `partitioned`, every run checks the window's day folders have partitions. */
  readonly layout?: 'projection' | 'partitioned';
  readonly workgroup: string;
  /** Query results location; optional when the workgroup enforces one. */
  readonly outputLocation?: string;
  /** `ctas`: read the raw logs once into a run-scoped Parquet table; `direct`: every check reads the logs. */
  readonly mode: 'ctas' | 'direct';
  /** `s3://bucket/prefix/` for the run-scoped tables; required for `ctas`. */
  readonly ctasLocation?: string;
  /** Queries in flight at once. */
  readonly concurrency: number;
  readonly queryTimeoutMs: number;
  readonly pollInitialMs: number;
  readonly pollMaxMs: number;
  /** Athena result reuse for check queries, in minutes. */
  readonly resultReuseMinutes?: number;
  /** Abort before any query when the window's objects exceed this many bytes. */
  readonly scanBudgetBytes?: number;
  /** Partition filters, from the source config. */
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
  /** Throttling retries: attempts in all, and the backoff base and cap (full jitter). */
  readonly retryAttempts?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** TooManyRequestsException (the active-query quota is full): first wait and cap, waited out up to the query timeout. */
  readonly quotaWaitBaseMs?: number;
  readonly quotaWaitMaxMs?: number;
  /** How many times a query that FAILED with `AthenaError.Retryable` runs again (default 3). */
  readonly failedRetries?: number;
  /** GetQueryResults page size (≤ 1000). */
  readonly pageSize?: number;
  /** Window tables older than this are a crashed run's leftovers (default one day). */
  readonly leftoverAgeMs?: number;
  /** Injectable for tests: the clock, the wait between polls, and the jitter source. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** The engine's SDK clients, built and destroyed by the composition root (tests point them at local peers). */
export interface AthenaEngineClients {
  readonly athena: AthenaClient;
  readonly s3: S3Client;
}

const GB = 1e9;

/** Engine options from the validated config; the source gives the account/region partition filters. */
export function athenaEngineOptions(config: AthenaEngineConfig, source?: SourceConfig): AthenaEngineOptions {
  return {
    database: config.database,
    table: config.table,
    layout: config.layout,
    workgroup: config.workgroup,
    outputLocation: config.output_location,
    mode: config.mode,
    ctasLocation: config.ctas_location,
    concurrency: config.concurrency,
    queryTimeoutMs: config.query_timeout_seconds * 1000,
    pollInitialMs: config.poll_initial_ms,
    pollMaxMs: config.poll_max_ms,
    resultReuseMinutes: config.result_reuse_minutes,
    scanBudgetBytes: config.scan_budget_gb === undefined ? undefined : config.scan_budget_gb * GB,
    accounts: source?.accounts,
    regions: source?.regions,
  };
}

/**
 * SDK client settings from the config. Credentials: the default provider chain only. The SDK's own
 * retries are off for Athena because the engine retries throttling itself (bounded, with jitter, and with
 * the idempotency token); S3 follows the source's endpoint and path style. A custom endpoint (an
 * S3-compatible store, a local peer) gets checksums only when required, which such stores need.
 */
export function athenaClientSettings(config: AthenaEngineConfig, source?: SourceConfig): { athena: AthenaClientConfig; s3: S3ClientConfig } {
  const s3Settings = source?.kind === 's3' ? { ...source, region: source.region ?? config.region } : { region: config.region };
  return {
    athena: { region: config.region, endpoint: config.endpoint, maxAttempts: 1 },
    s3: s3ClientConfigFrom(s3Settings),
  };
}
