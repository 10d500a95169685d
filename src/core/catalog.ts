import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { countPlaceholders } from './sql.js';

export const Severity = z.enum(['info', 'low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

/** Severities from least to most severe; `--fail-on high` means "high or critical". */
export const SEVERITY_ORDER: readonly Severity[] = Severity.options;

export function severityRank(severity: Severity): number {
  return SEVERITY_ORDER.indexOf(severity);
}

const CHECK_ID = /^[a-z][a-z0-9_]*$/;
const COLUMN_NAME = /^[a-z_][a-z0-9_]*$/;

/** How a check's result is judged. `info` checks report without passing or failing. */
export const Evaluation = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('info') }).strict(),
  z
    .object({
      kind: z.literal('threshold'),
      /** `row_count`, or `sum:<column>` to add up a numeric column of the result. */
      metric: z.string().regex(/^(row_count|sum:[a-z_][a-z0-9_]*)$/, 'expected "row_count" or "sum:<column>"'),
      /** The check fails when the observed value is greater than this. */
      fail_above: z.number().int().nonnegative(),
    })
    .strict(),
]);
export type Evaluation = z.infer<typeof Evaluation>;

/**
 * What a threshold check reports when its result would pass but its input was not complete (a log file of the
 * window could not be read, records were dropped…): `incomplete` (the default) or `fail`. There is deliberately
 * no value that lets it pass: a pass needs complete input.
 */
export const OnIncomplete = z.enum(['incomplete', 'fail'], {
  error: (issue) =>
    `expected "incomplete" or "fail", found ${JSON.stringify(issue.input) ?? 'nothing'}: a check on incomplete input never passes, so no more lenient value exists`,
});
export type OnIncomplete = z.infer<typeof OnIncomplete>;

/** Stricter comes later: an override may move a check to the right, never to the left. */
const ON_INCOMPLETE_ORDER: readonly OnIncomplete[] = OnIncomplete.options;

export const CheckOption = z.discriminatedUnion('type', [
  z.object({ type: z.literal('string_list'), default: z.array(z.string()), description: z.string() }).strict(),
  z.object({ type: z.literal('string'), default: z.string(), description: z.string() }).strict(),
]);
export type CheckOption = z.infer<typeof CheckOption>;
export type OptionValue = string | readonly string[];

/**
 * What a check needs besides the logs. `iam_inventory`: it reads the IAM inventory's tables and the window's activity
 * aggregate (not `cloudtrail_window` itself); without an inventory it is reported as not run, with the reason.
 * `log_integrity`: it reads `log_integrity_problems`, the rows of CloudTrail log file validation (digests against
 * the window's log files), computed in-process, not by SQL over the logs.
 */
export const CheckRequirement = z.enum(['iam_inventory', 'log_integrity']);

/** The table a `log_integrity` check reads: one row per problem (see core/integrity.ts). */
export const LOG_INTEGRITY_TABLE = 'log_integrity_problems';
export type CheckRequirement = z.infer<typeof CheckRequirement>;

/** Parameters every check can bind, besides its own options. */
export const BUILT_IN_PARAMETERS = ['window_start', 'window_end'] as const;

/** The metadata file of a check: `config/checks/<id>/check.yaml`. Defaults live here and only here. */
export const CheckDefinition = z
  .object({
    id: z.string().regex(CHECK_ID, 'expected snake_case: lower-case letters, digits and _'),
    title: z.string().min(1),
    description: z.string().min(1),
    severity: Severity,
    /** The check looks at `[asOf - lookback_days, asOf)`. */
    lookback_days: z.number().int().min(1).max(366),
    /** Names bound, in order, to the query's `?` placeholders. */
    parameters: z.array(z.string()).default([]),
    /**
     * The result's columns, in order: the CSV header auditors rely on, and what code that reads a result (the
     * root alert) may depend on. Checked against the query when the catalogue loads, and against every result.
     */
    columns: z
      .array(z.string().regex(COLUMN_NAME, 'expected a column name: lower-case letters, digits and _'))
      .min(1)
      .refine((names) => new Set(names).size === names.length, 'expected each column once'),
    options: z.record(z.string().regex(CHECK_ID), CheckOption).default({}),
    requires: z.array(CheckRequirement).optional(),
    /**
     * A per-group tally for the report, e.g. `[role_arn, usage]`: for each value of the first column, how many rows
     * hold each value of the second (granted / used / unused / unknown per role).
     */
    summary: z.tuple([z.string().regex(COLUMN_NAME), z.string().regex(COLUMN_NAME)]).optional(),
    /**
     * The columns that identify a row from one run to the next (e.g. `[role_arn]`, `[event_id]`): the report's
     * "new" and "gone" rows compare these. Absent: the whole row is its key.
     */
    key_columns: z
      .array(z.string().regex(COLUMN_NAME, 'expected a column name: lower-case letters, digits and _'))
      .min(1)
      .refine((names) => new Set(names).size === names.length, 'expected each column once')
      .optional(),
    evaluation: Evaluation,
    /** Threshold checks only: the status of a would-be pass on incomplete input (see OnIncomplete). */
    on_incomplete: OnIncomplete.default('incomplete'),
    remediation: z.string().optional(),
    references: z.array(z.url()).default([]),
    frameworks: z.record(z.string(), z.array(z.string())).default({}),
  })
  .strict();
export type CheckDefinition = z.infer<typeof CheckDefinition>;

/** A check ready to run: definition, SQL, and option values after config overrides. */
export interface Check extends CheckDefinition {
  readonly sql: string;
  readonly optionValues: Readonly<Record<string, OptionValue>>;
}

/** Turns a zod error into "key.path: message" lines, prefixed with where the input came from. */
export function zodProblems(where: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `${where}: ${path}: ${issue.message}`;
  });
}

/** The query file's own problems, and those judged against the check's `parameters` when they are known. */
function queryFileProblems(
  files: { sqlPath: string; sqlText: string | undefined },
  parameters: readonly string[] | undefined,
  requires: readonly CheckRequirement[] = [],
): string[] {
  if (files.sqlText === undefined) return [`${files.sqlPath}: missing (every check needs a query.sql beside its check.yaml)`];
  const problems: string[] = [];
  const placeholders = countPlaceholders(files.sqlText);
  if (parameters && placeholders !== parameters.length) {
    problems.push(`${files.sqlPath}: has ${placeholders} "?" placeholder(s) but check.yaml lists ${parameters.length} parameter(s)`);
  }
  if (requires.includes('iam_inventory')) {
    if (!/\biam_[a-z_]+\b/i.test(files.sqlText)) problems.push(`${files.sqlPath}: expected a query over the IAM inventory tables (requires: [iam_inventory])`);
  } else if (requires.includes('log_integrity')) {
    if (!new RegExp(`\\b${LOG_INTEGRITY_TABLE}\\b`, 'i').test(files.sqlText)) {
      problems.push(`${files.sqlPath}: expected a query over the table ${LOG_INTEGRITY_TABLE} (requires: [log_integrity])`);
    }
  } else if (!/\bcloudtrail_window\b/i.test(files.sqlText)) problems.push(`${files.sqlPath}: expected a query over the table cloudtrail_window`);
  return problems;
}

/**
 * Parses and validates one check folder's two files. Pure: the caller reads the files.
 * Returns every problem found rather than stopping at the first: the query is judged even when check.yaml is
 * invalid (against its `parameters` when that key alone is readable), so one pass shows both files' problems.
 * `definition` is check.yaml once it matches the schema, even when other problems keep the check out: config
 * overrides of the check can still be judged against it.
 */
export function parseCheck(
  folderName: string,
  files: { yamlPath: string; yamlText: string; sqlPath: string; sqlText: string | undefined },
): { check?: Check; definition?: CheckDefinition; problems: string[] } {
  const problems: string[] = [];
  let raw: unknown;
  try {
    raw = parseYaml(files.yamlText);
  } catch (error) {
    return { problems: [`${files.yamlPath}: not valid YAML: ${(error as Error).message.split('\n')[0]}`, ...queryFileProblems(files, undefined)] };
  }
  const parsed = CheckDefinition.safeParse(raw);
  if (!parsed.success) {
    const declared =
      typeof raw === 'object' && raw !== null ? CheckDefinition.shape.parameters.safeParse((raw as { parameters?: unknown }).parameters) : undefined;
    return { problems: [...zodProblems(files.yamlPath, parsed.error), ...queryFileProblems(files, declared?.success ? declared.data : undefined)] };
  }
  const definition = parsed.data;

  if (definition.id !== folderName) {
    problems.push(`${files.yamlPath}: id: expected "${folderName}" (the folder name), found "${definition.id}"`);
  }
  const known = new Set<string>([...BUILT_IN_PARAMETERS, ...Object.keys(definition.options)]);
  definition.parameters.forEach((name, index) => {
    if (!known.has(name)) {
      problems.push(`${files.yamlPath}: parameters.${index}: unknown parameter "${name}" (expected one of ${[...known].join(', ')})`);
    }
  });
  if (definition.evaluation.kind === 'threshold' && definition.evaluation.metric.startsWith('sum:')) {
    const summed = definition.evaluation.metric.slice('sum:'.length);
    if (!definition.columns.includes(summed)) {
      problems.push(`${files.yamlPath}: evaluation.metric: sums column "${summed}", which is not one of columns (${definition.columns.join(', ')})`);
    }
  }
  if (definition.evaluation.kind === 'info' && definition.on_incomplete !== 'incomplete') {
    problems.push(`${files.yamlPath}: on_incomplete: this check is informational and never passes or fails (its report says when its input was incomplete)`);
  }
  if (definition.summary) {
    definition.summary.forEach((column, index) => {
      if (!definition.columns.includes(column))
        problems.push(`${files.yamlPath}: summary.${index}: "${column}" is not one of columns (${definition.columns.join(', ')})`);
    });
  }
  definition.key_columns?.forEach((column, index) => {
    if (!definition.columns.includes(column))
      problems.push(`${files.yamlPath}: key_columns.${index}: "${column}" is not one of columns (${definition.columns.join(', ')})`);
  });
  problems.push(...queryFileProblems(files, definition.parameters, definition.requires ?? []));
  if (problems.length > 0 || files.sqlText === undefined) return { definition, problems };

  return { check: withDefaults(definition, files.sqlText), definition, problems };
}

/** A definition as a check, its options at their defaults. */
export function withDefaults(definition: CheckDefinition, sql: string): Check {
  const optionValues = Object.fromEntries(Object.entries(definition.options).map(([name, option]) => [name, option.default]));
  return { ...definition, sql, optionValues };
}

/** Per-check settings a config file may override. Everything else stays as the check file says. */
export const CheckOverride = z
  .object({
    enabled: z.boolean().optional(),
    severity: Severity.optional(),
    fail_above: z.number().int().nonnegative().optional(),
    /** The check's lookback (the run's window widens to the longest). */
    lookback_days: z.number().int().min(1).max(366).optional(),
    /** Only towards stricter: `fail` where the check file says `incomplete`; never anything that passes. */
    on_incomplete: OnIncomplete.optional(),
    options: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  })
  .strict();
export type CheckOverride = z.infer<typeof CheckOverride>;

/**
 * Applies config overrides to the loaded catalog and returns the checks to run, in catalog order.
 * Problems (unknown ids, unknown options, a threshold on an info check…) are returned together.
 */
export function applyOverrides(
  catalog: readonly Check[],
  overrides: Readonly<Record<string, CheckOverride>>,
  where: string,
): { checks: Check[]; problems: string[] } {
  const problems: string[] = [];
  const byId = new Map(catalog.map((check) => [check.id, check]));
  for (const id of Object.keys(overrides)) {
    if (!byId.has(id)) problems.push(`${where}.${id}: no check with this id (known: ${[...byId.keys()].join(', ')})`);
  }
  const checks: Check[] = [];
  for (const check of catalog) {
    const override = overrides[check.id];
    if (!override) {
      checks.push(check);
      continue;
    }
    if (override.enabled === false) continue;
    let evaluation: Evaluation = check.evaluation;
    if (override.fail_above !== undefined) {
      if (evaluation.kind === 'info') {
        problems.push(`${where}.${check.id}.fail_above: this check is informational and has no threshold`);
      } else {
        evaluation = { ...evaluation, fail_above: override.fail_above };
      }
    }
    let onIncomplete = check.on_incomplete;
    if (override.on_incomplete !== undefined) {
      if (evaluation.kind === 'info') {
        problems.push(`${where}.${check.id}.on_incomplete: this check is informational and never passes or fails`);
      } else if (ON_INCOMPLETE_ORDER.indexOf(override.on_incomplete) < ON_INCOMPLETE_ORDER.indexOf(check.on_incomplete)) {
        problems.push(
          `${where}.${check.id}.on_incomplete: "${override.on_incomplete}" is more lenient than the check file's "${check.on_incomplete}"; an override may only make it stricter`,
        );
      } else {
        onIncomplete = override.on_incomplete;
      }
    }
    const optionValues: Record<string, OptionValue> = { ...check.optionValues };
    for (const [name, value] of Object.entries(override.options ?? {})) {
      const option = check.options[name];
      if (!option) {
        problems.push(`${where}.${check.id}.options.${name}: unknown option (known: ${Object.keys(check.options).join(', ') || 'none'})`);
      } else if (option.type === 'string_list' && !Array.isArray(value)) {
        problems.push(`${where}.${check.id}.options.${name}: expected a list of strings`);
      } else if (option.type === 'string' && typeof value !== 'string') {
        problems.push(`${where}.${check.id}.options.${name}: expected a string`);
      } else {
        optionValues[name] = value;
      }
    }
    checks.push({
      ...check,
      severity: override.severity ?? check.severity,
      lookback_days: override.lookback_days ?? check.lookback_days,
      evaluation,
      on_incomplete: onIncomplete,
      optionValues,
    });
  }
  return { checks, problems };
}
