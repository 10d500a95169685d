import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { duckDbTypeOf, parseHiveColumns, readDeliveryFile } from '../support/hive-json-table.js';

/** The Athena test server reads CloudTrail as Hive's JsonSerDe does; these are the rules it relies on. */
describe("the test server's JsonSerDe reading", () => {
  const columns = parseHiveColumns(`  eventid STRING,
  useridentity STRUCT<
    type: STRING,
    sessioncontext: STRUCT<
      webidfederationdata: STRUCT<
        federatedprovider: STRING,
        attributes: MAP<STRING,STRING>>>>,
  requestparameters STRING,
  readonly STRING,
  resources ARRAY<STRUCT<
    arn: STRING>>`);
  const file = (document: unknown) => gzipSync(JSON.stringify(document));

  it('parses the DDL column list into DuckDB types under the same lower-case names', () => {
    expect(columns.map((c) => `${c.name} ${duckDbTypeOf(c.type)}`)).toEqual([
      'eventid VARCHAR',
      'useridentity STRUCT("type" VARCHAR, "sessioncontext" STRUCT("webidfederationdata" STRUCT("federatedprovider" VARCHAR, "attributes" MAP(VARCHAR, VARCHAR))))',
      'requestparameters VARCHAR',
      'readonly VARCHAR',
      'resources STRUCT("arn" VARCHAR)[]',
    ]);
  });

  it('matches keys case-insensitively, keeps map keys and free-form JSON as written, and ignores undeclared keys', () => {
    const record = {
      eventID: 'e-1',
      userIdentity: { type: 'WebIdentityUser', sessionContext: { webIdFederationData: { federatedProvider: 'idp', attributes: { 'Idp:Sub': 'x' } } } },
      requestParameters: { userName: 'Bob', nested: { Key: 1 } },
      readOnly: true,
      resources: [{ ARN: 'arn:1' }],
      managementEvent: true,
    };

    const [row] = readDeliveryFile(file({ Records: [record] }), true, columns);

    expect(row).toEqual({
      eventid: 'e-1',
      useridentity: { type: 'WebIdentityUser', sessioncontext: { webidfederationdata: { federatedprovider: 'idp', attributes: { 'Idp:Sub': 'x' } } } },
      requestparameters: '{"userName":"Bob","nested":{"Key":1}}',
      readonly: 'true',
      resources: [{ arn: 'arn:1' }],
    });
  });

  it('cannot read a truncated gzip, text that is not JSON, or a value whose shape contradicts the DDL', () => {
    const gz = file({ Records: [{ eventID: 'e-1' }] });

    expect(() => readDeliveryFile(gz.subarray(0, gz.length / 2), true, columns)).toThrow();
    expect(() => readDeliveryFile(Buffer.from('{"Records": ['), false, columns)).toThrow();
    expect(() => readDeliveryFile(file({ Records: [{ userIdentity: 'root' }] }), true, columns)).toThrow(/useridentity: not a JSON object/);
    expect(readDeliveryFile(file({ Records: [] }), true, columns)).toEqual([]);
  });
});
