import { describe, expect, it } from 'vitest';
import { columnsUsedBy } from '../../src/core/cloudtrail-table.js';
import { recordType } from '../../src/engines/duckdb.js';

describe('columnsUsedBy', () => {
  it('loads the columns a check names, plus those the run itself needs', () => {
    const used = columnsUsedBy(["SELECT useridentity.arn, json_extract_scalar(responseelements, '$.x') FROM cloudtrail_window WHERE eventtime >= ?"]);
    expect(used).toEqual(['useridentity', 'eventtime', 'responseelements', 'eventid', 'eventcategory']);
  });

  it('loads every column for a query that selects *, but not for count(*)', () => {
    expect(columnsUsedBy(['SELECT * FROM cloudtrail_window'])).toHaveLength(25);
    expect(columnsUsedBy(['SELECT w.* FROM cloudtrail_window w'])).toHaveLength(25);
    expect(columnsUsedBy(['SELECT count(*) FROM cloudtrail_window /* not * all */'])).toEqual(['eventtime', 'eventid', 'eventcategory']);
  });

  it('reads exactly those keys, with CloudTrail camelCase spelling', () => {
    const type = recordType(['useridentity', 'eventtime', 'sourceipaddress']);
    expect(type).toMatch(/^STRUCT\(userIdentity STRUCT\(/);
    expect(type).toContain('eventTime VARCHAR');
    expect(type).toContain('sourceIPAddress VARCHAR');
    expect(type).not.toContain('requestParameters');
  });
});
