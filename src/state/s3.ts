import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StateConflictError, StateError } from '../core/errors.js';
import { parseState, serializeState } from './document.js';
import { emptyState, type DaemonState, type StateStore, type VersionedState } from './types.js';

export interface S3StateOptions {
  /** The S3 client, built and destroyed by the composition root (a test hands in one pointed at a local peer). */
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatus(error) === 404;
}

/**
 * The state as one S3 object, written compare-and-swap on its ETag: `IfMatch: <etag read>` to replace it,
 * `IfNoneMatch: '*'` to create it. S3 answers 412 (or 409 for a concurrent conditional write) to the loser.
 *
 * Stores that ignore those headers (s3rver, some S3-compatible stores) get the same check from a HEAD just
 * before the PUT; that narrows the race to the gap between the two requests but cannot close it. Only a store
 * that honours the headers makes the write truly atomic.
 */
export class S3StateStore implements StateStore {
  readonly kind = 's3';
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #key: string;

  constructor(options: S3StateOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#key = options.key;
  }

  describe(): string {
    return `s3://${this.#bucket}/${this.#key}`;
  }

  async read(): Promise<VersionedState> {
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key }));
      const bytes = await response.Body!.transformToByteArray();
      return { state: parseState(bytes, this.describe()), version: response.ETag };
    } catch (error) {
      if (isMissing(error)) return { state: emptyState(), version: undefined };
      if (error instanceof StateError) throw error;
      throw new StateError(`cannot read the state ${this.describe()}: ${(error as Error).message}`, { cause: error });
    }
  }

  async #currentVersion(): Promise<string | undefined> {
    try {
      return (await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key }))).ETag;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw new StateError(`cannot read the state ${this.describe()}: ${(error as Error).message}`, { cause: error });
    }
  }

  async write(state: DaemonState, expectedVersion: string | undefined): Promise<string> {
    const conflict = () =>
      new StateConflictError(
        `${this.describe()} changed since this process read it (another trailwarden process wrote it): not overwriting it. Run only one daemon per state object`,
      );
    // Our own check, for stores that ignore the conditional headers (see the class comment).
    if ((await this.#currentVersion()) !== expectedVersion) throw conflict();
    try {
      const response = await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key,
          Body: serializeState(state),
          ContentType: 'application/json',
          ...(expectedVersion === undefined ? { IfNoneMatch: '*' } : { IfMatch: expectedVersion }),
        }),
      );
      if (!response.ETag) throw new Error('the store returned no ETag');
      return response.ETag;
    } catch (error) {
      const status = httpStatus(error);
      if (status === 412 || status === 409) throw Object.assign(conflict(), { cause: error });
      throw new StateError(`cannot write the state ${this.describe()}: ${(error as Error).message}`, { cause: error });
    }
  }
}
