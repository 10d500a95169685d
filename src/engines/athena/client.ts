/**
 * The polling Athena query client: starts a query (with its idempotency token), polls it with capped
 * backoff, stops it on timeout, pages its results, retries throttling and connection failures with full
 * jitter, waits out the account's concurrent-query quota, runs a query again when Athena says its failure is
 * retryable, and limits how many queries are in flight.
 */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  GetWorkGroupCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type ColumnInfo,
  type QueryExecution,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import type { Logger } from 'pino';
import { EngineError, QueryFailedError, QueryTimeoutError } from '../../core/errors.js';
import type { ParamValue } from '../../core/model.js';
import type { AthenaEngineOptions } from './settings.js';
import { bindParameters, requestToken } from './sql.js';

/** The engine options the client follows. */
export type QueryClientOptions = Pick<
  AthenaEngineOptions,
  | 'database'
  | 'workgroup'
  | 'outputLocation'
  | 'concurrency'
  | 'queryTimeoutMs'
  | 'pollInitialMs'
  | 'pollMaxMs'
  | 'resultReuseMinutes'
  | 'retryAttempts'
  | 'retryBaseMs'
  | 'retryMaxMs'
  | 'pageSize'
  | 'quotaWaitBaseMs'
  | 'quotaWaitMaxMs'
  | 'failedRetries'
  | 'now'
  | 'sleep'
  | 'random'
>;

/** Names one query: its idempotency token comes from all three, its log line from the last two. */
export interface QueryLabel {
  readonly runId: string;
  readonly checkId: string;
  readonly purpose: string;
}

/** A query that SUCCEEDED. */
export interface Execution {
  readonly id: string;
  readonly statementType: string;
  readonly scannedBytes: number;
  /** Athena answered with an earlier execution's result (result reuse): nothing was scanned or billed. */
  readonly reused: boolean;
}

/** What `GetWorkGroup` says about where results and CTAS tables go. */
export interface WorkGroupSettings {
  /** "Override client-side settings": the query's own result location is ignored, and a CTAS must not set external_location. */
  readonly enforced: boolean;
  /** The workgroup's query result location, if it has one. */
  readonly outputLocation?: string;
}

/** A result's column labels and its values as text (SQL NULL as null). */
export interface QueryRows {
  readonly columns: string[];
  readonly rows: (string | null)[][];
}

/** Limits how many queries are in flight at once. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free += 1;
    }
  }
}

/**
 * Request-rate throttling: retried within seconds. `TooManyRequestsException` is not among them: Athena answers it
 * when the account's active-query quota is full, which frees up only as other queries finish (minutes).
 */
const THROTTLED = new Set(['ThrottlingException', 'ThrottledException', 'RequestLimitExceeded', 'SlowDown']);
const QUOTA_FULL = 'TooManyRequestsException';

/**
 * Connection failures: the request may or may not have reached Athena, and the answer never arrived. With the
 * SDK's own retries off they are ours to retry; the idempotency token makes a repeated start safe.
 */
const NETWORK_ERRORS = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name && (THROTTLED.has(e.name) || NETWORK_ERRORS.has(e.name))) return true;
  if (e?.code && NETWORK_CODES.has(e.code)) return true;
  if (e?.name === 'InternalServerException') return true;
  const status = e?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** A result value as text. Athena sends every value as a string; a missing VarCharValue is SQL NULL. */
function textValue(value: string | undefined, column: ColumnInfo): string | null {
  if (value === undefined) return null;
  // Athena spells booleans in lower case already; normalise in case a driver or reuse path does not.
  if (column.Type === 'boolean') return value.toLowerCase();
  return value;
}

/** Runs queries on one SDK client (which its owner destroys). */
export class AthenaQueryClient {
  readonly #athena: AthenaClient;
  readonly #options: QueryClientOptions;
  readonly #log: Logger;
  readonly #slots: Slots;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(athena: AthenaClient, options: QueryClientOptions, log: Logger) {
    this.#athena = athena;
    this.#options = options;
    this.#log = log;
    this.#slots = new Slots(options.concurrency);
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
  }

  /** Runs `work` once one of the `concurrency` slots is free. */
  inSlot<T>(work: () => Promise<T>): Promise<T> {
    return this.#slots.run(work);
  }

  /** One API call, retried with full jitter when Athena throttles, fails on its side or the connection dies; bounded. */
  async #call<T>(what: string, send: () => Promise<T>): Promise<T> {
    const attempts = this.#options.retryAttempts ?? 6;
    const base = this.#options.retryBaseMs ?? 200;
    const cap = this.#options.retryMaxMs ?? 10_000;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        if (!isRetryable(error) || attempt >= attempts) throw error;
        const delay = Math.round(this.#random() * Math.min(cap, base * 2 ** (attempt - 1)));
        this.#log.debug({ call: what, attempt, delayMs: delay, err: (error as Error).name }, 'athena call throttled, retrying');
        await this.#sleep(delay);
      }
    }
  }

  /**
   * Starts one query and waits for it; FAILED/CANCELLED and timeouts throw. `reuse` asks for Athena's result reuse when
   * configured. The query timeout covers everything: waiting for the concurrent-query quota, polling, and runs again
   * after a failure Athena marks retryable (each with a token of its own: the same token would only return the failed
   * execution). `inDatabase: false` leaves the configured database out of the query's context (CREATE DATABASE).
   */
  async execute(sql: string, params: readonly ParamValue[], label: QueryLabel, reuse = false, inDatabase = true): Promise<Execution> {
    const bound = bindParameters(sql, params);
    const started = this.#now();
    const deadline = started + this.#options.queryTimeoutMs;
    const retries = this.#options.failedRetries ?? 3;
    for (let attempt = 1; ; attempt += 1) {
      const input: StartQueryExecutionCommandInput = {
        QueryString: bound.sql,
        ClientRequestToken: requestToken(label.runId, label.checkId, attempt === 1 ? label.purpose : `${label.purpose}#${attempt}`),
        WorkGroup: this.#options.workgroup,
        ...(inDatabase ? { QueryExecutionContext: { Database: this.#options.database } } : {}),
        ...(bound.params.length > 0 ? { ExecutionParameters: bound.params } : {}),
        ...(this.#options.outputLocation ? { ResultConfiguration: { OutputLocation: this.#options.outputLocation } } : {}),
        ...(reuse && this.#options.resultReuseMinutes
          ? { ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: this.#options.resultReuseMinutes } } }
          : {}),
      };
      const id = await this.#start(input, deadline);
      this.#log.debug({ queryExecutionId: id, check: label.checkId, purpose: label.purpose, attempt }, 'query started');
      const execution = await this.#wait(id, started, deadline);
      const state = execution?.Status?.State;
      if (state === 'SUCCEEDED') return executionOf(id, execution);
      const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
      const delay = Math.round(this.#random() * Math.min(this.#options.retryMaxMs ?? 10_000, (this.#options.retryBaseMs ?? 200) * 2 ** attempt));
      if (state === 'FAILED' && execution?.Status?.AthenaError?.Retryable === true && attempt <= retries && this.#now() + delay < deadline) {
        this.#log.warn(
          { queryExecutionId: id, check: label.checkId, attempt, delayMs: delay, reason },
          'query failed with a retryable error, running it again',
        );
        await this.#sleep(delay);
        continue;
      }
      // A cancelled query (by the workgroup's data limit, say) is billed for what it scanned; a failed one is not.
      const scannedBytes = state === 'CANCELLED' ? (execution?.Statistics?.DataScannedInBytes ?? 0) : undefined;
      const retried = attempt > 1 ? ` (after ${attempt} attempts)` : '';
      throw new QueryFailedError(`${state}: ${reason}${retried}`, {
        queryExecutionId: id,
        state: state ?? 'UNKNOWN',
        errorType: execution?.Status?.AthenaError?.ErrorType,
        scannedBytes,
      });
    }
  }

  /**
   * StartQueryExecution. When the account's active-query quota is full (TooManyRequestsException), waits with capped
   * backoff — base `quotaWaitBaseMs`, cap `quotaWaitMaxMs` — until the query's deadline: other queries must finish first.
   */
  async #start(input: StartQueryExecutionCommandInput, deadline: number): Promise<string> {
    const base = this.#options.quotaWaitBaseMs ?? 5_000;
    const cap = this.#options.quotaWaitMaxMs ?? 60_000;
    for (let wait = 1; ; wait += 1) {
      try {
        const { QueryExecutionId: id } = await this.#call('StartQueryExecution', () => this.#athena.send(new StartQueryExecutionCommand(input)));
        if (!id) throw new EngineError('Athena returned no QueryExecutionId');
        return id;
      } catch (error) {
        if ((error as { name?: string }).name !== QUOTA_FULL) throw error;
        const delay = Math.round(Math.min(cap, base * 2 ** (wait - 1)) * (0.5 + this.#random() / 2));
        if (this.#now() + delay >= deadline) {
          throw new EngineError(
            `the account's concurrent-query quota stayed full until engine.query_timeout_seconds ran out (TooManyRequestsException, ${wait} attempt(s)); ` +
              'lower engine.concurrency, or ask for a higher "Active DML queries" quota',
            { cause: error },
          );
        }
        this.#log.warn({ attempt: wait, delayMs: delay }, "Athena's concurrent-query quota is full; waiting for running queries to finish");
        await this.#sleep(delay);
      }
    }
  }

  /** Polls until the query ends; past the deadline stops it and throws, with what it had scanned (Athena bills that). */
  async #wait(id: string, started: number, deadline: number): Promise<QueryExecution | undefined> {
    let delay = this.#options.pollInitialMs;
    for (;;) {
      if (this.#now() >= deadline) {
        await this.#call('StopQueryExecution', () => this.#athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }))).catch((error: unknown) =>
          this.#log.warn({ queryExecutionId: id, err: error }, 'could not stop a timed-out query'),
        );
        const scanned = await this.#call('GetQueryExecution', () => this.#athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })))
          .then((answer) => answer.QueryExecution?.Statistics?.DataScannedInBytes ?? 0)
          .catch(() => 0);
        throw new QueryTimeoutError(
          `query ${id} still running after ${Math.round((this.#now() - started) / 1000)} s (engine.query_timeout_seconds): stopped`,
          id,
          scanned,
        );
      }
      await this.#sleep(Math.min(delay, Math.max(0, deadline - this.#now())));
      delay = Math.min(delay * 2, this.#options.pollMaxMs);
      const { QueryExecution: execution } = await this.#call('GetQueryExecution', () =>
        this.#athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
      );
      const state = execution?.Status?.State;
      if (state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED') return execution;
    }
  }

  /** The workgroup's result location and whether it overrides the client's settings (GetWorkGroup). */
  async workGroup(): Promise<WorkGroupSettings> {
    const { WorkGroup: group } = await this.#call('GetWorkGroup', () => this.#athena.send(new GetWorkGroupCommand({ WorkGroup: this.#options.workgroup })));
    return {
      enforced: group?.Configuration?.EnforceWorkGroupConfiguration === true,
      outputLocation: group?.Configuration?.ResultConfiguration?.OutputLocation,
    };
  }

  /** A table's properties (GetTableMetadata on the AWS Glue catalog): projection settings, location. */
  async tableProperties(table: string): Promise<Record<string, string>> {
    const { TableMetadata: metadata } = await this.#call('GetTableMetadata', () =>
      this.#athena.send(new GetTableMetadataCommand({ CatalogName: 'AwsDataCatalog', DatabaseName: this.#options.database, TableName: table })),
    );
    return metadata?.Parameters ?? {};
  }

  /** Every page of a result, values as text (NULL as null); a SELECT's first row is its header and is skipped. */
  async results(execution: Execution): Promise<QueryRows> {
    let columns: ColumnInfo[] = [];
    const rows: (string | null)[][] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = await this.#call('GetQueryResults', () =>
        this.#athena.send(new GetQueryResultsCommand({ QueryExecutionId: execution.id, NextToken: token, MaxResults: this.#options.pageSize ?? 1000 })),
      );
      if (first) columns = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const pageRows = page.ResultSet?.Rows ?? [];
      pageRows.forEach((row, index) => {
        if (first && index === 0 && execution.statementType === 'DML') return;
        rows.push(columns.map((column, i) => textValue(row.Data?.[i]?.VarCharValue, column)));
      });
      first = false;
      token = page.NextToken;
    } while (token);
    return { columns: columns.map((c) => c.Label ?? c.Name ?? ''), rows };
  }
}

function executionOf(id: string, execution: QueryExecution | undefined): Execution {
  const reused = execution?.Statistics?.ResultReuseInformation?.ReusedPreviousResult === true;
  return { id, statementType: execution?.StatementType ?? 'DML', scannedBytes: reused ? 0 : (execution?.Statistics?.DataScannedInBytes ?? 0), reused };
}
