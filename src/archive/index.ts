import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { ArchiveConfig } from '../config/schema.js';
import { LocalArchive } from './local.js';
import { S3Archive } from './s3.js';
import type { EvidenceArchive } from './types.js';

/** What an archive may get besides its config: a ready S3 client (tests, a shared client) and a logger. */
export interface ArchiveDependencies {
  readonly s3Client?: S3Client;
  readonly log?: Logger;
}

/** Archive id → implementation. */
export function createArchive(config: ArchiveConfig, dependencies: ArchiveDependencies = {}): EvidenceArchive {
  switch (config.kind) {
    case 'local':
      return new LocalArchive({ path: config.path });
    case 's3':
      return new S3Archive({
        bucket: config.bucket,
        prefix: config.prefix,
        kmsKeyId: config.kms_key_id,
        tags: config.tags,
        linkExpiryHours: config.link_expiry_hours,
        clientSettings: config,
        client: dependencies.s3Client,
        log: dependencies.log,
      });
  }
}
