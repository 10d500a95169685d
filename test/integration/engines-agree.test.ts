/**
 * The two engines must see the same `cloudtrail_window`. DuckDB reads the logs with our table spec's
 * camelCase keys; the Athena engine here reads them through our Athena-protocol server, which builds its
 * table from the DDL alone, the JsonSerDe way (keys matched case-insensitively). A key the spec spells wrong
 * reads NULL on the DuckDB side only, and this test names it.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUDTRAIL_COLUMNS, CLOUDTRAIL_TABLE, type ColumnType } from '../../src/core/cloudtrail-table.js';
import type { QueryResult } from '../../src/core/model.js';
import { AthenaEngine } from '../../src/engines/athena/engine.js';
import { DuckDbEngine } from '../../src/engines/duckdb.js';
import type { QueryEngine } from '../../src/engines/types.js';
import { LocalLogSource } from '../../src/source/local.js';
import { startAthenaServer, type AthenaServer } from '../support/athena-server.js';
import { fullRecord, record, silentLog, tempDir, writeLogFile } from '../support/fixtures.js';

const BUCKET = 'trail-logs';
const WINDOW = { start: new Date('2026-11-16T00:00:00Z'), end: new Date('2026-11-23T00:00:00Z') };

/** One SQL expression per leaf value of the table, named by its path. Free-form JSON is compared by a scalar it holds. */
function leaves(type: ColumnType, expression: string, sample: unknown): string[] {
  switch (type.kind) {
    case 'string':
      return [expression];
    case 'json':
      return [`json_extract_scalar(${expression}, '$.${Object.entries(sample as object).find(([, v]) => typeof v !== 'object')?.[0]}')`];
    case 'array':
      return leaves(type.of, `${expression}[1]`, (sample as unknown[])[0]);
    case 'map':
      return Object.keys(sample as object).flatMap((key) => leaves(type.of, `${expression}['${key}']`, (sample as Record<string, unknown>)[key]));
    case 'struct':
      return type.fields.flatMap((f) => leaves(f.type, `${expression}.${f.name}`, (sample as Record<string, unknown>)[f.key]));
  }
}

let root: string;
let server: AthenaServer;
const full = fullRecord();

beforeAll(async () => {
  root = await tempDir('trailwarden-engines-agree-');
  await writeLogFile(root, { day: '2026/11/20', records: [full, record({ eventTime: '2026-11-20T11:00:00Z', eventID: 'sparse-1' })] });
  // Like an account's primary workgroup with a result location set: Athena refuses a query that has none.
  server = await startAthenaServer({ logsDir: root, bucket: BUCKET, workgroups: { primary: { outputLocation: 's3://athena-results/' } } });
});

afterAll(async () => server?.stop());

async function windowOf(engine: QueryEngine, sql: string, files: Awaited<ReturnType<LocalLogSource['list']>>['files']): Promise<QueryResult> {
  try {
    await engine.loadWindow({ runId: '20261124T080000Z-agree001', window: WINDOW, files, columns: CLOUDTRAIL_COLUMNS });
    return await engine.query(sql, []);
  } finally {
    await engine.close();
  }
}

describe('the DuckDB and Athena engines', () => {
  it('see the same value in every leaf of every column of the CloudTrail table', async () => {
    // Prepare: one SELECT of every leaf, run on both engines over the same tree
    const expressions = CLOUDTRAIL_TABLE.flatMap((c) => leaves(c.type, c.name, full[c.key]));
    const sql = `SELECT eventid, ${expressions.map((e, i) => `${e} AS v${i}`).join(', ')} FROM cloudtrail_window ORDER BY eventid`;
    const { files } = await new LocalLogSource({ path: root }).list(WINDOW);
    const inBucket = files.map((f) => ({ ...f, path: `s3://${BUCKET}/${f.key}` }));
    // Direct mode writes nothing to S3; the engine still takes a client, as the composition root gives it one.
    const s3Client = new S3Client({ region: 'us-east-1' });
    const athenaClient = new AthenaClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });

    // Act
    const duckdb = await windowOf(await DuckDbEngine.create({ threads: 1 }, silentLog), sql, files);
    const athena = await windowOf(
      await AthenaEngine.create(
        {
          database: 'default',
          table: 'cloudtrail_logs',
          workgroup: 'primary',
          mode: 'direct',
          concurrency: 1,
          queryTimeoutMs: 60_000,
          pollInitialMs: 1,
          pollMaxMs: 4,
        },
        { athena: athenaClient, s3: s3Client },
        silentLog,
      ),
      sql,
      inBucket,
    );
    athenaClient.destroy();
    s3Client.destroy();

    // Assess: the full record has a value in every leaf, and both engines agree leaf by leaf
    const named = (result: QueryResult) => result.rows.map((row) => Object.fromEntries(row.slice(1).map((value, i) => [expressions[i]!, value])));
    expect(duckdb.rows.map((row) => row[0])).toEqual(['evt-1', 'sparse-1']);
    expect(Object.entries(named(duckdb)[0]!).filter(([, value]) => value === null)).toEqual([]);
    expect(named(duckdb)).toEqual(named(athena));
  });
});
