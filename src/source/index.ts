import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { SourceConfig } from '../config/schema.js';
import { LocalLogSource } from './local.js';
import { S3LogSource } from './s3.js';
import type { LogSource } from './types.js';

/** What a source may get besides its config: a ready S3 client (tests, a shared client) and a logger. */
export interface SourceDependencies {
  readonly s3Client?: S3Client;
  readonly log?: Logger;
}

/** Source id → implementation. */
export function createSource(config: SourceConfig, dependencies: SourceDependencies = {}): LogSource {
  switch (config.kind) {
    case 'local':
      return new LocalLogSource({ path: config.path, accounts: config.accounts, regions: config.regions });
    case 's3':
      return new S3LogSource({
        bucket: config.bucket,
        prefix: config.prefix,
        organizationId: config.organization_id,
        accounts: config.accounts,
        regions: config.regions,
        cachePath: config.cache_path,
        clientSettings: config,
        client: dependencies.s3Client,
        log: dependencies.log,
      });
  }
}
