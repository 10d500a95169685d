import { z } from 'zod';
import { CheckOverride } from '../core/catalog.js';

const ACCOUNT_ID = z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id');
const REGION = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as us-east-1');
const MAILBOX = z
  .string()
  .regex(/^([^<>]*<)?[^\s@<>]+@[^\s@<>]+(>)?$/, 'expected an e-mail address, optionally as "Name <address>"');

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

export const SourceConfig = z.discriminatedUnion('kind', [LocalSourceConfig]);
export type SourceConfig = z.infer<typeof SourceConfig>;

export const DuckDbEngineConfig = z
  .object({
    kind: z.literal('duckdb'),
    threads: z.number().int().min(1).max(256).optional(),
    memory_limit: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as "2GB"')
      .optional(),
  })
  .strict();

export const EngineConfig = z.discriminatedUnion('kind', [DuckDbEngineConfig]);
export type EngineConfig = z.infer<typeof EngineConfig>;

export const LocalArchiveConfig = z
  .object({
    kind: z.literal('local'),
    /** Evidence root; each run writes `<path>/<yyyy>/<mm>/<dd>/<run-id>/`. Relative to the config file. */
    path: z.string().min(1),
  })
  .strict();

export const ArchiveConfig = z.discriminatedUnion('kind', [LocalArchiveConfig]);
export type ArchiveConfig = z.infer<typeof ArchiveConfig>;

const MailAddressing = {
  from: MAILBOX,
  to: z.array(MAILBOX).min(1, 'expected at least one recipient'),
};

export const OutboxMailConfig = z
  .object({
    kind: z.literal('outbox'),
    /** Folder receiving one RFC 5322 `.eml` file per report. Relative to the config file. */
    path: z.string().min(1),
    ...MailAddressing,
  })
  .strict();

export const MailConfig = z.discriminatedUnion('kind', [OutboxMailConfig]);
export type MailConfig = z.infer<typeof MailConfig>;

export const ChecksConfig = z
  .object({
    /** Folder of check folders (`<id>/check.yaml` + `query.sql`). Relative to the config file. */
    path: z.string().min(1).default('checks'),
    /** Per-check overrides: `enabled`, `severity`, `fail_above`, `options`. */
    overrides: z.record(z.string(), CheckOverride).default({}),
  })
  .strict();

export const ReportConfig = z
  .object({
    /** Result rows shown per check in the e-mail; the CSV evidence always has every row. */
    preview_rows: z.number().int().min(0).max(500).default(10),
  })
  .strict();

/** The whole configuration file. Secrets never live here: AWS credentials come from the default provider chain. */
export const TrailwardenConfig = z
  .object({
    source: SourceConfig,
    engine: EngineConfig.default({ kind: 'duckdb' }),
    archive: ArchiveConfig,
    mail: MailConfig,
    checks: ChecksConfig.default({ path: 'checks', overrides: {} }),
    report: ReportConfig.default({ preview_rows: 10 }),
  })
  .strict();
export type TrailwardenConfig = z.infer<typeof TrailwardenConfig>;
