import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { applyOverrides, parseCheck, zodProblems, type Check } from '../core/catalog.js';
import { CheckDefinitionError, ConfigError } from '../core/errors.js';
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
  return {
    ...config,
    source: { ...config.source, path: abs(config.source.path) },
    archive: { ...config.archive, path: abs(config.archive.path) },
    mail: { ...config.mail, path: abs(config.mail.path) },
    checks: { ...config.checks, path: abs(config.checks.path) },
  };
}

/** Reads and validates the YAML config once; every problem is reported together, each with its key path. */
export async function loadConfig(file: string): Promise<LoadedConfig> {
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
  const parsed = TrailwardenConfig.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(absolute, zodProblems('key', parsed.error).map((p) => p.replace(/^key: /, '')));
  return {
    file: absolute,
    config: resolvePaths(parsed.data, path.dirname(absolute)),
    digest: createHash('sha256').update(bytes).digest('hex'),
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

/** Loads every check folder under `dir`, validating all of them and reporting all problems together. */
export async function loadCatalog(dir: string): Promise<Check[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new CheckDefinitionError([`${dir}: cannot read the checks folder: ${(error as Error).message}`]);
  }
  const checks: Check[] = [];
  const problems: string[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const yamlPath = path.join(dir, entry.name, 'check.yaml');
    const sqlPath = path.join(dir, entry.name, 'query.sql');
    const yamlText = await readOptional(yamlPath);
    if (yamlText === undefined) {
      problems.push(`${yamlPath}: missing (every check folder needs a check.yaml)`);
      continue;
    }
    const result = parseCheck(entry.name, { yamlPath, yamlText, sqlPath, sqlText: await readOptional(sqlPath) });
    problems.push(...result.problems);
    if (result.check) checks.push(result.check);
  }
  if (problems.length > 0) throw new CheckDefinitionError(problems);
  if (checks.length === 0) throw new CheckDefinitionError([`${dir}: no check folders found`]);
  return checks;
}

/** The catalog after the config's overrides: the checks a run executes. */
export async function loadChecks(loaded: LoadedConfig): Promise<{ catalog: Check[]; checks: Check[] }> {
  const catalog = await loadCatalog(loaded.config.checks.path);
  const { checks, problems } = applyOverrides(catalog, loaded.config.checks.overrides, 'checks.overrides');
  if (problems.length > 0) throw new ConfigError(loaded.file, problems);
  return { catalog, checks };
}
