import type { Logger } from 'pino';
import type { EngineConfig, SourceConfig } from '../config/schema.js';
import { AthenaEngine } from './athena/engine.js';
import { athenaClientSettings, athenaEngineOptions, type AthenaEngineClients } from './athena/settings.js';
import { DuckDbEngine } from './duckdb.js';
import type { QueryEngine } from './types.js';

/** What some engines need besides their own config section. */
export interface EngineContext {
  /** The log source: Athena takes its account/region filters and the S3 endpoint for its window tables. */
  readonly source?: SourceConfig;
  /** Ready SDK clients (tests point them at local peers); default: built from the config. */
  readonly athenaClients?: Partial<AthenaEngineClients>;
}

/** Engine id → implementation. */
export async function createEngine(config: EngineConfig, log: Logger, context: EngineContext = {}): Promise<QueryEngine> {
  switch (config.kind) {
    case 'duckdb':
      return DuckDbEngine.create({ threads: config.threads, memoryLimit: config.memory_limit }, log);
    case 'athena': {
      const settings = athenaClientSettings(config, context.source);
      return AthenaEngine.create(
        athenaEngineOptions(config, context.source),
        { athena: context.athenaClients?.athena ?? settings.athena, s3: context.athenaClients?.s3 ?? settings.s3 },
        log,
      );
    }
  }
}
