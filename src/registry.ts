/**
 * Every backend kind trailwarden has, in one place: for each kind of backend (log source, query engine, evidence
 * archive, mail transport, state store, IAM inventory), the map from the config's `kind` to what builds it. Adding a kind means
 * its config schema section, its own file, and one entry here; the maps are typed over the schema's kinds, so a
 * kind the schema accepts but no entry builds does not compile. Only the composition root (app.ts) and tests
 * that build one backend on its own call these.
 */
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { LocalArchive, LocalArchivedRun } from './archive/local.js';
import { S3Archive, S3ArchivedRun } from './archive/s3.js';
import type { ArchivedRun, EvidenceArchive } from './archive/types.js';
import type { AwsClients } from './aws/clients.js';
import { s3ClientConfigFrom } from './aws/s3-client.js';
import type { ArchiveConfig, EngineConfig, InventoryConfig, MailConfig, SigningConfig, SourceConfig, StateConfig, StoreConfig } from './config/schema.js';
import { AthenaEngine } from './engines/athena/engine.js';
import { athenaClientSettings, athenaEngineOptions } from './engines/athena/settings.js';
import { DuckDbEngine } from './engines/duckdb.js';
import type { ConvertProgress, QueryEngine } from './engines/types.js';
import { FileInventorySource } from './inventory/file.js';
import { IamInventorySourceApi } from './inventory/iam.js';
import type { IamInventorySource } from './inventory/types.js';
import { OutboxTransport } from './mail/outbox.js';
import { SesTransport } from './mail/ses.js';
import { SmtpTransport, smtpCredentialsFromEnv } from './mail/smtp.js';
import type { MailTransport } from './mail/types.js';
import { LocalLogSource } from './source/local.js';
import { S3LogSource } from './source/s3.js';
import type { LogSource } from './source/types.js';
import { Ed25519Signer } from './signing/ed25519.js';
import { KmsSigner } from './signing/kms.js';
import type { ManifestSigner } from './signing/types.js';
import { LocalStateStore } from './state/local.js';
import { S3StateStore } from './state/s3.js';
import type { StateStore } from './state/types.js';
import { LocalEventStore } from './store/local.js';
import type { EventStore } from './store/types.js';

/** What a backend gets besides its own config section. */
export interface BackendContext {
  readonly log: Logger;
  /** The root's SDK clients: a backend never builds or destroys one itself. */
  readonly clients: AwsClients;
  /** Where SMTP credential variables are read (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Extra TLS options for SMTP, e.g. a private CA. */
  readonly smtpTls?: ConnectionOptions;
  /** The log source's section: Athena takes its bucket settings and account/region filters from it. */
  readonly source?: SourceConfig;
  /** `setup athena` runs DDL through the engine's client code, without touching other runs' window tables. */
  readonly removeLeftovers?: boolean;
  /** The columnar store, for the DuckDB engine (built from `store:`). */
  readonly store?: EventStore;
  /** Where a conversion into the store reports its progress. */
  readonly progress?: (progress: ConvertProgress) => void;
}

/** DuckDB's memory limit with a store, unless configured: peak memory no longer grows with the window. */
export const STORE_MEMORY_LIMIT = '768MB';

/**
 * DuckDB's memory limit without a store, unless configured: a raw run holds its window in a DuckDB table, which
 * spills to `spill_path` (default: the system's temporary folder, which must then be on disk, not a tmpfs) above it,
 * instead of growing with the window (measured at 1M events, 2.46M in the 90-day window: peak RSS 2,011 MB without a
 * limit, 1,311 MB under 1GB and 1,108 MB under 768MB, all three in ~30 s). Like any limit, it caps DuckDB's threads
 * at what it holds JSON buffers for (`threadsWithin`: three under 1GB).
 */
export const RAW_MEMORY_LIMIT = '1GB';

/**
 * Unless a limit is configured: the stored window and the checks need no JSON reader buffers (which can't spill), so
 * they run under less (measured at 2.46M events in a 90-day window: 817 MB peak RSS at 512MB against 1,066 MB at 768MB,
 * and no slower). A configured limit holds for both.
 */
export const STORE_WINDOW_MEMORY_LIMIT = '512MB';

type Factory<Config, Backend> = (config: Config, context: BackendContext) => Backend;
/** One entry per kind of the config section `Section`. */
export type Registry<Section extends { kind: string }, Backend> = { readonly [Kind in Section['kind']]: Factory<Extract<Section, { kind: Kind }>, Backend> };

/** Builds the backend the section's `kind` names. */
export function build<Section extends { kind: string }, Backend>(registry: Registry<Section, Backend>, config: Section, context: BackendContext): Backend {
  return (registry[config.kind as Section['kind']] as Factory<Section, Backend>)(config, context);
}

export const SOURCES: Registry<SourceConfig, LogSource> = {
  local: (config) => new LocalLogSource({ path: config.path, accounts: config.accounts, regions: config.regions }),
  s3: (config, { clients, log }) =>
    new S3LogSource({
      bucket: config.bucket,
      prefix: config.prefix,
      organizationId: config.organization_id,
      accounts: config.accounts,
      regions: config.regions,
      cachePath: config.cache_path,
      client: clients.s3(s3ClientConfigFrom(config)),
      log,
    }),
};

export const ENGINES: Registry<EngineConfig, Promise<QueryEngine>> = {
  duckdb: (config, { log, store, progress }) =>
    DuckDbEngine.create(
      {
        threads: config.threads,
        memoryLimit: config.memory_limit ?? (store ? STORE_MEMORY_LIMIT : RAW_MEMORY_LIMIT),
        windowMemoryLimit: config.memory_limit === undefined && store ? STORE_WINDOW_MEMORY_LIMIT : undefined,
        spillPath: config.spill_path ?? (store ? path.join(store.root, '.spill') : undefined),
        store,
        progress,
      },
      log,
    ),
  athena: (config, { clients, log, source, removeLeftovers }) => {
    const settings = athenaClientSettings(config, source);
    return AthenaEngine.create(athenaEngineOptions(config, source), { athena: clients.athena(settings.athena), s3: clients.s3(settings.s3) }, log, {
      removeLeftovers,
    });
  },
};

export const ARCHIVES: Registry<ArchiveConfig, EvidenceArchive> = {
  local: (config) => new LocalArchive({ path: config.path }),
  s3: (config, { clients, log }) =>
    new S3Archive({
      bucket: config.bucket,
      prefix: config.prefix,
      kmsKeyId: config.kms_key_id,
      tags: config.tags,
      linkExpiryHours: config.link_expiry_hours,
      ...(config.object_lock ? { objectLock: config.object_lock } : {}),
      client: clients.s3(s3ClientConfigFrom(config)),
      log,
    }),
};

/**
 * Which archive kind reads a run folder given by its location (`trailwarden verify <location>`), whatever the
 * configured archive: each kind recognises its own locations; the configured section lends client settings.
 */
export const ARCHIVE_READERS: {
  readonly [Kind in ArchiveConfig['kind']]: (location: string, configured: ArchiveConfig, context: BackendContext) => ArchivedRun | undefined;
} = {
  s3: (location, configured, { clients }) => {
    const parsed = S3ArchivedRun.parseLocation(location);
    return parsed && new S3ArchivedRun(clients.s3(s3ClientConfigFrom(configured.kind === 's3' ? configured : {})), parsed.bucket, parsed.runPrefix);
  },
  // Anything that is not a URL is a folder on this machine.
  local: (location) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) ? undefined : new LocalArchivedRun(location)),
};

export const MAIL_TRANSPORTS: Registry<MailConfig, MailTransport> = {
  outbox: (config) => new OutboxTransport({ path: config.path }),
  ses: (config, { clients }) =>
    new SesTransport({
      client: clients.ses({ region: config.region, endpoint: config.endpoint }),
      configurationSet: config.configuration_set,
      tags: config.tags,
    }),
  smtp: (config, { env, smtpTls }) =>
    new SmtpTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTls: config.require_tls,
      credentials: smtpCredentialsFromEnv(config, env ?? process.env),
      credentialsFrom: config.username_env && config.password_env ? `$${config.username_env} / $${config.password_env}` : undefined,
      tls: smtpTls,
    }),
};

export const STATE_STORES: Registry<StateConfig, StateStore> = {
  local: (config) => new LocalStateStore({ path: config.path }),
  s3: (config, { clients }) => new S3StateStore({ bucket: config.bucket, key: config.key, client: clients.s3(s3ClientConfigFrom(config)) }),
};

export const STORES: Registry<StoreConfig, EventStore> = {
  local: (config, { log }) => new LocalEventStore({ path: config.path, log }),
};

export const INVENTORIES: Registry<InventoryConfig, IamInventorySource> = {
  file: (config) => new FileInventorySource({ path: config.path }),
  iam: (config, { clients }) =>
    new IamInventorySourceApi({
      iam: (credentials) => clients.iam({ region: config.region ?? 'us-east-1', endpoint: config.endpoint, credentials }),
      sts: clients.sts({ region: config.region, endpoint: config.sts_endpoint ?? config.endpoint }),
      accounts: config.accounts,
      roleName: config.role_name,
      externalId: config.external_id,
    }),
};

export const SIGNERS: Registry<SigningConfig, ManifestSigner> = {
  kms: (config, { clients }) =>
    new KmsSigner({ client: clients.kms({ region: config.region, endpoint: config.endpoint }), keyId: config.key_id, algorithm: config.algorithm }),
  ed25519: (config, { log }) => new Ed25519Signer({ privateKeyFile: config.private_key_file, keyId: config.key_id, log }),
};
