import { S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfigFrom } from '../aws/s3-client.js';
import { loadSetup } from '../config/load.js';
import { S3RunFiles } from './s3.js';
import { verifyRun, type VerifyResult } from './verify.js';

/**
 * `trailwarden verify s3://bucket/prefix/yyyy/mm/dd/<run-id>/`: reads every object back and compares it with
 * the manifest. The client takes region / endpoint / path style from the config's `archive` section when it is
 * an S3 archive (the usual case: verifying what that archive wrote); credentials from the default chain.
 */
export async function verifyS3Run(location: string, configFile: string): Promise<VerifyResult> {
  const { bucket, runPrefix } = S3RunFiles.parseLocation(location);
  const { config } = (await loadSetup(configFile)).loaded;
  const client = new S3Client(s3ClientConfigFrom(config.archive.kind === 's3' ? config.archive : {}));
  try {
    return await verifyRun(new S3RunFiles(client, bucket, runPrefix));
  } finally {
    client.destroy();
  }
}
