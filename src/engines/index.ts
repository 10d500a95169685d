import type { Logger } from 'pino';
import type { EngineConfig } from '../config/schema.js';
import { DuckDbEngine } from './duckdb.js';
import type { QueryEngine } from './types.js';

/** Engine id → implementation. */
export async function createEngine(config: EngineConfig, log: Logger): Promise<QueryEngine> {
  switch (config.kind) {
    case 'duckdb':
      return DuckDbEngine.create({ threads: config.threads, memoryLimit: config.memory_limit }, log);
    case 'athena':
      throw new Error('TODO(in progress): athena backend');
  }
}
