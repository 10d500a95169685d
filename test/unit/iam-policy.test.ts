import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import * as athena from '@aws-sdk/client-athena';
import * as iam from '@aws-sdk/client-iam';
import * as kms from '@aws-sdk/client-kms';
import * as s3 from '@aws-sdk/client-s3';
import * as sesv2 from '@aws-sdk/client-sesv2';
import * as sts from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';

/** The SDK modules the code talks to, with the IAM service prefix of each. */
const SERVICES: readonly { prefix: string; module: Record<string, unknown> }[] = [
  { prefix: 'athena', module: athena },
  { prefix: 's3', module: s3 },
  { prefix: 'ses', module: sesv2 },
  { prefix: 'iam', module: iam },
  { prefix: 'sts', module: sts },
  { prefix: 'kms', module: kms },
];

/** API operations whose IAM action has another name (AWS's Service Authorization Reference). */
const ACTION_FOR: Readonly<Record<string, string>> = {
  's3:HeadObject': 's3:GetObject',
  's3:ListObjectsV2': 's3:ListBucket',
  's3:DeleteObjects': 's3:DeleteObject',
};

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
}

/** Every AWS operation the source code calls, as `service:Operation`, from `new XCommand(` and `paginateX(`. */
async function operationsCalled(): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const file of await sourceFiles('src')) {
    const text = await readFile(file, 'utf8');
    const names = [...text.matchAll(/new (\w+)Command\(/g), ...text.matchAll(/\bpaginate(\w+)\(/g)].map((m) => m[1]!);
    for (const name of names) {
      const service = SERVICES.find(({ module }) => `${name}Command` in module);
      if (!service) continue;
      const action = `${service.prefix}:${name}`;
      found.set(action, [...(found.get(action) ?? []), file]);
    }
  }
  return found;
}

async function readmePolicyActions(): Promise<Set<string>> {
  const readme = await readFile('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('### The IAM policy the job needs'));
  const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (!json) throw new Error('README.md: no JSON policy under "### The IAM policy the job needs"');
  const policy = JSON.parse(json) as { Statement: { Effect: string; Action: string | string[] }[] };
  return new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
}

describe('the minimal IAM policy in the README', () => {
  it('grants every AWS API call the code makes', async () => {
    // Prepare
    const allowed = await readmePolicyActions();

    // Act
    const called = await operationsCalled();

    // Assess: the scan found the calls we know exist, and each maps to an allowed action
    expect([...called.keys()]).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 's3:PutObject', 'ses:SendEmail', 'kms:Sign', 'kms:GetPublicKey']));
    const missing = [...called.entries()]
      .map(([operation, files]) => ({ action: ACTION_FOR[operation] ?? operation, files }))
      .filter(({ action }) => !allowed.has(action))
      .map(({ action, files }) => `${action} (called in ${[...new Set(files)].join(', ')})`);
    expect(missing).toEqual([]);
  });
});
