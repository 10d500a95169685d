import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { createArchive } from './archive/index.js';
import { loadSetup, type LoadedConfig } from './config/load.js';
import { floorToSecond } from './core/time.js';
import { createEngine } from './engines/index.js';
import { createMailTransport } from './mail/index.js';
import { ReportRenderer } from './render/report.js';
import { runReport, type RunOutcome } from './run-report.js';
import { createSource } from './source/index.js';
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
}

/** A run id that sorts by time and never repeats: `20261124T080000Z-1a2b3c4d`. */
export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll('-', '').replaceAll(':', '');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** Applies the CLI's path flags on top of the validated config (CLI paths are relative to the working directory). */
export function withCliPaths(loaded: LoadedConfig, options: Pick<RunOptions, 'logs' | 'out'>): LoadedConfig {
  let config = loaded.config;
  if (options.logs) config = { ...config, source: { kind: 'local', path: path.resolve(options.logs) } };
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

/** Composition root: config → backends → one report run. The engine is closed whatever happens. */
export async function runOnce(options: RunOptions, log: Logger): Promise<RunOutcome> {
  const setup = await loadSetup(options.configFile);
  const { config, digest } = withCliPaths(setup.loaded, options);
  const now = options.now ?? new Date();
  const asOf = floorToSecond(options.asOf ?? now);
  const renderer = await ReportRenderer.load();
  const engine = await createEngine(config.engine, log);
  try {
    return await runReport(
      {
        source: createSource(config.source),
        engine,
        archive: createArchive(config.archive),
        mail: createMailTransport(config.mail),
        renderer,
        log,
      },
      {
        runId: newRunId(now),
        asOf,
        now,
        checks: setup.checks,
        configDigest: digest,
        toolVersion: VERSION,
        previewRows: config.report.preview_rows,
        mailFrom: config.mail.from,
        mailTo: config.mail.to,
      },
    );
  } finally {
    await engine.close();
  }
}
