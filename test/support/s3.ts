import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { tempDir } from './fixtures.js';

/**
 * s3rver's built-in key pair. The production code takes credentials only from the SDK's default provider
 * chain, so a CLI run under test gets them through the environment (`awsEnv`).
 */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Environment for a child process (the real CLI) that talks to the local S3: credentials and region, no IMDS. */
export const awsEnv: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};

/**
 * Client settings for a local S3 peer. Checksums `WHEN_REQUIRED`: with the SDK's default mode a streamed body
 * is sent aws-chunked (the `aws-chunked` content encoding with checksum trailers), which s3rver does not decode:
 * it stores the framing inside the object and answers success, so the bytes read back are corrupt.
 */
export function localS3ClientConfig(endpoint: string, overrides: Partial<S3ClientConfig> = {}): S3ClientConfig {
  return {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  };
}

/** A running in-process s3rver on 127.0.0.1 and helpers to prepare and inspect buckets. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** A client for this peer (path style, dummy credentials, checksums when required). */
  readonly client: S3Client;
  /** The `endpoint` / `force_path_style` keys of a trailwarden config section pointing here. */
  readonly configSettings: { readonly endpoint: string; readonly force_path_style: true; readonly region: 'us-east-1' };
  /** A new client for this peer (or for a proxy in front of it), e.g. with other retry settings. */
  newClient(overrides?: Partial<S3ClientConfig>): S3Client;
  /** Creates a bucket (names need ≥ 3 characters); returns its name. */
  createBucket(name: string): Promise<string>;
  /** Puts one object from a string or bytes. */
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  /**
   * Uploads every file under `dir` to `<prefix><relative path>` (forward slashes); returns the keys, sorted.
   * E.g. `uploadTree(bucket, logsDir)` for a tree holding `AWSLogs/…` mirrors it as a CloudTrail bucket.
   */
  uploadTree(bucket: string, dir: string, prefix?: string): Promise<string[]>;
  /** Every key under `prefix` (all pages), sorted. */
  listKeys(bucket: string, prefix?: string): Promise<string[]>;
  /** An object's bytes. */
  get(bucket: string, key: string): Promise<Buffer>;
  /** Stops the server and deletes its storage folder. */
  stop(): Promise<void>;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/**
 * s3rver 3.7's ListObjects with a Delimiter misses every common prefix whose objects lie two or more folders
 * below it (its directory walk prunes them before seeing a key): `Prefix: 'AWSLogs/', Delimiter: '/'` over
 * `AWSLogs/1111/CloudTrail/…` answers nothing, where S3 answers `AWSLogs/1111/`. This replaces the store's
 * listing with a correct fold: every key under the prefix, grouped at the first delimiter, as S3 does.
 */
function fixDelimitedListings(server: S3rver): void {
  const store = server.store;
  const original = store.listObjects.bind(store);
  store.listObjects = async (bucket, options) => {
    const delimiter = options.delimiter ?? '';
    if (!delimiter) return original(bucket, options);
    const prefix = options.prefix ?? '';
    const maxKeys = options.maxKeys ?? Infinity;
    const all = await original(bucket, { ...options, delimiter: '', maxKeys: Infinity });
    const commonPrefixes = new Set<string>();
    const objects: typeof all.objects = [];
    let isTruncated = false;
    for (const object of all.objects) {
      const at = object.key.indexOf(delimiter, prefix.length);
      if (at !== -1) commonPrefixes.add(object.key.slice(0, at + delimiter.length));
      else if (objects.length < maxKeys) objects.push(object);
      else {
        isTruncated = true;
        break;
      }
    }
    return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
  };
}

/** Starts s3rver in-process on 127.0.0.1, on a free port, storing into a fresh temporary folder. */
export async function startS3(): Promise<LocalS3> {
  const directory = await tempDir('trailwarden-s3rver-');
  // vhostBuckets off: every client here uses path-style URLs.
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false });
  fixDelimitedListings(server);
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const newClient = (overrides: Partial<S3ClientConfig> = {}): S3Client => new S3Client(localS3ClientConfig(endpoint, overrides));
  const client = newClient();

  const listKeys = async (bucket: string, prefix = ''): Promise<string[]> => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  };

  return {
    endpoint,
    client,
    configSettings: { endpoint, force_path_style: true, region: 'us-east-1' },
    newClient,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async put(bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body }));
    },
    async uploadTree(bucket, dir, prefix = '') {
      const keys: string[] = [];
      const files = await filesUnder(dir);
      // A few at a time: thousands of sequential PUTs are slow, unbounded ones exhaust sockets.
      for (let i = 0; i < files.length; i += 16) {
        await Promise.all(
          files.slice(i, i + 16).map(async (file) => {
            const key = `${prefix}${path.relative(dir, file).split(path.sep).join('/')}`;
            await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(file) }));
            keys.push(key);
          }),
        );
      }
      return keys.sort();
    },
    listKeys,
    async get(bucket, key) {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await response.Body!.transformToByteArray());
    },
    async stop() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
