import type { SourceConfig } from '../config/schema.js';
import { LocalLogSource } from './local.js';
import type { LogSource } from './types.js';

/** Source id → implementation. */
export function createSource(config: SourceConfig): LogSource {
  switch (config.kind) {
    case 'local':
      return new LocalLogSource({ path: config.path, accounts: config.accounts, regions: config.regions });
    case 's3':
      throw new Error('TODO(in progress): s3 backend');
  }
}
