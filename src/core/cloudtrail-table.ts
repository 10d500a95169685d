/**
 * The columns of `cloudtrail_window`: the Athena CloudTrail table's lower-case names, plus `account`
 * and `region` taken from the log file's path (Athena's partition columns).
 */
export const CLOUDTRAIL_COLUMNS = [
  'eventversion',
  'useridentity',
  'eventtime',
  'eventsource',
  'eventname',
  'awsregion',
  'sourceipaddress',
  'useragent',
  'errorcode',
  'errormessage',
  'requestparameters',
  'responseelements',
  'additionaleventdata',
  'requestid',
  'eventid',
  'resources',
  'eventtype',
  'apiversion',
  'readonly',
  'recipientaccountid',
  'serviceeventdetails',
  'sharedeventid',
  'vpcendpointid',
  'eventcategory',
  'tlsdetails',
] as const;
export type CloudTrailColumn = (typeof CLOUDTRAIL_COLUMNS)[number];

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
  if (sqlTexts.some((sql) => sql.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\(\s*\*\s*\)/g, '').includes('*'))) return [...CLOUDTRAIL_COLUMNS];
  const words = new Set(sqlTexts.flatMap((sql) => sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []));
  return CLOUDTRAIL_COLUMNS.filter((column) => ALWAYS.includes(column) || words.has(column));
}
