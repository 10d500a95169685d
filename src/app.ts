/**
 * The composition root: a validated configuration in, the backends a command needs out, built on first use
 * from the registry (the only place that knows which kinds exist), and closed together — backends first, then
 * the SDK clients they were handed. Commands and daemon jobs open one `Backends` per run: a daemon lives for
 * months, and nothing (DuckDB memory, connections) is kept between its runs.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ArchivedRun, EvidenceArchive } from './archive/types.js';
import { AwsClients, type AwsClientOverrides } from './aws/clients.js';
import type { LoadedConfig } from './config/load.js';
import type { TrailwardenConfig } from './config/schema.js';
import { ArchiveError, ConfigError } from './core/errors.js';
import { compactTime, type TimeWindow } from './core/time.js';
import { listCloudTrailPublicKeys, loadPublicKeysFile, type PublicKeys } from './integrity/public-keys.js';
import type { QueryEngine } from './engines/types.js';
import type { MailTransport } from './mail/types.js';
import type { IamInventorySource } from './inventory/types.js';
import {
  ARCHIVE_READERS,
  ARCHIVES,
  build,
  ENGINES,
  INVENTORIES,
  MAIL_TRANSPORTS,
  SIGNERS,
  SOURCES,
  STATE_STORES,
  STORES,
  type BackendContext,
} from './registry.js';
import type { ManifestSigner } from './signing/types.js';
import { conversionProgress } from './store/progress.js';
import type { EventStore } from './store/types.js';
import type { LogSource } from './source/types.js';
import type { StateStore } from './state/types.js';
import { PACKAGE_ROOT } from './version.js';

/** The embedded default configuration: DuckDB, a local archive folder and an outbox folder. */
export const DEFAULT_CONFIG_FILE = path.join(PACKAGE_ROOT, 'config', 'trailwarden.yaml');

/** A run id that sorts by time and never repeats: `20261124T080000Z-1a2b3c4d`. */
export function newRunId(now: Date): string {
  return `${compactTime(now)}-${randomBytes(4).toString('hex')}`;
}

/** The CLI's path flags: a local CloudTrail tree, and a folder for `archive/` and `outbox/`. */
export interface CliPaths {
  /** `--logs`: a local CloudTrail tree, instead of the config's source. */
  readonly logs?: string;
  /** `--out`: receives `archive/`, `outbox/` and (with a store configured) `store/`, instead of the config's folders. */
  readonly out?: string;
  /** `--no-store`: read the window's raw logs, as without `store:`. */
  readonly noStore?: boolean;
  /** `--inventory`: a folder of `get-account-authorization-details` outputs, instead of the config's inventory. */
  readonly inventory?: string;
  /** `--rehash`: hash every log file for validation again, as with `integrity.rehash: always`. */
  readonly rehash?: boolean;
}

/** Applies the CLI's path flags on top of the validated config (CLI paths are relative to the working directory). */
export function withCliPaths(loaded: LoadedConfig, options: CliPaths): LoadedConfig {
  let config = loaded.config;
  if (options.logs) {
    // Athena reads the bucket through its table; a local tree is for the embedded engine only.
    if (config.engine.kind !== 'duckdb') {
      throw new ConfigError('--logs', [
        `a local CloudTrail tree needs engine duckdb; ${loaded.file} uses engine ${config.engine.kind} (drop --logs, or use a config with engine duckdb)`,
      ]);
    }
    config = { ...config, source: { kind: 'local', path: path.resolve(options.logs) } };
  }
  if (options.inventory) config = { ...config, inventory: { kind: 'file', path: path.resolve(options.inventory) } };
  if (options.out) {
    const out = path.resolve(options.out);
    config = {
      ...config,
      archive: { kind: 'local', path: path.join(out, 'archive') },
      mail: { kind: 'outbox', path: path.join(out, 'outbox'), from: config.mail.from, to: config.mail.to, attach_max_bytes: config.mail.attach_max_bytes },
      ...(config.store === undefined ? {} : { store: { kind: 'local' as const, path: path.join(out, 'store') } }),
    };
  }
  if (options.rehash) config = { ...config, integrity: { ...config.integrity, rehash: 'always' } };
  if (options.noStore) {
    const withoutStore = { ...config };
    delete withoutStore.store;
    config = withoutStore;
  }
  return { ...loaded, config };
}

/** What a root may be given instead of building it: SDK clients, the environment and TLS options (tests). */
export interface BackendOptions {
  readonly clients?: AwsClientOverrides;
  readonly env?: NodeJS.ProcessEnv;
  readonly smtpTls?: BackendContext['smtpTls'];
  /** Where a conversion into the store shows its progress (default: a bar on a terminal, else log lines). */
  readonly progress?: BackendContext['progress'];
}

interface Closable {
  readonly kind: string;
  close?(): Promise<void>;
}

/**
 * Closes backends, whatever happened: a failing close is logged, never thrown over the run's own outcome, and
 * never keeps the others open.
 */
export async function closeBackends(log: Logger, ...backends: readonly (Closable | undefined)[]): Promise<void> {
  for (const backend of backends) {
    try {
      const started = performance.now();
      await backend?.close?.();
      if (backend?.close) log.debug({ backend: backend.kind, ms: Math.round(performance.now() - started) }, 'backend closed');
    } catch (error) {
      log.warn({ backend: backend?.kind, err: error }, 'could not close a backend');
    }
  }
}

/** The backends of one configuration, built on first use and closed together. */
export class Backends {
  readonly config: TrailwardenConfig;
  readonly #context: BackendContext;
  readonly #clients: AwsClients;
  readonly #opened: Closable[] = [];
  #source?: LogSource;
  #engine?: Promise<QueryEngine>;
  #archive?: EvidenceArchive;
  #mail?: MailTransport;
  #state?: StateStore;
  #store?: EventStore;
  #signer?: ManifestSigner;

  constructor(config: TrailwardenConfig, log: Logger, options: BackendOptions = {}) {
    this.config = config;
    this.#clients = new AwsClients(options.clients);
    this.#context = {
      log,
      clients: this.#clients,
      env: options.env,
      smtpTls: options.smtpTls,
      source: config.source,
      progress: options.progress ?? conversionProgress(log),
    };
  }

  /** The columnar store, when one is configured. */
  store(): EventStore | undefined {
    if (this.config.store === undefined) return undefined;
    return (this.#store ??= build(STORES, this.config.store, this.#context));
  }

  #opens<T extends Closable>(backend: T): T {
    this.#opened.push(backend);
    return backend;
  }

  source(): LogSource {
    return (this.#source ??= this.#opens(build(SOURCES, this.config.source, this.#context)));
  }

  /** The query engine; `setup athena` asks for one that leaves other runs' window tables alone. */
  engine(options: { removeLeftovers?: boolean } = {}): Promise<QueryEngine> {
    this.#engine ??= build(ENGINES, this.config.engine, { ...this.#context, store: this.store(), ...options }).then((engine) => this.#opens(engine));
    return this.#engine;
  }

  archive(): EvidenceArchive {
    return (this.#archive ??= this.#opens(build(ARCHIVES, this.config.archive, this.#context)));
  }

  /** The mail transport. Configuration problems (a missing credential variable) surface here: ask for it first. */
  mail(): MailTransport {
    return (this.#mail ??= this.#opens(build(MAIL_TRANSPORTS, this.config.mail, this.#context)));
  }

  /** The IAM inventory, or undefined when none is configured (the checks needing it are then "not run"). */
  inventory(): IamInventorySource | undefined {
    return this.config.inventory && build(INVENTORIES, this.config.inventory, this.#context);
  }

  /**
   * The public keys digest signatures are verified with, for a window: the configured file, else CloudTrail's
   * ListPublicKeys when the logs come from S3 (a local tree keeps no signatures: nothing to verify).
   */
  async publicKeys(window: TimeWindow): Promise<PublicKeys | undefined> {
    const integrity = this.config.integrity;
    if (integrity?.public_keys_file) return loadPublicKeysFile(integrity.public_keys_file);
    if (this.config.source.kind !== 's3') return undefined;
    const client = this.#clients.cloudtrail({ region: integrity?.region ?? this.config.source.region, endpoint: integrity?.endpoint });
    // A digest is signed with the key valid at its end: the window's start to an hour after its end.
    return listCloudTrailPublicKeys(client, window.start, new Date(window.end.getTime() + 3_600_000));
  }

  /** The manifest signer, one per root (a KMS key's public key is fetched once per run); undefined when unsigned. */
  signer(): ManifestSigner | undefined {
    if (this.config.signing === undefined) return undefined;
    return (this.#signer ??= build(SIGNERS, this.config.signing, this.#context));
  }

  state(): StateStore {
    return (this.#state ??= build(STATE_STORES, this.config.state, this.#context));
  }

  /** A run folder by its location (a path, or an s3:// URL), read by whichever archive kind knows such locations. */
  archivedRunAt(location: string): ArchivedRun {
    for (const read of Object.values(ARCHIVE_READERS)) {
      const run = read(location, this.config.archive, this.#context);
      if (run) return run;
    }
    throw new ArchiveError(`${location}: no archive kind reads run folders there (expected a folder, or s3://bucket/prefix/yyyy/mm/dd/<run-id>/)`);
  }

  /** The S3 client for the config section's settings, owned by this root (`setup athena` lists the bucket with it). */
  s3Client(settings: Parameters<AwsClients['s3']>[0]): ReturnType<AwsClients['s3']> {
    return this.#clients.s3(settings);
  }

  /** Closes every backend built (newest first), then the SDK clients. */
  async close(): Promise<void> {
    await this.#engine?.catch(() => undefined);
    await closeBackends(this.#context.log, ...this.#opened.reverse());
    this.#opened.length = 0;
    this.#clients.destroy();
  }
}

/** Opens the backends of `config` for `work`, and closes them whatever happens. */
export async function withBackends<T>(
  config: TrailwardenConfig,
  log: Logger,
  work: (backends: Backends) => Promise<T>,
  options: BackendOptions = {},
): Promise<T> {
  const backends = new Backends(config, log, options);
  try {
    return await work(backends);
  } finally {
    await backends.close();
  }
}
