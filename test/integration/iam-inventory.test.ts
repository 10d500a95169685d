/**
 * `inventory.kind: iam` against our IAM/STS query-protocol peer: the real SDK clients page through
 * GetAccountAuthorizationDetails, assume a role per listed account, and the run reports what the ground truth of the
 * same documents says — the API path and the file path must agree row by row.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AS_OF } from '../../src/demo/generate.js';
import { neutraliseCell } from '../../src/render/csv.js';
import { runCli } from '../support/cli.js';
import { computeTruth, INVENTORY_CHECKS } from '../support/demo-truth.js';
import { generateDemoWithTruth, type DemoWithTruth } from '../support/demo-with-truth.js';
import { tempDir } from '../support/fixtures.js';
import { startIamServer, type IamServer } from '../support/iam-server.js';

const [A, B] = ['111111111111', '222222222222'];
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIATESTDEFAULT00000', AWS_SECRET_ACCESS_KEY: 'test-secret', AWS_REGION: 'us-east-1' };

let demo: DemoWithTruth;
let server: IamServer;
let deniedServer: IamServer;

beforeAll(async () => {
  demo = await generateDemoWithTruth({ outDir: await tempDir('trailwarden-iam-') });
  const documents: Record<string, Record<string, unknown>> = {};
  for (const name of await readdir(demo.inventoryDir))
    documents[name.replace('.json', '')] = JSON.parse(await readFile(path.join(demo.inventoryDir, name), 'utf8')) as Record<string, unknown>;
  server = await startIamServer({ documents, defaultAccount: A });
  deniedServer = await startIamServer({ documents, defaultAccount: A, denyAssume: [B] });
});

afterAll(async () => {
  await server?.close();
  await deniedServer?.close();
});

async function configWith(inventory: string): Promise<{ file: string; out: string }> {
  const dir = await tempDir('trailwarden-iam-cfg-');
  const file = path.join(dir, 'trailwarden.yaml');
  await writeFile(
    file,
    [
      `source: { kind: local, path: ${JSON.stringify(demo.outDir)} }`,
      `inventory: ${inventory}`,
      'archive: { kind: local, path: out/archive }',
      'mail: { kind: outbox, path: out/outbox, from: tw@example.com, to: [a@example.com] }',
      `checks: { path: ${JSON.stringify(path.resolve('config/checks'))} }`,
      '',
    ].join('\n'),
  );
  return { file, out: path.join(dir, 'out') };
}

async function runDir(out: string): Promise<string> {
  const day = path.join(out, 'archive', '2026', '11', '23');
  const [name] = await readdir(day);
  return path.join(day, name!);
}

describe('inventory.kind: iam', () => {
  it('reads every listed account through an assumed role, page by page, and reports what the truth says', async () => {
    // Prepare
    const { file, out } = await configWith(`{ kind: iam, endpoint: ${server.endpoint}, accounts: ["${A}", "${B}"], role_name: InventoryReader }`);

    // Act
    const result = await runCli(['run', '--config', file, '--as-of', DEMO_AS_OF], { env: CREDENTIALS });

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const dir = await runDir(out);
    for (const id of INVENTORY_CHECKS) {
      const expected = demo.truthWithInventory.checks[id]!;
      expect(parseCsv(await readFile(path.join(dir, `${id}.csv`), 'utf8')), id).toEqual([expected.columns, ...expected.rows.map((r) => r.map(neutraliseCell))]);
    }
    // Several pages per account, each account read with its own assumed role's credentials.
    const reads = server.calls.filter((c) => c.action === 'GetAccountAuthorizationDetails');
    expect(new Set(reads.map((c) => c.account))).toEqual(new Set([A, B]));
    expect(reads.filter((c) => c.account === B).length).toBeGreaterThan(2);
    expect(server.calls.filter((c) => c.action === 'AssumeRole')).toHaveLength(2);
    // The documents judged are archived with the run.
    const archived = JSON.parse(await readFile(path.join(dir, `iam-inventory-${B}.json`), 'utf8')) as { RoleDetailList: { RoleName: string }[] };
    expect(archived.RoleDetailList.map((r) => r.RoleName)).toContain('s3-uploader');
  });

  it('reads the current account alone when no accounts are listed', async () => {
    // Prepare
    const { file, out } = await configWith(`{ kind: iam, endpoint: ${server.endpoint} }`);
    const onlyA = { ...demo.truthInventory, accounts: demo.truthInventory.accounts.filter((a) => a.account === A) };
    const expected = computeTruth(demo.truthEvents, DEMO_AS_OF, [], demo.truthWithInventory.partialFiles, onlyA);

    // Act
    const result = await runCli(['run', '--config', file, '--as-of', DEMO_AS_OF], { env: CREDENTIALS });

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const rows: string[][] = parseCsv(await readFile(path.join(await runDir(out), 'unused_roles_90d.csv'), 'utf8'));
    expect(rows.slice(1)).toEqual(expected.checks.unused_roles_90d!.rows);
    expect(rows.slice(1).every((r) => r[1] === A)).toBe(true);
  });

  it('stops the run, naming the account and the reason, when a role cannot be assumed: never a report on part of the inventory', async () => {
    const { file, out } = await configWith(`{ kind: iam, endpoint: ${deniedServer.endpoint}, accounts: ["${A}", "${B}"] }`);

    const result = await runCli(['run', '--config', file, '--as-of', DEMO_AS_OF], { env: CREDENTIALS });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`iam:${B}`);
    expect(result.stderr).toContain('not authorized to perform: sts:AssumeRole');
    await expect(readdir(path.join(out, 'archive'))).rejects.toThrow();
  });
});
