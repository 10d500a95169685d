import { readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { simpleParser } from 'mailparser';
import { runCli, type CliResult } from '../support/cli.js';
import { record, tempDir, writeLogFile } from '../support/fixtures.js';

/** The end of every window here; root_activity_7d looks at [2026-11-16T08:00Z, 2026-11-23T08:00Z). */
export const AS_OF = '2026-11-23T08:00:00Z';

/** A root user's CreateAccessKey (CIS 4.3): what root_activity_7d exists to catch. */
export function rootEvent(eventTime = '2026-11-21T09:15:02Z'): Record<string, unknown> {
  return record({
    eventTime,
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    userIdentity: { type: 'Root', principalId: '111111111111', arn: 'arn:aws:iam::111111111111:root', accountId: '111111111111' },
  });
}

/** Ordinary activity, so that the window is not empty (an empty window is an `error`, not this case). */
export function ordinaryEvents(): Record<string, unknown>[] {
  return ['2026-11-20T10:00:00Z', '2026-11-20T11:00:00Z', '2026-11-22T12:00:00Z'].map((eventTime) => record({ eventTime }));
}

/** The ways a log file of the window can hide its events from the checks; each puts the root event out of reach. */
export const UNREADABLE: readonly (readonly [string, (logs: string) => Promise<void>])[] = [
  [
    'a truncated .json.gz',
    async (logs) => {
      const whole = gzipSync(JSON.stringify({ Records: [rootEvent()] }));
      await writeLogFile(logs, { day: '2026/11/21', content: whole.subarray(0, Math.floor(whole.length / 2)) });
    },
  ],
  [
    // Cut inside its only record: nothing of it can be salvaged (a file cut after a complete record is read up to the cut).
    'a file that is not JSON',
    async (logs) => {
      await writeLogFile(logs, { day: '2026/11/21', content: gzipSync(`{"Records": [${JSON.stringify(rootEvent()).slice(0, 80)}`) });
    },
  ],
  [
    'JSON without a Records array',
    async (logs) => {
      await writeLogFile(logs, { day: '2026/11/21', content: gzipSync(JSON.stringify({ records: [rootEvent()] })) });
    },
  ],
  [
    'a root record without an eventTime',
    async (logs) => {
      const timeless = rootEvent();
      delete timeless.eventTime;
      await writeLogFile(logs, { day: '2026/11/21', records: [timeless] });
    },
  ],
  [
    'an empty file (skipped by the listing)',
    async (logs) => {
      await writeLogFile(logs, { day: '2026/11/21', content: Buffer.alloc(0) });
    },
  ],
  [
    'a dangling symbolic link (skipped by the listing)',
    async (logs) => {
      const file = await writeLogFile(logs, { day: '2026/11/21', records: [] });
      await symlink(
        path.join(logs, 'gone.json.gz'),
        path.join(path.dirname(file), '111111111111_CloudTrail_us-east-1_20261121T0905Z_dangling00000000.json.gz'),
      );
    },
  ],
];

export interface Run {
  readonly cli: CliResult;
  readonly manifest: {
    verdict: string;
    stats: { files_skipped: { path: string }[]; records_without_time: number };
    checks: { id: string; status: string; reason: string }[];
  };
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly status: (id: string) => string | undefined;
}

/** A config over the built-in checks with these `checks.overrides` (a YAML flow mapping); returns its path. */
export async function configWithOverrides(overrides: string): Promise<string> {
  const file = path.join(await tempDir('trailwarden-adv-cfg-'), 'trailwarden.yaml');
  await writeFile(
    file,
    [
      'source: { kind: local, path: logs }',
      'archive: { kind: local, path: archive }',
      'mail: { kind: outbox, path: outbox, from: tw@example.com, to: [security@example.com] }',
      `checks: { path: ${JSON.stringify(path.resolve('config/checks'))}, overrides: ${overrides} }`,
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * A log tree with ordinary activity, made incomplete by `spoil` (or not); `trailwarden run` on it, as a CI job
 * would, with the embedded default config or with `overrides` for `checks.overrides`.
 */
export async function runOn(spoil: ((logs: string) => Promise<void>) | undefined, args: string[] = [], overrides?: string): Promise<Run> {
  const logs = await tempDir('trailwarden-adv-logs-');
  const out = await tempDir('trailwarden-adv-out-');
  await writeLogFile(logs, { day: '2026/11/20', records: ordinaryEvents() });
  if (spoil) await spoil(logs);
  const configArgs = overrides === undefined ? [] : ['--config', await configWithOverrides(overrides)];
  const cli = await runCli(['run', ...configArgs, '--logs', logs, '--out', out, '--as-of', AS_OF, ...args]);
  if (cli.code !== 0 && cli.code !== 2) throw new Error(`trailwarden run failed (${cli.code}): ${cli.stderr}`);
  const dayDir = path.join(out, 'archive', '2026', '11', '23');
  const [runId] = await readdir(dayDir);
  const runDir = path.join(dayDir, runId!);
  const manifest = JSON.parse(await readFile(path.join(runDir, 'manifest.json'), 'utf8')) as Run['manifest'];
  const mail = await simpleParser(await readFile(path.join(out, 'outbox', `${runId}.eml`)));
  return {
    cli,
    manifest,
    subject: mail.subject ?? '',
    text: await readFile(path.join(runDir, 'report.txt'), 'utf8'),
    html: await readFile(path.join(runDir, 'report.html'), 'utf8'),
    status: (id) => manifest.checks.find((c) => c.id === id)?.status,
  };
}
