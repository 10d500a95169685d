/**
 * The CloudTrail table, written once: every column with its CloudTrail JSON key and a small type tree.
 * The Athena DDL (`CLOUDTRAIL_TABLE_COLUMNS`), the DuckDB engine's read type and projection, and the
 * column pruning (`columnsUsedBy`) are all rendered from `CLOUDTRAIL_TABLE`, so the engines cannot drift.
 *
 * The shape is AWS's documented CloudTrail table (Athena user guide, "Create the table for CloudTrail logs in
 * Athena using partition projection"), in its column order. Athena's names are the JSON keys in lower case:
 * Hive's JsonSerDe matches keys case-insensitively, while DuckDB matches them exactly, hence both spellings.
 */

/**
 * A value's shape. `json` is a free-form object (`requestParameters`, …): Athena declares it STRING and
 * holds its JSON text; DuckDB reads it as JSON. Map keys are always strings.
 */
export type ColumnType =
  | { readonly kind: 'string' }
  | { readonly kind: 'json' }
  | { readonly kind: 'struct'; readonly fields: readonly TableField[] }
  | { readonly kind: 'array'; readonly of: ColumnType }
  | { readonly kind: 'map'; readonly of: ColumnType };

/** A column, or a field of a struct: Athena's lower-case name, CloudTrail's exact camelCase key, its shape. */
export interface TableField<Name extends string = string> {
  readonly name: Name;
  readonly key: string;
  readonly type: ColumnType;
}

const STRING: ColumnType = { kind: 'string' };
const JSON_TEXT: ColumnType = { kind: 'json' };

/** Athena's name is always the key in lower case (the JsonSerDe rule), so only the key is written. */
function field<const Key extends string>(key: Key, type: ColumnType = STRING): TableField<Lowercase<Key>> {
  return { name: key.toLowerCase() as Lowercase<Key>, key, type };
}

/** A struct from `{ camelCaseKey: type }`, in the order written. */
function struct(fields: Readonly<Record<string, ColumnType>>): ColumnType {
  return { kind: 'struct', fields: Object.entries(fields).map(([key, type]) => field(key, type)) };
}

const arrayOf = (of: ColumnType): ColumnType => ({ kind: 'array', of });
const mapOf = (of: ColumnType): ColumnType => ({ kind: 'map', of });

const USER_IDENTITY = struct({
  type: STRING,
  principalId: STRING,
  arn: STRING,
  accountId: STRING,
  invokedBy: STRING,
  accessKeyId: STRING,
  userName: STRING,
  onBehalfOf: struct({ userId: STRING, identityStoreArn: STRING }),
  sessionContext: struct({
    attributes: struct({ mfaAuthenticated: STRING, creationDate: STRING }),
    sessionIssuer: struct({ type: STRING, principalId: STRING, arn: STRING, accountId: STRING, userName: STRING }),
    ec2RoleDelivery: STRING,
    webIdFederationData: struct({ federatedProvider: STRING, attributes: mapOf(STRING) }),
  }),
});

/** Every column of the CloudTrail table, in AWS's order. */
export const CLOUDTRAIL_TABLE = [
  field('eventVersion'),
  field('userIdentity', USER_IDENTITY),
  field('eventTime'),
  field('eventSource'),
  field('eventName'),
  field('awsRegion'),
  field('sourceIPAddress'),
  field('userAgent'),
  field('errorCode'),
  field('errorMessage'),
  field('requestParameters', JSON_TEXT),
  field('responseElements', JSON_TEXT),
  field('additionalEventData', JSON_TEXT),
  field('requestID'),
  field('eventID'),
  field('readOnly'),
  // CloudTrail writes the resource's ARN key in capitals.
  field('resources', arrayOf(struct({ ARN: STRING, accountId: STRING, type: STRING }))),
  field('eventType'),
  field('apiVersion'),
  field('recipientAccountId'),
  field('serviceEventDetails', JSON_TEXT),
  field('sharedEventID'),
  field('vpcEndpointId'),
  field('vpcEndpointAccountId'),
  field('eventCategory'),
  field('addendum', struct({ reason: STRING, updatedFields: STRING, originalRequestID: STRING, originalEventID: STRING })),
  field('sessionCredentialFromConsole'),
  field('edgeDeviceDetails', JSON_TEXT),
  field('tlsDetails', struct({ tlsVersion: STRING, cipherSuite: STRING, clientProvidedHostHeader: STRING })),
] as const;

/** A column of `cloudtrail_window` (besides `account` and `region`, taken from the log file's path as Athena's partition columns). */
export type CloudTrailColumn = (typeof CLOUDTRAIL_TABLE)[number]['name'];

/** The columns' names, in table order. */
export const CLOUDTRAIL_COLUMNS: readonly CloudTrailColumn[] = CLOUDTRAIL_TABLE.map((column) => column.name);

/** The spec of the named columns, in table order (the order every rendering uses). */
export function tableColumns(columns: readonly CloudTrailColumn[] = CLOUDTRAIL_COLUMNS): readonly TableField<CloudTrailColumn>[] {
  return CLOUDTRAIL_TABLE.filter((column) => columns.includes(column.name));
}

// ---------------------------------------------------------------------------------------------------
// The Athena DDL

/** A Hive type, struct fields one per line below their column (as AWS lays the table out). */
function hiveType(type: ColumnType, indent: string): string {
  switch (type.kind) {
    case 'string':
    case 'json':
      return 'STRING';
    case 'array':
      return `ARRAY<${hiveType(type.of, indent)}>`;
    case 'map':
      return `MAP<STRING,${hiveType(type.of, indent)}>`;
    case 'struct': {
      const inner = `${indent}  `;
      return `STRUCT<\n${type.fields.map((f) => `${inner}${f.name}: ${hiveType(f.type, inner)}`).join(',\n')}>`;
    }
  }
}

/** The column list of the Athena table's `CREATE EXTERNAL TABLE` (see `trailwarden setup athena`). */
export const CLOUDTRAIL_TABLE_COLUMNS = CLOUDTRAIL_TABLE.map((column) => `  ${column.name} ${hiveType(column.type, '  ')}`).join(',\n');

// ---------------------------------------------------------------------------------------------------
// Column pruning

/** Columns the run itself needs whatever the checks: window filter, de-duplication, summary counts. */
const ALWAYS: readonly CloudTrailColumn[] = ['eventtime', 'eventid', 'eventcategory'];

/**
 * The columns a set of queries can refer to: every CloudTrail column whose name appears as a word in
 * their SQL, or all of them when a query selects `*`. Loading only those makes the one pass over the
 * raw logs cheaper; naming a column in a comment or string only loads it needlessly, never leaves one out.
 */
export function columnsUsedBy(sqlTexts: readonly string[]): CloudTrailColumn[] {
  // `SELECT *` or `t.*` needs every column. Any `*` left once `count(*)` is removed counts (a
  // multiplication too): loading too much is only slower, loading too little is wrong.
  if (
    sqlTexts.some((sql) =>
      sql
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\(\s*\*\s*\)/g, '')
        .includes('*'),
    )
  )
    return [...CLOUDTRAIL_COLUMNS];
  const words = new Set(sqlTexts.flatMap((sql) => sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []));
  return CLOUDTRAIL_COLUMNS.filter((column) => ALWAYS.includes(column) || words.has(column));
}

/** The columns a load reads, each with its type: a struct may be pruned to the fields its queries name. */
export type LoadFields = readonly TableField<CloudTrailColumn>[];

/** Whether `word` occurs in `words` (the SQL's words) other than as the head of a field access (`word.field`). */
function usedWhole(sql: string, name: string): boolean {
  // Not followed by `.` (after optional spaces): the value is used as it is (selected, compared, passed on).
  return new RegExp(`(?<![a-z0-9_])${name}(?![a-z0-9_])(?!\\s*\\.)`, 'i').test(sql);
}

/** `type` keeping only the struct fields named in `sql` (recursively); a field used whole keeps all of its own. */
function pruneType(type: ColumnType, sql: string, words: ReadonlySet<string>): ColumnType {
  if (type.kind !== 'struct') return type;
  const fields = type.fields
    .filter((f) => words.has(f.name))
    .map((f) => (f.type.kind === 'struct' && !usedWhole(sql, f.name) ? { ...f, type: pruneType(f.type, sql, words) } : f));
  // A struct of no field can't be declared; keeping one field loads little and keeps the column's shape valid.
  return { kind: 'struct', fields: fields.length > 0 ? fields : type.fields.slice(0, 1) };
}

/**
 * The columns of `columnsUsedBy`, with every struct column that the queries only ever take fields of
 * (`useridentity.arn`, never `useridentity` alone) pruned to the fields whose names appear as words in the SQL,
 * at every depth. `useridentity` is about half of what a stored window costs to read, and checks use a handful of
 * its 19 leaf fields. Like `columnsUsedBy`, a name in a comment or a string only keeps a field needlessly: a field a query
 * reads is never left out. Arrays and maps of structs are kept whole.
 */
export function fieldsUsedBy(sqlTexts: readonly string[]): LoadFields {
  const columns = columnsUsedBy(sqlTexts);
  const sql = sqlTexts.join('\n');
  // `SELECT *` (or `t.*`) reads every field, as in columnsUsedBy.
  if (
    sql
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\(\s*\*\s*\)/g, '')
      .includes('*')
  )
    return tableColumns(columns);
  const words = new Set(sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  return tableColumns(columns).map((column) =>
    column.type.kind === 'struct' && !usedWhole(sql, column.name) ? { ...column, type: pruneType(column.type, sql, words) } : column,
  );
}

/**
 * A condition on a record, as SQL: `column` gives each column's expression where it is rendered (a bare name in a
 * query over `cloudtrail_window`, the record's field in an engine's load), so one condition is written once.
 */
export type RowCondition = (column: (name: CloudTrailColumn) => string) => string;

/** A query of the run and the earliest event time it reads (its own window's start). */
export interface WindowReader {
  readonly sql: string;
  readonly start: string;
  /**
   * Columns the query reads only in records that meet a condition (the activity aggregate reads `requestparameters`
   * only of AssumeRole calls): in other records an engine may leave them NULL. The query must guard its use of them
   * with the same condition.
   */
  readonly rows?: Partial<Record<CloudTrailColumn, RowCondition>>;
}

/** Far after any event: a column no reader needs whole from a time on is loaded only where `columnsWhere` says. */
export const NEVER = '9999-12-31T23:59:59Z';

/**
 * For each loaded column that no reader needs from the run window's start, the time from which one does: rows
 * before it need not hold the column (the engine may load it as NULL there). A 90-day inventory aggregate and a
 * handful of 7- and 30-day checks then load the wide text columns (user agents, request parameters) for the last 30
 * days only. Columns every run needs (time, eventID, category) and columns read from the start are left out. A reader
 * that reads a column only in some records (`rows`) does not count here but in `columnsWhere`; a column only such
 * readers read gets `NEVER`. Times are `YYYY-MM-DDTHH:MM:SSZ`, which compare as strings.
 */
export function columnsSince(readers: readonly WindowReader[], runStart: string): Partial<Record<CloudTrailColumn, string>> {
  const since: Partial<Record<CloudTrailColumn, string>> = {};
  for (const reader of readers) {
    for (const column of columnsUsedBy([reader.sql])) {
      const start = reader.rows?.[column] !== undefined ? NEVER : reader.start < runStart ? runStart : reader.start;
      const known = since[column];
      if (known === undefined || start < known) since[column] = start;
    }
  }
  for (const column of Object.keys(since) as CloudTrailColumn[]) {
    if (ALWAYS.includes(column) || since[column]! <= runStart) delete since[column];
  }
  return since;
}

/**
 * For the columns of `since` (see `columnsSince`) that a reader reads only in some records (`WindowReader.rows`), the
 * records before their time that must hold them all the same: any reader's condition, from its own start.
 */
export function columnsWhere(
  readers: readonly WindowReader[],
  since: Partial<Record<CloudTrailColumn, string>>,
  runStart: string,
): Partial<Record<CloudTrailColumn, RowCondition>> {
  const where: Partial<Record<CloudTrailColumn, RowCondition>> = {};
  for (const column of Object.keys(since) as CloudTrailColumn[]) {
    const conditions = readers.flatMap((reader): RowCondition[] => {
      const condition = reader.rows?.[column];
      if (condition === undefined || !columnsUsedBy([reader.sql]).includes(column)) return [];
      return [reader.start <= runStart ? condition : (c) => `(${c('eventtime')} >= '${reader.start}' AND ${condition(c)})`];
    });
    if (conditions.length > 0) where[column] = (c) => conditions.map((condition) => `(${condition(c)})`).join(' OR ');
  }
  return where;
}
