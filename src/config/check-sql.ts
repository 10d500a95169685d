/**
 * A check's query as a SQL parser sees it, when the catalogue loads: DuckDB's own parser (`json_serialize_sql`),
 * which accepts one SELECT (or WITH … SELECT) statement and nothing else, and names the result's columns. The
 * same text runs on Athena; Trino-only syntax that DuckDB's parser refuses would fail on the embedded engine too.
 *
 * A check folder is data (an administrator may pull it from a shared repository), so its query is held to a rule
 * of the catalogue, whatever the engine: it reads `cloudtrail_window` and nothing else. The parsed tree is walked
 * for every FROM (in CTEs, subqueries, joins, set operations, expression subqueries); a construct the walker does
 * not know is refused rather than trusted.
 */
import { DuckDBInstance } from '@duckdb/node-api';

interface SerializedExpression {
  readonly class?: string;
  readonly type?: string;
  readonly alias?: string;
  readonly column_names?: readonly string[];
}

interface SerializedNode {
  readonly type?: string;
  readonly select_list?: readonly SerializedExpression[];
  readonly left?: SerializedNode;
}

interface Serialized {
  readonly error?: boolean;
  readonly error_message?: string;
  readonly statements?: readonly { readonly node?: SerializedNode }[];
}

/** What the parser says of one query. */
export interface ParsedCheckSql {
  /** Why it is not a single SELECT; undefined when it is one. */
  readonly problem?: string;
  /** What the query does beyond reading `cloudtrail_window` (other tables, table functions, denied functions, unknown constructs). */
  readonly refusals: readonly string[];
  /** The result's column names in order; undefined for a column the parser can't name (`*`, an unnamed expression). */
  readonly columns: readonly (string | undefined)[];
}

function columnName(expression: SerializedExpression): string | undefined {
  if (expression.alias) return expression.alias;
  if (expression.class === 'COLUMN_REF' && expression.column_names?.length) return expression.column_names.at(-1);
  return undefined;
}

/** Parses check queries; one DuckDB instance (in memory, no data) for the whole catalogue. */
export class CheckSqlParser {
  readonly #instance: DuckDBInstance;

  private constructor(instance: DuckDBInstance) {
    this.#instance = instance;
  }

  static async open(): Promise<CheckSqlParser> {
    return new CheckSqlParser(await DuckDBInstance.create(':memory:'));
  }

  /**
   * `tables`: what the query may read besides its own CTEs — the window by default; an inventory check reads the
   * inventory tables and the activity aggregate instead (see src/inventory/tables.ts), never the window itself.
   */
  async parse(sql: string, tables: readonly string[] = [WINDOW_TABLE]): Promise<ParsedCheckSql> {
    const connection = await this.#instance.connect();
    try {
      const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
      const serialized = JSON.parse(String(reader.getRows()[0]?.[0])) as Serialized;
      // The parser serialises SELECT statements only: anything else comes back as an error.
      if (serialized.error) {
        return { problem: `not a single SELECT statement (${serialized.error_message ?? 'the parser refused it'})`, refusals: [], columns: [] };
      }
      const statements = serialized.statements ?? [];
      if (statements.length !== 1) return { problem: `expected exactly one SELECT statement, found ${statements.length}`, refusals: [], columns: [] };
      const rule = new ReadsOnlyTheWindow(tables);
      rule.query(statements[0]?.node, new Set());
      // A UNION's columns are named by its first SELECT.
      let node = statements[0]?.node;
      while (node?.type === 'SET_OPERATION_NODE' && node.left) node = node.left;
      return { refusals: [...rule.refusals], columns: (node?.select_list ?? []).map(columnName) };
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    this.#instance.closeSync();
  }
}

/** Problems of a check's query against the columns its check.yaml declares, each naming the file. */
export function checkSqlProblems(sqlPath: string, parsed: ParsedCheckSql, declared: readonly string[]): string[] {
  if (parsed.problem) return [`${sqlPath}: ${parsed.problem}`];
  const problems = parsed.refusals.map((refusal) => `${sqlPath}: ${refusal}`);
  const unnamed = parsed.columns.flatMap((name, index) => (name === undefined ? [index + 1] : []));
  if (unnamed.length > 0) {
    problems.push(`${sqlPath}: result column(s) ${unnamed.join(', ')} have no name the check can declare (no * and no unnamed expressions: name each with AS)`);
  } else if (parsed.columns.join(',') !== declared.join(',')) {
    problems.push(`${sqlPath}: returns the columns (${parsed.columns.join(', ')}), but check.yaml declares columns: [${declared.join(', ')}]`);
  }
  return problems;
}

/** The one table a check reads, unless it needs the IAM inventory. */
export const WINDOW_TABLE = 'cloudtrail_window';

/** Table functions a check may call in FROM: UNNEST (Trino's `CROSS JOIN UNNEST(…)`). Every other one reads elsewhere. */
const ALLOWED_TABLE_FUNCTIONS = new Set(['unnest']);

/**
 * Functions a check may not call anywhere, and why: each reads the process or the engine rather than the
 * window, or leaves state behind for the next check. (Table functions that read files are refused in FROM.)
 */
const DENIED_FUNCTIONS = new Map([
  ['getenv', 'it reads the process environment'],
  ['current_setting', "it reads the engine's settings"],
  ['getvariable', 'it reads session variables'],
  ['setseed', 'it changes the session the next check runs in'],
  ['nextval', 'it changes a sequence'],
  ['currval', 'it reads a sequence'],
  ['write_log', "it writes to the engine's log"],
  ['json_execute_serialized_sql', 'it runs other SQL'],
]);

/** The expression classes of DuckDB's parsed tree (`ExpressionClass`); any other is refused. */
const EXPRESSION_CLASSES = new Set([
  'BETWEEN',
  'CASE',
  'CAST',
  'COLLATE',
  'COLUMN_REF',
  'COMPARISON',
  'CONJUNCTION',
  'CONSTANT',
  'DEFAULT',
  'FUNCTION',
  'LAMBDA',
  'LAMBDA_REF',
  'OPERATOR',
  'PARAMETER',
  'POSITIONAL_REFERENCE',
  'STAR',
  'SUBQUERY',
  'WINDOW',
]);

/** Keys that mark a query node or a table reference: met outside the places the walker reads them from, they are refused. */
const QUERY_KEYS = ['node', 'from_table', 'table_name', 'select_list', 'cte_map'];

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * Walks a `json_serialize_sql` tree and collects what a check may not do: read any table but `cloudtrail_window`
 * or a name its own WITH defines (in scope where it is read), call a table function other than UNNEST, or call a
 * denied function. Query nodes and table references are read by their known shapes; expressions are walked
 * field by field, so a subquery is found wherever it sits, and an unknown shape is refused (fail closed).
 */
class ReadsOnlyTheWindow {
  readonly refusals = new Set<string>();
  readonly #tables: ReadonlySet<string>;
  readonly #allowed: string;

  constructor(tables: readonly string[]) {
    this.#tables = new Set(tables);
    this.#allowed = tables.join(', ');
  }

  #unknown(what: string): void {
    this.refusals.add(`uses ${what}, which the check rule does not know: refused rather than trusted (a check reads cloudtrail_window with SELECT)`);
  }

  /** A query node; `outer` holds the WITH names visible where it sits. */
  query(node: unknown, outer: ReadonlySet<string>): void {
    if (!isObject(node)) return this.#unknown('a query without a parsed tree');
    const type = text(node.type);
    if (type === 'RECURSIVE_CTE_NODE') {
      this.refusals.add('uses WITH RECURSIVE, which a check may not use');
      return;
    }
    const scope = this.#withNames(node.cte_map, outer);
    if (type === 'SELECT_NODE') {
      this.#tableRef(node.from_table, scope);
      for (const [key, value] of Object.entries(node)) if (key !== 'cte_map' && key !== 'from_table') this.expressions(value, scope);
    } else if (type === 'SET_OPERATION_NODE') {
      const branches = Array.isArray(node.children) ? node.children : [node.left, node.right];
      for (const branch of branches) this.query(branch, scope);
      for (const [key, value] of Object.entries(node)) if (!['cte_map', 'left', 'right', 'children'].includes(key)) this.expressions(value, scope);
    } else {
      this.#unknown(`a query of type ${type || '(none)'}`);
    }
  }

  /** Walks a WITH clause: each CTE sees the names defined before it (not itself: that would be WITH RECURSIVE). */
  #withNames(cteMap: unknown, outer: ReadonlySet<string>): ReadonlySet<string> {
    const entries = isObject(cteMap) ? cteMap.map : undefined;
    if (entries === undefined) return outer;
    if (!Array.isArray(entries)) {
      this.#unknown('a WITH clause of an unknown shape');
      return outer;
    }
    const scope = new Set(outer);
    for (const entry of entries as unknown[]) {
      const cte = isObject(entry) && isObject(entry.value) ? entry.value : undefined;
      if (!isObject(entry) || !cte || !isObject(cte.query)) {
        this.#unknown('a WITH clause of an unknown shape');
        continue;
      }
      this.query(cte.query.node, scope);
      this.expressions(cte.key_targets, scope);
      scope.add(text(entry.key).toLowerCase());
    }
    return scope;
  }

  #tableRef(ref: unknown, scope: ReadonlySet<string>): void {
    if (!isObject(ref)) return this.#unknown('a FROM clause without a parsed tree');
    const type = text(ref.type);
    const rest = (...handled: string[]) => {
      for (const [key, value] of Object.entries(ref)) if (!handled.includes(key)) this.expressions(value, scope);
    };
    switch (type) {
      case 'BASE_TABLE': {
        const name = [ref.catalog_name, ref.schema_name, ref.table_name].map(text).filter(Boolean).join('.');
        const table = text(ref.table_name).toLowerCase();
        const qualified = text(ref.catalog_name) !== '' || text(ref.schema_name) !== '';
        if (qualified || (!this.#tables.has(table) && !scope.has(table))) {
          this.refusals.add(`reads the table "${name}": this check reads only ${this.#allowed} (and the names its own WITH defines)`);
        }
        return rest('catalog_name', 'schema_name', 'table_name');
      }
      case 'TABLE_FUNCTION': {
        const name = isObject(ref.function) ? text(ref.function.function_name).toLowerCase() : '';
        if (!ALLOWED_TABLE_FUNCTIONS.has(name)) {
          this.refusals.add(
            `calls the table function ${name || '(unnamed)'}(): this check reads only ${this.#allowed} (UNNEST is the one table function allowed)`,
          );
        }
        return rest();
      }
      case 'JOIN':
        this.#tableRef(ref.left, scope);
        this.#tableRef(ref.right, scope);
        return rest('left', 'right');
      case 'SUBQUERY':
        this.query(isObject(ref.subquery) ? ref.subquery.node : undefined, scope);
        return rest('subquery');
      case 'EXPRESSION_LIST': // VALUES (…)
      case 'EMPTY': // no FROM
        return rest();
      default:
        return this.#unknown(`a FROM clause of type ${type || '(none)'}`);
    }
  }

  /** Any part of a query node that is not its FROM or WITH: expressions, and the lists and modifiers that hold them. */
  expressions(value: unknown, scope: ReadonlySet<string>): void {
    if (Array.isArray(value)) {
      for (const item of value) this.expressions(item, scope);
      return;
    }
    if (!isObject(value)) return;
    const expressionClass = value.class;
    if (typeof expressionClass !== 'string') {
      // Not an expression (an ORDER BY entry, a window frame, a constant's value…): a query here is out of place.
      if (QUERY_KEYS.some((key) => key in value)) return this.#unknown('a query where an expression belongs');
      for (const child of Object.values(value)) this.expressions(child, scope);
      return;
    }
    if (!EXPRESSION_CLASSES.has(expressionClass)) return this.#unknown(`an expression of class ${expressionClass}`);
    if (expressionClass === 'FUNCTION' || expressionClass === 'WINDOW') {
      const name = text(value.function_name).toLowerCase();
      const why = DENIED_FUNCTIONS.get(name);
      if (why) this.refusals.add(`calls ${name}(), which a check may not call: ${why}`);
    }
    for (const [key, child] of Object.entries(value)) {
      if (expressionClass === 'SUBQUERY' && key === 'subquery') this.query(isObject(child) ? child.node : undefined, scope);
      else this.expressions(child, scope);
    }
  }
}
