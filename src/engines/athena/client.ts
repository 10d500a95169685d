/**
 * The polling Athena query client: starts a query (with its idempotency token), polls it with capped
 * backoff, stops it on timeout, pages its results, retries throttling and connection failures with full
 * jitter, and limits how many queries are in flight.
 */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
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
import { requestToken, toAthenaLiteral } from './sql.js';

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

const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'ThrottledException', 'RequestLimitExceeded', 'SlowDown']);

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

  /** Starts one query and waits for it; FAILED/CANCELLED and timeouts throw. `reuse` asks for Athena's result reuse when configured. */
  async execute(sql: string, params: readonly ParamValue[], label: QueryLabel, reuse = false): Promise<Execution> {
    const input: StartQueryExecutionCommandInput = {
      QueryString: sql,
      ClientRequestToken: requestToken(label.runId, label.checkId, label.purpose),
      WorkGroup: this.#options.workgroup,
      QueryExecutionContext: { Database: this.#options.database },
      ...(params.length > 0 ? { ExecutionParameters: params.map(toAthenaLiteral) } : {}),
      ...(this.#options.outputLocation ? { ResultConfiguration: { OutputLocation: this.#options.outputLocation } } : {}),
      ...(reuse && this.#options.resultReuseMinutes
        ? { ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: this.#options.resultReuseMinutes } } }
        : {}),
    };
    const started = this.#now();
    const { QueryExecutionId: id } = await this.#call('StartQueryExecution', () => this.#athena.send(new StartQueryExecutionCommand(input)));
    if (!id) throw new EngineError('Athena returned no QueryExecutionId');
    this.#log.debug({ queryExecutionId: id, check: label.checkId, purpose: label.purpose }, 'query started');

    let delay = this.#options.pollInitialMs;
    for (;;) {
      if (this.#now() - started >= this.#options.queryTimeoutMs) {
        await this.#call('StopQueryExecution', () => this.#athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }))).catch((error: unknown) =>
          this.#log.warn({ queryExecutionId: id, err: error }, 'could not stop a timed-out query'),
        );
        throw new QueryTimeoutError(
          `query ${id} still running after ${Math.round(this.#options.queryTimeoutMs / 1000)} s (engine.query_timeout_seconds): stopped`,
          id,
        );
      }
      await this.#sleep(Math.min(delay, Math.max(0, this.#options.queryTimeoutMs - (this.#now() - started))));
      delay = Math.min(delay * 2, this.#options.pollMaxMs);
      const { QueryExecution: execution } = await this.#call('GetQueryExecution', () =>
        this.#athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
      );
      const state = execution?.Status?.State;
      if (state === 'SUCCEEDED') return executionOf(id, execution);
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
        throw new QueryFailedError(`${state}: ${reason}`, { queryExecutionId: id, state, errorType: execution?.Status?.AthenaError?.ErrorType });
      }
    }
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
  return { id, statementType: execution?.StatementType ?? 'DML', scannedBytes: execution?.Statistics?.DataScannedInBytes ?? 0 };
}
