/**
 * The life cycle of the run-scoped window tables (`ctas` mode): CREATE TABLE AS (Parquet under the CTAS
 * location), DROP with its objects, and the clean-up of the tables and folders crashed runs left behind.
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { listAllPages } from '../../aws/s3-client.js';
import { EngineError } from '../../core/errors.js';
import type { AthenaQueryClient, Execution } from './client.js';
import { isWindowTableName, quoteId, sqlString, WINDOW_TABLE_PREFIX, windowTableTime } from './sql.js';
import type { SqlText } from './window.js';

/** `s3://bucket/prefix/` → its parts. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new EngineError(`not an S3 location: ${url}`);
  const prefix = m[2] ?? '';
  return { bucket: m[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

/** Where the window tables live. */
export interface WindowTableOptions {
  readonly database: string;
  /** `s3://bucket/prefix/`: each table's objects go to `<prefix><table>/`. */
  readonly ctasLocation: string;
  /**
   * Set when the workgroup enforces its configuration, to its result location. Athena then refuses a CTAS that names an
   * `external_location` and writes the table to `<location>tables/<query-id>/` (Athena user guide, "Considerations and
   * limitations for CTAS queries"), so the table is created without one and its objects are deleted from there.
   */
  readonly enforcedOutputLocation?: string;
  /** Tables older than this are a crashed run's leftovers (default one day). */
  readonly leftoverAgeMs?: number;
  readonly now: () => number;
}

/** Creates, drops and cleans up window tables through the query client (DDL) and S3 (their objects). */
export class WindowTables {
  readonly #client: AthenaQueryClient;
  readonly #s3: S3Client;
  readonly #options: WindowTableOptions;
  readonly #log: Logger;
  /** Where this process's tables were written, in an enforced workgroup (known from the CTAS's query id). */
  readonly #locations = new Map<string, string>();

  constructor(client: AthenaQueryClient, s3: S3Client, options: WindowTableOptions, log: Logger) {
    this.#client = client;
    this.#s3 = s3;
    this.#options = options;
    this.#log = log;
  }

  /** `"database"."table"`. */
  ref(table: string): string {
    return `${quoteId(this.#options.database)}.${quoteId(table)}`;
  }

  /** Writes `rows` into a new Parquet table. A retry (`attempt` > 1) first removes what an earlier attempt left. */
  async create(table: string, rows: SqlText, runId: string, attempt: number): Promise<Execution> {
    // A failed attempt can leave the table or part of its files; CTAS needs an empty location.
    if (attempt > 1) await this.drop(table, runId);
    const enforced = this.#options.enforcedOutputLocation;
    const location = enforced ? '' : `, external_location = ${sqlString(this.#ownLocation(table))}`;
    const sql = `CREATE TABLE ${this.ref(table)}
WITH (format = 'PARQUET', write_compression = 'SNAPPY'${location})
AS
${rows.sql}`;
    const label = { runId, checkId: 'load-window', purpose: `ctas-${attempt}` };
    const execution = await this.#client.inSlot(() => this.#client.execute(sql, rows.params, label));
    if (enforced) this.#locations.set(table, `${enforced.endsWith('/') ? enforced : `${enforced}/`}tables/${execution.id}/`);
    return execution;
  }

  /** `s3://bucket/prefix/<table>/` under the CTAS location. */
  #ownLocation(table: string): string {
    const { bucket, prefix } = parseS3Url(this.#options.ctasLocation);
    return `s3://${bucket}/${prefix}${table}/`;
  }

  /**
   * Where a window table's objects are. Outside an enforced workgroup: under the CTAS location. In one: where this
   * process's CTAS wrote it, or the table's own `location` property (GetTableMetadata) — only ever a folder under the
   * workgroup's `tables/`, so a table pointing elsewhere never gets objects deleted.
   */
  async #objectsOf(table: string): Promise<string | undefined> {
    const enforced = this.#options.enforcedOutputLocation;
    if (!enforced) return this.#ownLocation(table);
    const known = this.#locations.get(table);
    if (known) return known;
    const location = (await this.#client.tableProperties(table).catch((): Record<string, string> => ({}))).location;
    const root = `${enforced.endsWith('/') ? enforced : `${enforced}/`}tables/`;
    if (location && location.startsWith(root) && /^[^/]+\/?$/.test(location.slice(root.length))) return location.endsWith('/') ? location : `${location}/`;
    this.#log.warn({ table, location }, "the window table has no location under the workgroup's tables/ folder: its objects are left in place");
    return undefined;
  }

  /** DDL through the same client path (no parameters: DDL takes none; names are ours and checked). */
  async #ddl(sql: string, runId: string, purpose: string): Promise<Execution> {
    return this.#client.execute(sql, [], { runId, checkId: 'maintenance', purpose });
  }

  /** Drops a window table (never any other) and deletes its objects (Athena drops metadata only). */
  async drop(table: string, runId: string): Promise<void> {
    if (!isWindowTableName(table)) throw new EngineError(`refusing to drop ${table}: not a trailwarden window table`);
    // The location first: after the DROP, the table's metadata is gone.
    const objects = await this.#objectsOf(table);
    await this.#ddl(`DROP TABLE IF EXISTS \`${this.#options.database}\`.\`${table}\``, runId, `drop-${table}-${randomBytes(4).toString('hex')}`);
    this.#locations.delete(table);
    if (objects) {
      const { bucket, prefix } = parseS3Url(objects);
      await this.#deletePrefix(bucket, prefix);
    }
  }

  async #deletePrefix(bucket: string, prefix: string): Promise<number> {
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.#s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => Boolean(k));
      if (keys.length > 0) {
        const result = await this.#s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
        if (result.Errors && result.Errors.length > 0)
          throw new EngineError(`could not delete s3://${bucket}/${result.Errors[0]?.Key}: ${result.Errors[0]?.Message}`);
        deleted += keys.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  /**
   * Window tables and their folders left by runs that crashed more than a day ago (younger ones may belong
   * to a run still in progress). Failing to clean is logged, not fatal: the next run tries again.
   */
  async removeLeftovers(runId: string): Promise<void> {
    const maxAge = this.#options.leftoverAgeMs ?? 86_400_000;
    const old = (name: string) => {
      const time = windowTableTime(name);
      return time !== undefined && this.#options.now() - time.getTime() > maxAge;
    };
    try {
      const listing = await this.#ddl(
        `SHOW TABLES IN \`${this.#options.database}\` '${WINDOW_TABLE_PREFIX}*'`,
        runId,
        `show-tables-${randomBytes(4).toString('hex')}`,
      );
      const tables = (await this.#client.results(listing)).rows.map((row) => row[0] ?? '').filter(old);
      for (const table of tables) await this.drop(table, runId);

      // In an enforced workgroup the folders are named by query id, not by table: only tables can be aged there.
      if (this.#options.enforcedOutputLocation) {
        if (tables.length > 0) this.#log.info({ tables }, 'removed window tables of crashed runs');
        return;
      }
      const { bucket, prefix } = parseS3Url(this.#options.ctasLocation);
      const folders = (await listAllPages(this.#s3, bucket, `${prefix}${WINDOW_TABLE_PREFIX}`, '/')).folders.map((name) => `${WINDOW_TABLE_PREFIX}${name}`);
      const orphans = folders.filter(old).filter((name) => !tables.includes(name));
      for (const folder of orphans) await this.#deletePrefix(bucket, `${prefix}${folder}/`);
      if (tables.length + orphans.length > 0) this.#log.info({ tables, orphanFolders: orphans }, 'removed window tables of crashed runs');
    } catch (error) {
      this.#log.warn({ err: error }, 'could not remove the window tables of crashed runs; the next run will try again');
    }
  }
}
