import { ListObjectsV2Command, type _Object, type S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { AwsClientConfig } from '../config/schema.js';

/**
 * SDK options from a config section's `region` / `endpoint` / `force_path_style`. Credentials are never set
 * here: the SDK's default provider chain finds them (environment, shared files, SSO, container or instance role).
 */
export function s3ClientConfigFrom(settings: AwsClientConfig): S3ClientConfig {
  const config: S3ClientConfig = {};
  if (settings.region) config.region = settings.region;
  if (settings.force_path_style) config.forcePathStyle = true;
  if (settings.endpoint) {
    config.endpoint = settings.endpoint;
    config.forcePathStyle = settings.force_path_style ?? false;
    // S3-compatible stores often lack flexible checksums; with the default mode a streamed body is sent
    // aws-chunked and some of them store the framing inside the object. Explicit checksums are still sent.
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  return config;
}

/**
 * Every page of one ListObjectsV2 listing under `prefix`: the objects and, with a `delimiter`, the names of the
 * sub-folders one level down (`CommonPrefixes` without `prefix` and the trailing delimiter).
 */
export async function listAllPages(client: S3Client, bucket: string, prefix: string, delimiter?: string): Promise<{ objects: _Object[]; folders: string[] }> {
  const objects: _Object[] = [];
  const folders: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) objects.push(object);
    for (const common of page.CommonPrefixes ?? []) if (common.Prefix) folders.push(common.Prefix.slice(prefix.length, -1));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { objects, folders };
}
