/**
 * A check's query as a SQL parser sees it, when the catalogue loads: DuckDB's own parser (`json_serialize_sql`),
 * which accepts one SELECT (or WITH … SELECT) statement and nothing else, and names the result's columns. The
 * same text runs on Athena; Trino-only syntax that DuckDB's parser refuses would fail on the embedded engine too.
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

  async parse(sql: string): Promise<ParsedCheckSql> {
    const connection = await this.#instance.connect();
    try {
      const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
      const serialized = JSON.parse(String(reader.getRows()[0]?.[0])) as Serialized;
      // The parser serialises SELECT statements only: anything else comes back as an error.
      if (serialized.error) return { problem: `not a single SELECT statement (${serialized.error_message ?? 'the parser refused it'})`, columns: [] };
      const statements = serialized.statements ?? [];
      if (statements.length !== 1) return { problem: `expected exactly one SELECT statement, found ${statements.length}`, columns: [] };
      // A UNION's columns are named by its first SELECT.
      let node = statements[0]?.node;
      while (node?.type === 'SET_OPERATION_NODE' && node.left) node = node.left;
      return { columns: (node?.select_list ?? []).map(columnName) };
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
  const unnamed = parsed.columns.flatMap((name, index) => (name === undefined ? [index + 1] : []));
  if (unnamed.length > 0) {
    return [`${sqlPath}: result column(s) ${unnamed.join(', ')} have no name the check can declare (no * and no unnamed expressions: name each with AS)`];
  }
  if (parsed.columns.join(',') !== declared.join(',')) {
    return [`${sqlPath}: returns the columns (${parsed.columns.join(', ')}), but check.yaml declares columns: [${declared.join(', ')}]`];
  }
  return [];
}
