import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AS_OF } from '../../src/demo/generate.js';
import { runCli } from '../support/cli.js';
import { generateDemoWithTruth, type DemoWithTruth } from '../support/demo-with-truth.js';
import { tempDir } from '../support/fixtures.js';

interface Answer {
  role: string;
  verdicts: { action: string; usage: string; calls: number; lastSeen: string | null; sessions: string[]; reason: string; grantedBy: string | null }[];
}

let demo: DemoWithTruth;

beforeAll(async () => {
  demo = await generateDemoWithTruth({ outDir: await tempDir('trailwarden-usage-') });
});

/** The truth's row of role_permission_usage_90d for a role (by ARN suffix) and action. */
function truthRow(roleSuffix: string, action: string): string[] {
  const row = demo.truthWithInventory.checks.role_permission_usage_90d!.rows.find((r) => r[0]!.endsWith(roleSuffix) && r[2] === action);
  if (!row) throw new Error(`no truth row for ${roleSuffix} ${action}`);
  return row;
}

async function usage(...args: string[]): Promise<{ code: number; answer?: Answer; stdout: string; stderr: string }> {
  const result = await runCli(['usage', '--logs', demo.outDir, '--inventory', demo.inventoryDir, '--as-of', DEMO_AS_OF, '--json', ...args]);
  return { ...result, answer: result.code === 0 ? (JSON.parse(result.stdout) as Answer) : undefined };
}

describe('trailwarden usage', () => {
  it('answers for every action of a role what the ground truth says: used and unused ones', async () => {
    // Prepare: the truth's rows of the role, in the check's order
    const truth = demo.truthWithInventory.checks.role_permission_usage_90d!.rows.filter((r) => r[0]!.endsWith(':role/ci-deployer'));
    expect(truth.map((r) => r[3])).toEqual(expect.arrayContaining(['used', 'unused', 'unknown']));

    // Act
    const result = await usage('--role', 'ci-deployer');

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.answer!.role).toBe(truth[0]![0]);
    expect(result.answer!.verdicts).toEqual(
      truth.map((row) => ({
        action: row[2],
        usage: row[3],
        calls: Number(row[4]),
        lastSeen: row[5] || null,
        sessions: row[6] ? row[6].split('; ') : [],
        reason: row[7],
        grantedBy: row[8],
      })),
    );
    expect(result.answer!.verdicts.find((v) => v.action === 's3:GetObject')?.usage).toBe('used');
    expect(result.answer!.verdicts.find((v) => v.action === 's3:PutObject')?.usage).toBe('unused');
  });

  it('answers "unknown" for a data-plane action of an account whose data events are not logged, as the truth does', async () => {
    const truth = truthRow(':role/gh-actions-deploy', 's3:GetObject');
    const result = await usage('--role', 'gh-actions-deploy', '--action', 's3:GetObject');
    expect(result.code, result.stderr).toBe(0);
    expect(result.answer!.verdicts).toEqual([
      { action: 's3:GetObject', usage: 'unknown', calls: 0, lastSeen: null, sessions: [], reason: truth[7], grantedBy: truth[8] },
    ]);
    expect(truth[3]).toBe('unknown');
  });

  it('names the instances that used an instance role, and narrows to one of them with --session', async () => {
    // Prepare
    const truth = truthRow(':role/eks-node-group', 'ec2:DescribeInstances');
    const instance = truth[6]!.split('; ')[0]!;

    // Act
    const all = await usage('--role', 'eks-node-group', '--action', 'ec2:DescribeInstances');
    const one = await usage('--role', 'eks-node-group', '--action', 'ec2:DescribeInstances', '--session', instance);

    // Assess
    expect(all.answer!.verdicts[0]!.sessions).toEqual(truth[6]!.split('; '));
    expect(all.answer!.verdicts[0]!.sessions.every((s) => /^i-0[0-9a-f]{16}$/.test(s))).toBe(true);
    expect(one.answer!.verdicts[0]).toMatchObject({ usage: 'used', sessions: [instance] });
    expect(one.answer!.verdicts[0]!.calls).toBeLessThan(Number(truth[4]));
  });

  it('says "not granted" for an action no policy allows, and refuses an ambiguous role name', async () => {
    const notGranted = await usage('--role', 'ci-deployer', '--action', 'ec2:TerminateInstances');
    expect(notGranted.answer!.verdicts).toEqual([expect.objectContaining({ usage: 'not_granted' })]);

    const ambiguous = await usage('--role', 'AWSServiceRoleForSupport');
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('roles of several accounts have this name; give its ARN');
  });
});
