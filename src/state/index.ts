import type { S3Client } from '@aws-sdk/client-s3';
import type { StateConfig } from '../config/schema.js';
import { LocalStateStore } from './local.js';
import { S3StateStore } from './s3.js';
import type { StateStore } from './types.js';

export interface StateDependencies {
  /** A ready S3 client (tests point it at a local peer); default: one built from the config. */
  readonly s3Client?: S3Client;
}

/** State store id → implementation. */
export function createStateStore(config: StateConfig, deps: StateDependencies = {}): StateStore {
  switch (config.kind) {
    case 'local':
      return new LocalStateStore({ path: config.path });
    case 's3':
      return new S3StateStore({ bucket: config.bucket, key: config.key, clientSettings: config, client: deps.s3Client });
  }
}
