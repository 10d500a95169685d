import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { createArchive } from './archive/index.js';
import { loadSetup, type LoadedConfig, type Setup } from './config/load.js';
import type { TrailwardenConfig } from './config/schema.js';
import { ConfigError } from './core/errors.js';
import { compactTime, floorToSecond } from './core/time.js';
import { createEngine } from './engines/index.js';
import type { QueryEngine } from './engines/types.js';
import { createMailTransport } from './mail/index.js';
import type { MailTransport } from './mail/types.js';
import { ReportRenderer } from './render/report.js';
import { runReport, type RunOutcome } from './run-report.js';
import { createSource } from './source/index.js';
import type { LogSource } from './source/types.js';
import { PACKAGE_ROOT, VERSION } from './version.js';

/** The embedded default configuration: DuckDB, a local archive folder and an outbox folder. */
export const DEFAULT_CONFIG_FILE = path.join(PACKAGE_ROOT, 'config', 'trailwarden.yaml');

export interface RunOptions {
  readonly configFile: string;
  /** `--logs`: a local CloudTrail tree, instead of the config's source. */
  readonly logs?: string;
  /** `--out`: receives `archive/` and `outbox/`, instead of the config's archive and mail folders. */
  readonly out?: string;
  /** `--as-of`; defaults to `now`. */
  readonly asOf?: Date;
  readonly now?: Date;
  /** The config and checks, already loaded and validated (the daemon loads them once, at start). */
  readonly setup?: Setup;
  /** The report templates, already compiled (the daemon compiles them once, at start). */
  readonly renderer?: ReportRenderer;
}

/** A run id that sorts by time and never repeats: `20261124T080000Z-1a2b3c4d`. */
export function newRunId(now: Date): string {
  return `${compactTime(now)}-${randomBytes(4).toString('hex')}`;
}

/** Applies the CLI's path flags on top of the validated config (CLI paths are relative to the working directory). */
export function withCliPaths(loaded: LoadedConfig, options: Pick<RunOptions, 'logs' | 'out'>): LoadedConfig {
  let config = loaded.config;
  if (options.logs) {
    // Athena reads the bucket through its table; a local tree is for the embedded engine only.
    if (config.engine.kind !== 'duckdb') {
      throw new ConfigError('--logs', [`a local CloudTrail tree needs engine duckdb; ${loaded.file} uses engine ${config.engine.kind} (drop --logs, or use a config with engine duckdb)`]);
    }
    config = { ...config, source: { kind: 'local', path: path.resolve(options.logs) } };
  }
  if (options.out) {
    const out = path.resolve(options.out);
    config = {
      ...config,
      archive: { kind: 'local', path: path.join(out, 'archive') },
      mail: { kind: 'outbox', path: path.join(out, 'outbox'), from: config.mail.from, to: config.mail.to, attach_max_bytes: config.mail.attach_max_bytes },
    };
  }
  return { ...loaded, config };
}

/** A path as one shell word. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The exact command that re-sends a run's e-mail with the same configuration and `--out`. */
export function resendCommand(runId: string, options: Pick<RunOptions, 'configFile' | 'out'>): string {
  const words = ['trailwarden', 'resend', runId];
  if (path.resolve(options.configFile) !== DEFAULT_CONFIG_FILE) words.push('--config', shellWord(path.resolve(options.configFile)));
  if (options.out) words.push('--out', shellWord(path.resolve(options.out)));
  return words.join(' ');
}

/**
 * Closes backends after a run, whatever happened: a daemon builds them for every run and lives for months,
 * so their SDK clients and connections must not pile up. A failing close is logged, never thrown over the
 * run's own outcome.
 */
export async function closeBackends(log: Logger, ...backends: readonly ({ readonly kind: string; close?(): Promise<void> } | undefined)[]): Promise<void> {
  for (const backend of backends) {
    try {
      await backend?.close?.();
    } catch (error) {
      log.warn({ backend: backend?.kind, err: error }, 'could not close a backend');
    }
  }
}

/** The backends every job's run reads and sends with (a report run adds its archive). */
export interface JobBackends {
  readonly mail: MailTransport;
  readonly engine: QueryEngine;
  readonly source: LogSource;
}

/**
 * Builds a run's mail transport, engine and log source; the caller closes them with `closeBackends`.
 * Mail comes first: a missing SMTP credential variable is a configuration error before the engine starts.
 */
export async function openJobBackends(config: TrailwardenConfig, log: Logger): Promise<JobBackends> {
  const mail = createMailTransport(config.mail);
  const engine = await createEngine(config.engine, log, { source: config.source }).catch(async (error: unknown) => {
    await closeBackends(log, mail);
    throw error;
  });
  return { mail, engine, source: createSource(config.source, { log }) };
}

/** Composition root: config → backends → one report run. Every backend is closed whatever happens. */
export async function runOnce(options: RunOptions, log: Logger): Promise<RunOutcome> {
  const setup = options.setup ?? (await loadSetup(options.configFile));
  const { config, digest } = withCliPaths(setup.loaded, options);
  const now = options.now ?? new Date();
  const asOf = floorToSecond(options.asOf ?? now);
  const renderer = options.renderer ?? (await ReportRenderer.load());
  const runId = newRunId(now);
  const { mail, engine, source } = await openJobBackends(config, log);
  const archive = createArchive(config.archive, { log });
  try {
    return await runReport(
      {
        source,
        engine,
        archive,
        mail,
        renderer,
        log,
      },
      {
        runId,
        asOf,
        now,
        checks: setup.checks,
        configDigest: digest,
        toolVersion: VERSION,
        previewRows: config.report.preview_rows,
        mailFrom: config.mail.from,
        mailTo: config.mail.to,
        attachMaxBytes: config.mail.attach_max_bytes,
        resendCommand: resendCommand(runId, options),
      },
    );
  } finally {
    await closeBackends(log, engine, source, archive, mail);
  }
}
