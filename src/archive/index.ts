import type { ArchiveConfig } from '../config/schema.js';
import { LocalArchive } from './local.js';
import type { EvidenceArchive } from './types.js';

/** Archive id → implementation. */
export function createArchive(config: ArchiveConfig): EvidenceArchive {
  switch (config.kind) {
    case 'local':
      return new LocalArchive({ path: config.path });
    case 's3':
      throw new Error('TODO(in progress): s3 backend');
  }
}
