import type { S3Client } from '@aws-sdk/client-s3';
import type { Backends } from '../app.js';
import type { TrailwardenConfig } from '../config/schema.js';
import { ConfigError, EngineError } from '../core/errors.js';
import { AthenaEngine } from '../engines/athena/engine.js';
import { athenaClientSettings } from '../engines/athena/settings.js';
import {
  addPartitionStatements,
  createDatabaseDdl,
  discoverAccountsAndRegions,
  discoverDayPartitions,
  partitionedTableDdl,
  projectionTableDdl,
  projectionUpdateDdl,
  type CloudTrailTableTarget,
} from '../engines/athena/setup.js';

/** What `setup athena` will run, and what it found out on the way. */
export interface AthenaSetupPlan {
  readonly layout: 'projection' | 'partitioned';
  readonly statements: readonly string[];
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  /** Whether accounts/regions came from the bucket rather than the config. */
  readonly discovered: boolean;
  /** Day folders found (partitioned layout). */
  readonly partitions: number;
}

function athenaSections(config: TrailwardenConfig) {
  const problems: string[] = [];
  if (config.engine.kind !== 'athena') problems.push('engine.kind: expected "athena" for setup athena');
  if (config.source.kind !== 's3') problems.push('source.kind: expected "s3" for setup athena (the table reads the CloudTrail bucket)');
  if (config.engine.kind !== 'athena' || config.source.kind !== 's3') throw new ConfigError('setup athena', problems);
  return { engine: config.engine, source: config.source };
}

/**
 * Works out the DDL for the configured layout. Projection needs the accounts and regions for its enums:
 * configured ones are used; when either is missing they are discovered from the bucket's folders.
 * The partitioned layout discovers every existing day folder.
 */
export async function planAthenaSetup(config: TrailwardenConfig, s3: S3Client, options: { since?: string } = {}): Promise<AthenaSetupPlan> {
  const { engine, source } = athenaSections(config);
  const target: CloudTrailTableTarget = {
    database: engine.database,
    table: engine.table,
    bucket: source.bucket,
    prefix: source.prefix,
    organizationId: source.organization_id,
    projectionStart: engine.projection_start,
  };
  const scope = { accounts: source.accounts, regions: source.regions };
  if (engine.layout === 'projection') {
    const discovered = !source.accounts || !source.regions;
    const found = discovered ? await discoverAccountsAndRegions(s3, target, scope) : { accounts: source.accounts!, regions: source.regions! };
    const accounts = source.accounts ?? found.accounts;
    const regions = source.regions ?? found.regions;
    if (accounts.length === 0 || regions.length === 0) {
      throw new ConfigError('setup athena', [
        `source: no CloudTrail folders found under s3://${source.bucket}/${source.prefix}AWSLogs/${source.organization_id ? `${source.organization_id}/` : ''}; set source.accounts and source.regions (or source.organization_id / source.prefix)`,
      ]);
    }
    // The ALTER makes a re-run bring an existing table's enums up to date (CREATE … IF NOT EXISTS leaves it as it was).
    const statements = [createDatabaseDdl(engine.database), projectionTableDdl(target, accounts, regions), projectionUpdateDdl(target, accounts, regions)];
    return { layout: 'projection', statements, accounts, regions, discovered, partitions: 0 };
  }
  const partitions = await discoverDayPartitions(s3, target, { ...scope, since: options.since });
  return {
    layout: 'partitioned',
    statements: [createDatabaseDdl(engine.database), partitionedTableDdl(target), ...addPartitionStatements(target, partitions)],
    accounts: [...new Set(partitions.map((p) => p.account))],
    regions: [...new Set(partitions.map((p) => p.region))].sort(),
    discovered: true,
    partitions: partitions.length,
  };
}

/** Prints the plan's DDL; with `apply`, runs each statement through the engine's Athena client code. */
export async function setupAthena(backends: Backends, options: { apply: boolean; since?: string }, write: (text: string) => void): Promise<AthenaSetupPlan> {
  const { engine, source } = athenaSections(backends.config);
  // The engine's own S3 settings: one client for the discovery here and the engine's window tables.
  const s3 = backends.s3Client(athenaClientSettings(engine, source).s3);
  const plan = await planAthenaSetup(backends.config, s3, { since: options.since });
  const origin = plan.discovered ? 'found in the bucket' : 'from the config';
  write(`-- trailwarden setup athena: ${plan.layout} layout for ${engine.database}.${engine.table}\n`);
  write(`-- accounts (${origin}): ${plan.accounts.join(', ') || 'none'}\n-- regions (${origin}): ${plan.regions.join(', ') || 'none'}\n`);
  if (plan.layout === 'projection')
    write(
      '-- the account and region enums are fixed in the table properties: re-run setup --apply when accounts or regions are added (the ALTER TABLE updates them)\n',
    );
  else
    write(
      `-- ${plan.partitions} day folder(s) found${options.since ? ` on or after ${options.since}` : ''}; re-run setup (or schedule it, with --since yesterday) to add new days\n`,
    );
  write(`\n${plan.statements.join(';\n\n')};\n`);
  if (!options.apply) return plan;

  // Setup must not drop the window tables of runs that are going on right now.
  const runner = await backends.engine({ removeLeftovers: false });
  if (!(runner instanceof AthenaEngine)) throw new EngineError(`setup athena needs engine athena, not ${runner.kind}`);
  for (const [index, statement] of plan.statements.entries()) {
    // The database may not exist yet: CREATE DATABASE runs without it as the query's context.
    const inDatabase = !statement.startsWith('CREATE DATABASE');
    const { queryExecutionId } = await runner.runStatement(statement, `setup-${plan.layout}-${index}`, inDatabase);
    write(`-- applied statement ${index + 1}/${plan.statements.length} (query ${queryExecutionId})\n`);
  }
  return plan;
}
