import { randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { record, writeLogFile } from './fixtures.js';

/** A root event as CloudTrail logs it (CIS 4.3: no invokedBy, not an AwsServiceEvent). */
export function rootRecord(
  account: string,
  eventTime: string,
  fields: Record<string, unknown> = {},
  identity: Record<string, unknown> = {},
): Record<string, unknown> {
  return record({
    eventTime,
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    recipientAccountId: account,
    sourceIPAddress: '203.0.113.200',
    userAgent: 'aws-cli/2.15.0',
    readOnly: false,
    userIdentity: {
      type: 'Root',
      principalId: account,
      arn: `arn:aws:iam::${account}:root`,
      accountId: account,
      accessKeyId: 'AKIAROOTEXAMPLE00001',
      sessionContext: { attributes: { creationDate: eventTime, mfaAuthenticated: 'true' } },
      ...identity,
    },
    ...fields,
  });
}

/**
 * Centralized root access as the IAM user guide documents it: the management account calls sts:AssumeRoot
 * (logged in the management account, an AssumedRole identity, the session's access key in the response), then
 * the member account logs the session's calls with `userIdentity.type` Root, that access key, and
 * `sessionContext.assumedRoot: "true"`.
 */
export function assumeRootPair(
  management: string,
  member: string,
  callTime: string,
  useTime: string,
): { call: Record<string, unknown>; use: Record<string, unknown> } {
  const key = `ASIA${randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase()}`;
  const call = record({
    eventTime: callTime,
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRoot',
    recipientAccountId: management,
    requestParameters: { targetPrincipal: member, taskPolicyArn: { arn: 'arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy' } },
    responseElements: { credentials: { accessKeyId: key, expiration: 'Nov 23, 2026, 10:15:00 AM' } },
  });
  const use = rootRecord(
    member,
    useTime,
    { eventSource: 's3.amazonaws.com', eventName: 'DeleteBucketPolicy', sourceIPAddress: '198.51.100.9' },
    { accessKeyId: key, sessionContext: { attributes: { creationDate: callTime, mfaAuthenticated: 'false' }, assumedRoot: 'true' } },
  );
  return { call, use };
}

/** Writes records as one delivery file of `account` on the 23 Nov 2026 folder. */
export async function deliver(logs: string, account: string, records: Record<string, unknown>[], day = '2026/11/23'): Promise<void> {
  await writeLogFile(logs, { account, day, records });
}

/** A config with DuckDB, the local `logs` tree, an outbox, a local state file and the given jobs YAML. */
export async function writeJobConfig(dir: string, jobsYaml: string[], extra: string[] = []): Promise<string> {
  const file = path.join(dir, 'trailwarden.yaml');
  await writeFile(
    file,
    [
      'source: { kind: local, path: logs }',
      'engine: { kind: duckdb, threads: 1 }',
      'archive: { kind: local, path: out/archive }',
      'mail: { kind: outbox, path: out/outbox, from: "trailwarden <tw@localhost>", to: [security@example.com] }',
      `checks: { path: ${JSON.stringify(path.resolve('config/checks'))} }`,
      'state: { kind: local, path: out/state/state.json }',
      'daemon: { health: { host: 127.0.0.1, port: 0 }, shutdown_grace_seconds: 60 }',
      'jobs:',
      ...jobsYaml.map((line) => `  ${line}`),
      ...extra,
    ].join('\n'),
  );
  return file;
}

/** Every .eml in the outbox, parsed, oldest name first. */
export async function outboxMails(outbox: string): Promise<(ParsedMail & { file: string })[]> {
  let names: string[];
  try {
    names = (await readdir(outbox)).filter((n) => n.endsWith('.eml')).sort();
  } catch {
    return [];
  }
  return Promise.all(names.map(async (name) => Object.assign(await simpleParser(await readFile(path.join(outbox, name))), { file: name })));
}
