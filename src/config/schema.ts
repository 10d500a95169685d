import { z } from 'zod';
import { CheckOverride } from '../core/catalog.js';
import * as layout from '../core/cloudtrail-layout.js';
import { scheduleProblems } from '../core/cron.js';

const ACCOUNT_ID = z.string().regex(layout.ACCOUNT_ID, 'expected a 12-digit AWS account id');
const REGION = z.string().regex(layout.REGION, 'expected an AWS region such as us-east-1');
const ORGANIZATION_ID = z.string().regex(layout.ORGANIZATION_ID, 'expected an organization id such as o-a1b2c3d4e5');
const MAILBOX = z.string().regex(/^([^<>]*<)?[^\s@<>]+@[^\s@<>]+(>)?$/, 'expected an e-mail address, optionally as "Name <address>"');
/** S3 bucket names: 3–63 characters of lower-case letters, digits, dots and hyphens. */
const BUCKET = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3–63 characters: a-z 0-9 . -)');
/**
 * A key prefix: no leading slash; a trailing slash is added where missing. Quotes and backslashes are
 * refused: the prefix ends up inside Athena DDL string literals (`LOCATION '…'`), where Hive escapes differ.
 */
const KEY_PREFIX = z
  .string()
  .regex(/^(?!\/)[^\\'"`]*$/, 'expected an S3 key prefix without a leading "/", quotes or backslashes')
  .transform((p) => (p === '' || p.endsWith('/') ? p : `${p}/`));
const S3_URL = z
  .string()
  .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'expected an S3 location such as s3://my-bucket/prefix/')
  .transform((u) => (u.endsWith('/') ? u : `${u}/`));
/** An environment variable's name (never its value: secrets stay out of config files). */
const ENV_NAME = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the NAME of an environment variable, e.g. SMTP_PASSWORD');

/**
 * Where an AWS client connects. Credentials are never configured here: they come from the SDK's default
 * provider chain (environment, shared files, SSO, container or instance role).
 */
const AwsClientSettings = {
  /** Default: the region of the environment (AWS_REGION, profile). */
  region: REGION.optional(),
  /** A custom endpoint: VPC endpoints, S3-compatible stores, local test peers. */
  endpoint: z.url().optional(),
};
const S3ClientSettings = {
  ...AwsClientSettings,
  /** Path-style URLs (`endpoint/bucket/key`), for S3-compatible stores and local peers. */
  force_path_style: z.boolean().default(false),
};
export type AwsClientConfig = { region?: string; endpoint?: string; force_path_style?: boolean };

/** A local CloudTrail tree, laid out as in the bucket. */
export const LocalSourceConfig = z
  .object({
    kind: z.literal('local'),
    /** A folder holding `AWSLogs/` (or `AWSLogs` itself); relative to the config file. */
    path: z.string().min(1),
    accounts: z.array(ACCOUNT_ID).min(1).optional(),
    regions: z.array(REGION).min(1).optional(),
  })
  .strict();

/** The CloudTrail bucket itself. DuckDB downloads the window's objects into `cache_path`; Athena reads them in place. */
export const S3SourceConfig = z
  .object({
    kind: z.literal('s3'),
    bucket: BUCKET,
    /** The trail's key prefix, before `AWSLogs/` ('' when the trail has none). */
    prefix: KEY_PREFIX.default(''),
    /** Organization trails: `AWSLogs/<o-id>/<account>/…`. Without it both layouts are discovered. */
    organization_id: ORGANIZATION_ID.optional(),
    accounts: z.array(ACCOUNT_ID).min(1).optional(),
    regions: z.array(REGION).min(1).optional(),
    /** Local download cache for the DuckDB engine (resumable; objects already cached with the same ETag are kept). Relative to the config file. */
    cache_path: z.string().min(1).default('../.cache/cloudtrail'),
    ...S3ClientSettings,
  })
  .strict();

export const SourceConfig = z.discriminatedUnion('kind', [LocalSourceConfig, S3SourceConfig]);
export type SourceConfig = z.infer<typeof SourceConfig>;
export type S3SourceConfig = z.infer<typeof S3SourceConfig>;

export const DuckDbEngineConfig = z
  .object({
    kind: z.literal('duckdb'),
    threads: z.number().int().min(1).max(256).optional(),
    /** DuckDB's memory limit; above it DuckDB spills to `spill_path`. Default with a store: 768MB; without one: 1GB. */
    memory_limit: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as "2GB"')
      .optional(),
    /** Where DuckDB spills above the memory limit. Default: `<store path>/.spill` with a store, else the system's temporary folder. */
    spill_path: z.string().min(1).optional(),
  })
  .strict();

/**
 * The columnar store (DuckDB engine only): the logs converted once into zstd Parquet, per account, region and
 * delivery day, so that runs read only what changed and memory no longer grows with the window.
 */
export const LocalStoreConfig = z
  .object({
    kind: z.literal('local'),
    /** A folder on this machine (or a mounted volume), relative to the config file. */
    path: z.string().min(1),
  })
  .strict();
export const StoreConfig = z.discriminatedUnion('kind', [LocalStoreConfig]);
export type StoreConfig = z.infer<typeof StoreConfig>;

const SQL_NAME = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'expected a lower-case Athena/Glue name: a-z, 0-9 and _');

/** Amazon Athena over the CloudTrail table (see `trailwarden setup athena`). */
export const AthenaEngineConfig = z
  .object({
    kind: z.literal('athena'),
    ...AwsClientSettings,
    /** Glue database and table of the CloudTrail logs. */
    database: SQL_NAME.default('default'),
    table: SQL_NAME.default('cloudtrail_logs'),
    /** How the table is partitioned: `projection` (no partition upkeep) or `partitioned` (trailwarden adds partitions). */
    layout: z.enum(['projection', 'partitioned']).default('projection'),
    /** First day of the projection range, `YYYY/MM/DD` (the DDL's projection.timestamp.range start). */
    projection_start: z
      .string()
      .regex(/^\d{4}\/\d{2}\/\d{2}$/, 'expected a day as YYYY/MM/DD')
      .default('2020/01/01'),
    workgroup: z.string().min(1).default('primary'),
    /** Query results location; optional when the workgroup enforces its own. */
    output_location: S3_URL.optional(),
    /** `ctas`: materialise the window once as Parquet; `direct`: every check scans the source table (no Glue writes). */
    mode: z.enum(['ctas', 'direct']).default('ctas'),
    /** Where run-scoped window tables are written (deleted after each run). Required for mode ctas. */
    ctas_location: S3_URL.optional(),
    /** Queries in flight at once (the account's active-query quota is shared). */
    concurrency: z.number().int().min(1).max(50).default(4),
    /** A query still running after this is stopped (StopQueryExecution) and reported as an error. */
    query_timeout_seconds: z.number().int().min(10).max(86_400).default(1800),
    /** Polling GetQueryExecution: first interval, doubling up to the cap. */
    poll_initial_ms: z.number().int().min(1).max(60_000).default(500),
    poll_max_ms: z.number().int().min(1).max(300_000).default(5000),
    /** Reuse a result of the same query up to this age (Athena result reuse); off by default. */
    result_reuse_minutes: z.number().int().min(1).max(10_080).optional(),
    /** Abort before the checks when the window's log objects alone exceed this many GB (10^9 bytes) to scan. */
    scan_budget_gb: z.number().positive().optional(),
  })
  .strict();
export type AthenaEngineConfig = z.infer<typeof AthenaEngineConfig>;

export const EngineConfig = z.discriminatedUnion('kind', [DuckDbEngineConfig, AthenaEngineConfig]);
export type EngineConfig = z.infer<typeof EngineConfig>;

export const LocalArchiveConfig = z
  .object({
    kind: z.literal('local'),
    /** Evidence root; each run writes `<path>/<yyyy>/<mm>/<dd>/<run-id>/`. Relative to the config file. */
    path: z.string().min(1),
  })
  .strict();

const TAGS = z.record(
  z.string().regex(/^[\p{L}\p{N} _.:/=+\-@]{1,128}$/u, 'expected an S3 tag key (1–128 letters, digits, spaces, _ . : / = + - @)'),
  z.string().regex(/^[\p{L}\p{N} _.:/=+\-@]{0,256}$/u, 'expected an S3 tag value (0–256 letters, digits, spaces, _ . : / = + - @)'),
);

/** Evidence in S3: `<prefix><yyyy>/<mm>/<dd>/<run-id>/`, each object written once with a SHA-256 checksum. */
export const S3ArchiveConfig = z
  .object({
    kind: z.literal('s3'),
    bucket: BUCKET,
    prefix: KEY_PREFIX.default('trailwarden/'),
    /** SSE-KMS key id or ARN; default: the bucket's default encryption. */
    kms_key_id: z.string().min(1).optional(),
    tags: TAGS.default({}),
    /** Expiry of the presigned links to each CSV in the e-mail; at most 7 days (168 hours). */
    link_expiry_hours: z.number().int().min(1).max(168).default(168),
    /**
     * S3 Object Lock retention set on every object written (the bucket must have Object Lock enabled: see README).
     * COMPLIANCE: no one can shorten it; GOVERNANCE: holders of s3:BypassGovernanceRetention can.
     */
    object_lock: z
      .object({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), days: z.number().int().min(1).max(36_500) })
      .strict()
      .optional(),
    ...S3ClientSettings,
  })
  .strict();
export type S3ArchiveConfig = z.infer<typeof S3ArchiveConfig>;

export const ArchiveConfig = z.discriminatedUnion('kind', [LocalArchiveConfig, S3ArchiveConfig]);
export type ArchiveConfig = z.infer<typeof ArchiveConfig>;

const MailAddressing = {
  from: MAILBOX,
  to: z.array(MAILBOX).min(1, 'expected at least one recipient'),
  /** CSV evidence is attached while all CSVs together stay under this size; above it the e-mail links to them. 0: never attach. */
  attach_max_bytes: z.number().int().min(0).max(30_000_000).default(5_000_000),
};

export const OutboxMailConfig = z
  .object({
    kind: z.literal('outbox'),
    /** Folder receiving one RFC 5322 `.eml` file per report. Relative to the config file. */
    path: z.string().min(1),
    ...MailAddressing,
  })
  .strict();

/** Amazon SES v2 (SendEmail with the raw MIME message). */
export const SesMailConfig = z
  .object({
    kind: z.literal('ses'),
    ...AwsClientSettings,
    configuration_set: z.string().min(1).optional(),
    tags: z
      .record(
        z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'expected an SES tag name: letters, digits, _ and -'),
        z.string().regex(/^[A-Za-z0-9_.@-]{1,256}$/, 'expected an SES tag value: letters, digits, _ . @ and -'),
      )
      .default({}),
    ...MailAddressing,
  })
  .strict();

/** SMTP relay via nodemailer. Credentials come only from the environment variables named here. */
export const SmtpMailConfig = z
  .object({
    kind: z.literal('smtp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535).default(587),
    /** `true`: implicit TLS (port 465). `false`: plain connection upgraded with STARTTLS. */
    secure: z.boolean().default(false),
    /** Refuse to send unless the server offers STARTTLS (ignored when `secure`). */
    require_tls: z.boolean().default(true),
    /** Names of the environment variables holding the user name and password (never the values). */
    username_env: ENV_NAME.optional(),
    password_env: ENV_NAME.optional(),
    ...MailAddressing,
  })
  .strict();

export const MailConfig = z.discriminatedUnion('kind', [OutboxMailConfig, SesMailConfig, SmtpMailConfig]);
export type MailConfig = z.infer<typeof MailConfig>;

export const ChecksConfig = z
  .object({
    /** Folder of check folders (`<id>/check.yaml` + `query.sql`). Relative to the config file. */
    path: z.string().min(1).default('checks'),
    /** Per-check overrides: `enabled`, `severity`, `fail_above`, `on_incomplete` (only stricter), `options`. */
    overrides: z.record(z.string(), CheckOverride).default({}),
  })
  .strict();

export const ReportConfig = z
  .object({
    /** Result rows shown per failing check in the e-mail (others show fewer; see core/preview.ts); the CSV evidence always has every row. */
    preview_rows: z.number().int().min(0).max(500).default(10),
    /** Runs in each check's trend (its observed value over the last runs of the job), this one included. */
    trend_runs: z.number().int().min(1).max(52).default(8),
    /** New and gone rows named per check in "changes since the previous run" (the counts are always complete). */
    change_examples: z.number().int().min(0).max(100).default(5),
    /**
     * `framework`: the report groups the check sections under the controls of `framework` they are tagged with
     * (`checks --framework` lists them), checks without one under "Other checks". `none` (the default): no groups.
     */
    group_by: z.enum(['none', 'framework']).default('none'),
    /** The framework `group_by: framework` groups by: one a check is tagged with, or one trailwarden knows. */
    framework: z.string().min(1).default('cis_aws_foundations_v1.4'),
  })
  .strict();

/** A folder of `aws iam get-account-authorization-details --output json` outputs, one file per account. */
export const FileInventoryConfig = z
  .object({
    kind: z.literal('file'),
    /** The folder (every `*.json` in it is read; the account comes from the ARNs inside). Relative to the config file. */
    path: z.string().min(1),
  })
  .strict();

/** The IAM API itself (GetAccountAuthorizationDetails), for the current account or each listed one. */
export const IamInventoryConfig = z
  .object({
    kind: z.literal('iam'),
    ...AwsClientSettings,
    /** STS's endpoint, where it differs from `endpoint` (local peers). */
    sts_endpoint: z.url().optional(),
    /** Read these accounts by assuming `role_name` in each; without it, the account of the current credentials. */
    accounts: z.array(ACCOUNT_ID).min(1).optional(),
    /** The role assumed in each listed account (needs iam:GetAccountAuthorizationDetails). */
    role_name: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'expected an IAM role name (letters, digits and +=,.@_-)')
      .default('TrailwardenInventoryReader'),
    /** The external id the role's trust policy requires, if any. */
    external_id: z.string().min(2).max(1224).optional(),
  })
  .strict();

export const InventoryConfig = z.discriminatedUnion('kind', [FileInventoryConfig, IamInventoryConfig]);
export type InventoryConfig = z.infer<typeof InventoryConfig>;
export type IamInventoryConfig = z.infer<typeof IamInventoryConfig>;

/**
 * CloudTrail log file validation (the `log_integrity_30d` check). Digest signatures are verified with CloudTrail's
 * public keys: from `public_keys_file` (the output of `aws cloudtrail list-public-keys`) when given, otherwise, with
 * the S3 source, from CloudTrail's ListPublicKeys (the client settings below). A local tree keeps no signatures.
 */
export const IntegrityConfig = z
  .object({
    /** `aws cloudtrail list-public-keys --start-time … > keys.json`. Relative to the config file. */
    public_keys_file: z.string().min(1).optional(),
    /**
     * With a store: `changed` (default) hashes only the log files whose size and identity (S3 ETag; a local file's
     * modification and change time and inode) differ from when an earlier run hashed them; `always` hashes every
     * file again (for an auditor who wants every byte read). Without a store every file is always hashed.
     */
    rehash: z.enum(['always', 'changed']).default('changed'),
    /** CloudTrail's region and endpoint for ListPublicKeys (S3 source only); default: the environment's region. */
    ...AwsClientSettings,
  })
  .strict();
export type IntegrityConfig = z.infer<typeof IntegrityConfig>;

/**
 * Signing each run's manifest (the sidecar `manifest.sig.json`): with a KMS asymmetric key (`kms:Sign`,
 * `kms:GetPublicKey`; credentials from the default provider chain), or a local Ed25519 private key file.
 */
export const KmsSigningConfig = z
  .object({
    kind: z.literal('kms'),
    /** Key id, key ARN, alias name (`alias/…`) or alias ARN of a SIGN_VERIFY key (ECC_NIST_P256 or RSA). */
    key_id: z.string().min(1),
    /** Default: ECDSA_SHA_256 or RSASSA_PSS_SHA_256, whichever the key offers (GetPublicKey's SigningAlgorithms). */
    algorithm: z.enum(['ECDSA_SHA_256', 'RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256']).optional(),
    ...AwsClientSettings,
  })
  .strict();
export const Ed25519SigningConfig = z
  .object({
    kind: z.literal('ed25519'),
    /** A PEM PKCS#8 Ed25519 private key (`openssl genpkey -algorithm ed25519 -out key.pem`). Relative to the config file. */
    private_key_file: z.string().min(1),
    /** The name recorded as the signer; default `ed25519:<first 16 hex of the public key's SHA-256>`. */
    key_id: z.string().min(1).optional(),
  })
  .strict();
export const SigningConfig = z.discriminatedUnion('kind', [KmsSigningConfig, Ed25519SigningConfig]);
export type SigningConfig = z.infer<typeof SigningConfig>;

/** Where the daemon keeps each job's last run and the root alert's watermark. */
export const LocalStateConfig = z
  .object({
    kind: z.literal('local'),
    /** A JSON file, written atomically. Relative to the config file. */
    path: z.string().min(1),
  })
  .strict();

export const S3StateConfig = z
  .object({
    kind: z.literal('s3'),
    bucket: BUCKET,
    /** The state object's key: outside the archive's prefix, which is write-once evidence. */
    key: z.string().min(1).default('trailwarden-state/state.json'),
    ...S3ClientSettings,
  })
  .strict();

export const StateConfig = z.discriminatedUnion('kind', [LocalStateConfig, S3StateConfig]);
export type StateConfig = z.infer<typeof StateConfig>;

const Schedule = {
  /** A cron expression (5 fields, or 6 with seconds), checked with node-cron at start. */
  schedule: z.string().min(1),
  /** An IANA time zone, e.g. Europe/Berlin. */
  timezone: z.string().min(1).default('UTC'),
};

export const ReportJobConfig = z
  .object({
    type: z.literal('report'),
    ...Schedule,
  })
  .strict();

export const RootAlertJobConfig = z
  .object({
    type: z.literal('root_alert'),
    ...Schedule,
    /** Re-read this far behind the watermark, to catch events CloudTrail delivers late. */
    overlap_minutes: z.number().int().min(0).max(1440).default(60),
    /** On the very first run (no watermark yet): look back this far. */
    initial_lookback_hours: z
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .default(24),
    /** Recipients of alerts; default: mail.to. */
    to: z.array(MAILBOX).min(1).optional(),
  })
  .strict();

export type ReportJobConfig = z.infer<typeof ReportJobConfig>;
export type RootAlertJobConfig = z.infer<typeof RootAlertJobConfig>;

/**
 * The schema can't judge a cron expression or a time zone: node-cron and the time-zone database do, at load, with
 * the key. Judged even when the job is otherwise invalid (an unknown `type`…): the input is then unparsed, so the
 * fields are read defensively, and the zone's default comes from the schema.
 */
function checkSchedule(job: unknown, ctx: z.RefinementCtx): void {
  const fields = typeof job === 'object' && job !== null ? (job as Record<string, unknown>) : {};
  if (typeof fields.schedule !== 'string') return;
  const timezone = Schedule.timezone.safeParse(fields.timezone);
  if (!timezone.success) return;
  const found = scheduleProblems(fields.schedule, timezone.data);
  if (found.schedule) ctx.addIssue({ code: 'custom', path: ['schedule'], message: found.schedule });
  if (found.timezone) ctx.addIssue({ code: 'custom', path: ['timezone'], message: found.timezone });
}

export const JobConfig = z.discriminatedUnion('type', [ReportJobConfig, RootAlertJobConfig]).superRefine(checkSchedule, { when: () => true });
export type JobConfig = z.infer<typeof JobConfig>;

export const DaemonConfig = z
  .object({
    /** The health endpoint. Loopback by default; port 0 picks a free port. */
    health: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8080),
      })
      .strict()
      .prefault({}),
    /** On SIGTERM/SIGINT, a running job gets this long to finish before the daemon exits. */
    shutdown_grace_seconds: z.number().int().min(0).max(3600).default(120),
  })
  .strict();

export type DaemonConfig = z.infer<typeof DaemonConfig>;

/** The whole configuration file. Secrets never live here: AWS credentials come from the default provider chain. */
export const TrailwardenConfig = z
  .object({
    source: SourceConfig,
    engine: EngineConfig.default({ kind: 'duckdb' }),
    /** Absent: every run reads the window's raw logs (the behaviour before the store). */
    store: StoreConfig.optional(),
    /** The IAM inventory the unused-roles/users and least-privilege checks need; without it they are "not run". */
    inventory: InventoryConfig.optional(),
    /** Log file validation: where digest signatures' public keys come from. */
    integrity: IntegrityConfig.optional(),
    archive: ArchiveConfig,
    /** Absent: manifests are not signed. */
    signing: SigningConfig.optional(),
    mail: MailConfig,
    checks: ChecksConfig.default({ path: 'checks', overrides: {} }),
    // prefault: {} is parsed, so the defaults stay written once, in ReportConfig.
    report: ReportConfig.prefault({}),
    state: StateConfig.default({ kind: 'local', path: '../out/state/state.json' }),
    jobs: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a job name: a-z, 0-9, _ and -'), JobConfig).default({}),
    // prefault: {} is parsed, so the defaults stay written once, in DaemonConfig.
    daemon: DaemonConfig.prefault({}),
  })
  .strict()
  .superRefine(crossKeyRules, { when: () => true });

/**
 * Rules that span keys. They run even when other keys are invalid (`when` above), so that one pass reports
 * everything — a missing `mail` must not hide that Athena needs an S3 source. The input may then be partly
 * unparsed, so each section is read through its own schema (and its defaults), and a rule whose section is
 * itself invalid is left to that section's own problems.
 */
function crossKeyRules(input: unknown, ctx: z.RefinementCtx): void {
  const sections = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const engine = EngineConfig.safeParse(sections.engine);
  const source = SourceConfig.safeParse(sections.source);
  const mail = MailConfig.safeParse(sections.mail);
  if (engine.success && engine.data.kind === 'athena' && sections.store !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['store'], message: 'the store is for engine duckdb; Athena keeps its window in its own table (remove store:)' });
  }
  if (engine.success && engine.data.kind === 'athena') {
    const athena = engine.data;
    if (source.success && source.data.kind !== 's3') {
      ctx.addIssue({ code: 'custom', path: ['source', 'kind'], message: 'expected "s3" with engine athena (Athena reads the CloudTrail bucket itself)' });
    }
    if (athena.mode === 'ctas' && !athena.ctas_location) {
      ctx.addIssue({
        code: 'custom',
        path: ['engine', 'ctas_location'],
        message: 'required with mode ctas: an S3 location for the run-scoped window tables (or set mode: direct)',
      });
    }
    if (athena.poll_initial_ms > athena.poll_max_ms) {
      ctx.addIssue({ code: 'custom', path: ['engine', 'poll_initial_ms'], message: `expected at most poll_max_ms (${athena.poll_max_ms})` });
    }
  }
  if (mail.success && mail.data.kind === 'smtp' && Boolean(mail.data.username_env) !== Boolean(mail.data.password_env)) {
    ctx.addIssue({ code: 'custom', path: ['mail', 'password_env'], message: 'expected username_env and password_env together, or neither' });
  }
}
export type TrailwardenConfig = z.infer<typeof TrailwardenConfig>;
