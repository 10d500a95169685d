import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { applyOverrides, parseCheck, zodProblems, type Check } from '../core/catalog.js';
import { CheckDefinitionError, ConfigError } from '../core/errors.js';
import { rootAlertProblems } from '../core/root-alert-contract.js';
import { CheckSqlParser, checkSqlProblems } from './check-sql.js';
import { TrailwardenConfig } from './schema.js';

/** A validated configuration with every path made absolute, and where it came from. */
export interface LoadedConfig {
  readonly file: string;
  readonly config: TrailwardenConfig;
  /** SHA-256 of the config file's bytes, recorded in each run's manifest. */
  readonly digest: string;
}

function resolvePaths(config: TrailwardenConfig, baseDir: string): TrailwardenConfig {
  const abs = (p: string) => path.resolve(baseDir, p);
  const { source, archive, mail, state } = config;
  return {
    ...config,
    source: source.kind === 'local' ? { ...source, path: abs(source.path) } : { ...source, cache_path: abs(source.cache_path) },
    archive: archive.kind === 'local' ? { ...archive, path: abs(archive.path) } : archive,
    mail: mail.kind === 'outbox' ? { ...mail, path: abs(mail.path) } : mail,
    checks: { ...config.checks, path: abs(config.checks.path) },
    state: state.kind === 'local' ? { ...state, path: abs(state.path) } : state,
  };
}

/** Everything a run needs from files: the validated config and the checks it selects. */
export interface Setup {
  readonly loaded: LoadedConfig;
  /** Every check found, before overrides. */
  readonly catalog: Check[];
  /** The checks to run, after the config's overrides. */
  readonly checks: Check[];
}

function rawChecksPath(raw: unknown): string {
  const checks = typeof raw === 'object' && raw !== null ? (raw as { checks?: { path?: unknown } }).checks : undefined;
  return typeof checks?.path === 'string' ? checks.path : 'checks';
}

/**
 * Reads and validates the YAML config and every check file once, at start. All problems — config keys,
 * check files, overrides — are reported together in one ConfigError, each with its key path or file.
 */
export async function loadSetup(file: string): Promise<Setup> {
  const absolute = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(absolute);
  } catch (error) {
    throw new ConfigError(absolute, [`cannot read the file: ${(error as Error).message}`], { cause: error });
  }
  let raw: unknown;
  try {
    raw = parseYaml(bytes.toString('utf8'));
  } catch (error) {
    throw new ConfigError(absolute, [`not valid YAML: ${(error as Error).message.split('\n')[0]}`], { cause: error });
  }
  const problems: string[] = [];
  const parsed = TrailwardenConfig.safeParse(raw ?? {});
  if (!parsed.success) problems.push(...zodProblems('key', parsed.error).map((p) => p.replace(/^key: /, '')));
  const baseDir = path.dirname(absolute);
  const config = parsed.success ? resolvePaths(parsed.data, baseDir) : undefined;

  // The check files are validated even when the config is not, so that one pass shows everything.
  const { checks: catalog, problems: checkProblems, ids } = await readCatalog(config?.checks.path ?? path.resolve(baseDir, rawChecksPath(raw)));
  problems.push(...checkProblems);
  let checks: Check[] = [];
  if (config) {
    // Overrides of a check whose own file is broken are judged once that file is fixed.
    const loadedIds = new Set(catalog.map((check) => check.id));
    const overrides = Object.fromEntries(Object.entries(config.checks.overrides).filter(([id]) => loadedIds.has(id) || !ids.includes(id)));
    const applied = applyOverrides(catalog, overrides, 'checks.overrides');
    problems.push(...applied.problems);
    checks = applied.checks;
    // The alert reads the root check's result by column name: a catalogue that breaks that is a config error.
    for (const [name, job] of Object.entries(config.jobs)) {
      if (job.type === 'root_alert') problems.push(...rootAlertProblems(catalog, `jobs.${name}`));
    }
  }
  if (problems.length > 0 || !config) throw new ConfigError(absolute, problems);
  return {
    loaded: { file: absolute, config, digest: createHash('sha256').update(bytes).digest('hex') },
    catalog,
    checks,
  };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Every check folder under `dir`: the valid checks, every problem, and the folder names (ids) seen. */
export async function readCatalog(dir: string): Promise<{ checks: Check[]; problems: string[]; ids: string[] }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    return { checks: [], problems: [`${dir}: cannot read the checks folder: ${(error as Error).message}`], ids: [] };
  }
  const folders = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const checks: Check[] = [];
  const problems: string[] = [];
  const parser = await CheckSqlParser.open();
  try {
    for (const folder of folders) {
      const yamlPath = path.join(dir, folder, 'check.yaml');
      const sqlPath = path.join(dir, folder, 'query.sql');
      const yamlText = await readOptional(yamlPath);
      if (yamlText === undefined) {
        problems.push(`${yamlPath}: missing (every check folder needs a check.yaml)`);
        continue;
      }
      const result = parseCheck(folder, { yamlPath, yamlText, sqlPath, sqlText: await readOptional(sqlPath) });
      problems.push(...result.problems);
      if (!result.check) continue;
      const sqlProblems = checkSqlProblems(sqlPath, await parser.parse(result.check.sql), result.check.columns);
      problems.push(...sqlProblems);
      if (sqlProblems.length === 0) checks.push(result.check);
    }
  } finally {
    parser.close();
  }
  if (folders.length === 0) problems.push(`${dir}: no check folders found`);
  return { checks, problems, ids: folders };
}

/** Loads every check folder under `dir`; throws with every problem when any file is wrong. */
export async function loadCatalog(dir: string): Promise<Check[]> {
  const { checks, problems } = await readCatalog(dir);
  if (problems.length > 0) throw new CheckDefinitionError(problems);
  return checks;
}
