import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { applyOverrides, LOG_INTEGRITY_TABLE, parseCheck, withDefaults, zodProblems, type Check } from '../core/catalog.js';
import { CheckDefinitionError, ConfigError } from '../core/errors.js';
import { knownFrameworks } from '../core/frameworks.js';
import { rootAlertProblems } from '../core/root-alert-contract.js';
import { CheckSqlParser, checkSqlProblems, type ParsedCheckSql } from './check-sql.js';
import { INVENTORY_TABLES } from '../inventory/tables.js';
import { ChecksConfig, TrailwardenConfig } from './schema.js';

/** A validated configuration with every path made absolute, and where it came from. */
export interface LoadedConfig {
  readonly file: string;
  readonly config: TrailwardenConfig;
  /** SHA-256 of the config file's bytes, recorded in each run's manifest. */
  readonly digest: string;
}

function resolvePaths(config: TrailwardenConfig, baseDir: string): TrailwardenConfig {
  const abs = (p: string) => path.resolve(baseDir, p);
  const { source, archive, mail, state, engine, store } = config;
  return {
    ...config,
    engine: engine.kind === 'duckdb' && engine.spill_path !== undefined ? { ...engine, spill_path: abs(engine.spill_path) } : engine,
    ...(store === undefined ? {} : { store: { ...store, path: abs(store.path) } }),
    source: source.kind === 'local' ? { ...source, path: abs(source.path) } : { ...source, cache_path: abs(source.cache_path) },
    archive: archive.kind === 'local' ? { ...archive, path: abs(archive.path) } : archive,
    mail: mail.kind === 'outbox' ? { ...mail, path: abs(mail.path) } : mail,
    checks: { ...config.checks, path: abs(config.checks.path) },
    state: state.kind === 'local' ? { ...state, path: abs(state.path) } : state,
    inventory: config.inventory?.kind === 'file' ? { ...config.inventory, path: abs(config.inventory.path) } : config.inventory,
    ...(config.signing?.kind === 'ed25519' ? { signing: { ...config.signing, private_key_file: abs(config.signing.private_key_file) } } : {}),
    ...(config.integrity?.public_keys_file === undefined
      ? {}
      : { integrity: { ...config.integrity, public_keys_file: abs(config.integrity.public_keys_file) } }),
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

/** What a caller's own rules are judged on: the document as read, and the config when it is valid. */
export interface SetupDocument {
  readonly file: string;
  /** The YAML document, unvalidated. */
  readonly raw: unknown;
  readonly config?: TrailwardenConfig;
}

export interface LoadOptions {
  /** Problems the caller already found (its command-line flags), reported with the config's. */
  readonly problems?: readonly string[];
  /** The caller's rules on the document (does `--job` name a job?), reported with the config's. */
  readonly check?: (document: SetupDocument) => string[];
}

/**
 * `jobs:` as configured: from the validated config, or — when it is invalid — from the raw document, so that the
 * rules about jobs are still judged in the same pass. Values are then unvalidated: read them defensively.
 */
export function configuredJobs(document: SetupDocument): Readonly<Record<string, { readonly type?: unknown } | null | undefined>> {
  const jobs: unknown = document.config ? document.config.jobs : (document.raw as { jobs?: unknown } | null | undefined)?.jobs;
  return typeof jobs === 'object' && jobs !== null ? (jobs as Record<string, { type?: unknown } | null>) : {};
}

/**
 * Reads and validates the YAML config and every check file once, at start. All problems — command-line flags
 * (`options.problems`), config keys, check files, overrides, the caller's own rules — are reported together in
 * one ConfigError, each with its key path or file: a section's problems never hide another's.
 */
export async function loadSetup(file: string, options: LoadOptions = {}): Promise<Setup> {
  const absolute = path.resolve(file);
  const problems: string[] = [...(options.problems ?? [])];
  let bytes: Buffer;
  try {
    bytes = await readFile(absolute);
  } catch (error) {
    throw new ConfigError(absolute, [...problems, `cannot read the file: ${(error as Error).message}`], { cause: error });
  }
  let raw: unknown;
  try {
    raw = parseYaml(bytes.toString('utf8'));
  } catch (error) {
    throw new ConfigError(absolute, [...problems, `not valid YAML: ${(error as Error).message.split('\n')[0]}`], { cause: error });
  }
  const parsed = TrailwardenConfig.safeParse(raw ?? {});
  if (!parsed.success) problems.push(...zodProblems('key', parsed.error).map((p) => p.replace(/^key: /, '')));
  const baseDir = path.dirname(absolute);
  const config = parsed.success ? resolvePaths(parsed.data, baseDir) : undefined;

  // The check files are validated even when the config is not, so that one pass shows everything.
  const checksPath = config?.checks.path ?? path.resolve(baseDir, rawChecksPath(raw));
  const { checks: catalog, definitions, problems: checkProblems, ids } = await readCatalog(checksPath);
  problems.push(...checkProblems);
  // Overrides are judged against every check.yaml that is valid — also when its query is not, or the rest of the
  // config is not; only an override of a check whose check.yaml is itself broken waits for that file's fix (and
  // all of them for a checks folder that can't be read, or holds no check).
  const checksSection = config ? config.checks : ChecksConfig.safeParse((raw as { checks?: unknown } | null | undefined)?.checks ?? {}).data;
  let checks: Check[] = [];
  if (checksSection && ids.length > 0) {
    const judgeable = new Set(definitions.map((d) => d.id));
    const overrides = Object.fromEntries(Object.entries(checksSection.overrides).filter(([id]) => judgeable.has(id) || !ids.includes(id)));
    problems.push(...applyOverrides(definitions, overrides, 'checks.overrides').problems);
    const loaded = new Set(catalog.map((check) => check.id));
    checks = applyOverrides(catalog, Object.fromEntries(Object.entries(overrides).filter(([id]) => loaded.has(id))), 'checks.overrides').checks;
  }
  // The alert reads the root check's result by column name: a catalogue that breaks that is a config error.
  const document: SetupDocument = { file: absolute, raw, config };
  for (const [name, job] of Object.entries(configuredJobs(document))) {
    if (job?.type === 'root_alert') problems.push(...rootAlertProblems(catalog, `jobs.${name}`));
  }
  // The framework a report groups by must be one a check names or trailwarden knows: a typo would group nothing.
  const framework = config?.report.framework;
  if (framework !== undefined && ids.length > 0 && !knownFrameworks(definitions).includes(framework)) {
    problems.push(`report.framework: unknown framework "${framework}" (known: ${knownFrameworks(definitions).join(', ')})`);
  }
  if (options.check) problems.push(...options.check(document));
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

/**
 * Every check folder under `dir`: the valid checks, every problem, the folder names (ids) seen, and — to judge
 * config overrides against — every check whose check.yaml is valid, as a check with its defaults.
 */
export async function readCatalog(dir: string): Promise<{ checks: Check[]; definitions: Check[]; problems: string[]; ids: string[] }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    return { checks: [], definitions: [], problems: [`${dir}: cannot read the checks folder: ${(error as Error).message}`], ids: [] };
  }
  const folders = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const checks: Check[] = [];
  const definitions: Check[] = [];
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
      const sqlText = await readOptional(sqlPath);
      const result = parseCheck(folder, { yamlPath, yamlText, sqlPath, sqlText });
      problems.push(...result.problems);
      if (result.definition) definitions.push(withDefaults(result.definition, sqlText ?? ''));
      if (sqlText === undefined) continue;
      // The query is parsed whatever check.yaml says, so that one pass shows both files' problems.
      const requires = result.definition?.requires ?? [];
      const tables = requires.includes('iam_inventory') ? INVENTORY_TABLES : requires.includes('log_integrity') ? [LOG_INTEGRITY_TABLE] : undefined;
      const parsed = await parser.parse(sqlText, tables);
      const sqlProblems = checkSqlProblems(sqlPath, parsed, result.definition?.columns ?? namedColumns(parsed));
      problems.push(...sqlProblems);
      if (result.check && sqlProblems.length === 0) checks.push(result.check);
    }
  } finally {
    parser.close();
  }
  if (folders.length === 0) problems.push(`${dir}: no check folders found`);
  return { checks, definitions, problems, ids: folders };
}

/**
 * A query's own named columns: what it is held to when check.yaml is broken, so that only the query's own
 * problems (not one SELECT, unnamed columns) are reported.
 */
function namedColumns(parsed: ParsedCheckSql): string[] {
  return parsed.columns.filter((name): name is string => name !== undefined);
}

/** Loads every check folder under `dir`; throws with every problem when any file is wrong. */
export async function loadCatalog(dir: string): Promise<Check[]> {
  const { checks, problems } = await readCatalog(dir);
  if (problems.length > 0) throw new CheckDefinitionError(problems);
  return checks;
}
