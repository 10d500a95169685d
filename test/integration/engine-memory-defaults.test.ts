/**
 * DuckDB's memory limit when the config sets none: 1GB for a raw run (its window, a DuckDB table, spills above it
 * instead of growing with the window), 768MB with the store, and a configured limit always wins.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import type { QueryEngine } from '../../src/engines/types.js';
import { ENGINES, STORES, build } from '../../src/registry.js';
import { silentLog, tempDir } from '../support/fixtures.js';

const opened: QueryEngine[] = [];
afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close();
});

async function memoryLimitOf(engine: { kind: 'duckdb'; memory_limit?: string }, storePath?: string): Promise<string> {
  const context = { log: silentLog, clients: new AwsClients() };
  const store = storePath === undefined ? undefined : build(STORES, { kind: 'local', path: storePath }, context);
  const built = await build(ENGINES, engine, { ...context, store });
  opened.push(built);
  const result = await built.query("SELECT current_setting('memory_limit')", []);
  return String(result.rows[0]![0]);
}

describe("DuckDB's memory limit by default", () => {
  it('is 1GB without a store, 768MB with one, and what the config says when it says one', async () => {
    // Prepare
    const store = path.join(await tempDir('trailwarden-engine-defaults-'), 'store');

    // Act
    const raw = await memoryLimitOf({ kind: 'duckdb' });
    const stored = await memoryLimitOf({ kind: 'duckdb' }, store);
    const configured = await memoryLimitOf({ kind: 'duckdb', memory_limit: '2GB' });

    // Assess: DuckDB gives its limits in MiB
    expect(raw).toBe('953.6 MiB');
    expect(stored).toBe('732.4 MiB');
    expect(configured).toBe('1.8 GiB');
  });
});
