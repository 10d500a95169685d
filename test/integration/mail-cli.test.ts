import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { record, tempDir, writeLogFile } from '../support/fixtures.js';
import { addresses, sha256, selfSignedCert, SES_TEST_ENV, startSesPeer, startSmtpPeer, type SesPeer } from '../support/mail-peers.js';
import { awsEnv, startS3 } from '../support/s3.js';

const AS_OF = '2026-11-23T08:00:00Z';
const CHECKS = path.resolve('config/checks');
const HOSTILE_AGENT = '<script>alert("root")</script>';

interface Manifest {
  run_id: string;
  checks: { id: string; file: { name: string; bytes: number; sha256: string } | null }[];
  files: { name: string; bytes: number; sha256: string }[];
}

let logs: string;
let ses: SesPeer;

beforeAll(async () => {
  // A few hand-written events: an assumed role, root activity with a hostile user agent, a refused call.
  logs = await tempDir('trailwarden-mail-logs-');
  const root = { type: 'Root', principalId: '111111111111', arn: 'arn:aws:iam::111111111111:root', accountId: '111111111111' };
  await writeLogFile(logs, {
    day: '2026/11/21',
    records: [
      record({ eventTime: '2026-11-21T09:00:00Z' }),
      record({
        eventTime: '2026-11-21T09:05:00Z',
        eventSource: 'iam.amazonaws.com',
        eventName: 'CreateAccessKey',
        userIdentity: root,
        userAgent: HOSTILE_AGENT,
        readOnly: false,
      }),
      record({ eventTime: '2026-11-21T09:10:00Z', eventName: 'TerminateInstances', errorCode: 'UnauthorizedOperation', errorMessage: 'no' }),
    ],
  });
  await writeLogFile(logs, { day: '2026/11/22', region: 'eu-west-1', records: [record({ eventTime: '2026-11-22T10:00:00Z', awsRegion: 'eu-west-1' })] });
  ses = await startSesPeer();
});
afterAll(async () => {
  await ses.stop();
});

async function writeConfig(dir: string, mail: string): Promise<string> {
  const file = path.join(dir, 'trailwarden.yaml');
  await writeFile(file, `source: { kind: local, path: ${logs} }\narchive: { kind: local, path: archive }\nchecks: { path: ${CHECKS} }\nmail:\n${mail}`);
  return file;
}

function sesMail(options: { attachMaxBytes?: number } = {}): string {
  return [
    '  kind: ses',
    '  region: us-east-1',
    `  endpoint: ${ses.endpoint}`,
    '  configuration_set: trailwarden-reports',
    '  tags: { app: trailwarden }',
    '  from: "trailwarden <tw@example.com>"',
    '  to: [security@example.com, audit@example.com]',
    `  attach_max_bytes: ${options.attachMaxBytes ?? 5_000_000}`,
    '',
  ].join('\n');
}

async function onlyRunFolder(dir: string): Promise<string> {
  const day = path.join(dir, 'archive', '2026', '11', '23');
  const runs = await readdir(day);
  expect(runs).toHaveLength(1);
  return path.join(day, runs[0]!);
}

/** The raw messages SES received for a run, parsed, in the order sent. */
async function sesMessagesOf(runId: string): Promise<ParsedMail[]> {
  const parsed = await Promise.all(ses.sendEmailRequests().map((r) => simpleParser(Buffer.from(r.Content.Raw!.Data, 'base64'))));
  return parsed.filter((m) => m.headers.get('x-trailwarden-run-id') === runId);
}

/** The received e-mail says what the archived run says: subject, recipients, both parts, and the very CSV bytes. */
async function expectMailMatchesRun(mail: ParsedMail, runDir: string, evidence: 'attached' | 'linked'): Promise<void> {
  const manifest = JSON.parse(await readFile(path.join(runDir, 'manifest.json'), 'utf8')) as Manifest;
  const report = JSON.parse(await readFile(path.join(runDir, 'report.json'), 'utf8')) as { subject: string; runId: string };
  expect(report.runId).toBe(manifest.run_id);
  expect(mail.subject).toBe(report.subject);
  expect(addresses(mail.to)).toEqual(['security@example.com', 'audit@example.com']);
  // A local archive has no links, so the mailed parts are the archived ones, byte for byte.
  expect(mail.html).toBe(await readFile(path.join(runDir, 'report.html'), 'utf8'));
  expect(mail.text).toBe(await readFile(path.join(runDir, 'report.txt'), 'utf8'));
  expect(String(mail.html)).not.toContain(HOSTILE_AGENT);
  const csvs = manifest.checks.flatMap((c) => (c.file ? [c.file] : []));
  expect(csvs.length).toBeGreaterThan(0);
  if (evidence === 'attached') {
    expect(mail.attachments.map((a) => [a.filename, sha256(a.content)])).toEqual(csvs.map((f) => [f.name, f.sha256]));
  } else {
    expect(mail.attachments).toEqual([]);
    for (const csv of csvs) expect(mail.text).toContain(path.join(runDir, csv.name));
  }
}

describe('trailwarden run with SES (aws-ses-v2-local)', () => {
  it('mails the archived report with every CSV attached, and archives report.json in the manifest', async () => {
    // Prepare
    const dir = await tempDir('trailwarden-mail-cli-');
    const config = await writeConfig(dir, sesMail());

    // Act
    const result = await runCli(['run', '--config', config, '--as-of', AS_OF], { env: SES_TEST_ENV });

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const runDir = await onlyRunFolder(dir);
    const manifest = JSON.parse(await readFile(path.join(runDir, 'manifest.json'), 'utf8')) as Manifest;
    const reportJson = manifest.files.find((f) => f.name === 'report.json');
    expect(reportJson?.sha256).toBe(sha256(await readFile(path.join(runDir, 'report.json'))));
    const [mail, ...others] = await sesMessagesOf(manifest.run_id);
    expect(others).toEqual([]);
    await expectMailMatchesRun(mail!, runDir, 'attached');
    expect(mail!.headers.get('x-trailwarden-resent')).toBeUndefined();
    const request = ses.sendEmailRequests().at(-1);
    expect(request).toMatchObject({ ConfigurationSetName: 'trailwarden-reports', EmailTags: [{ Name: 'app', Value: 'trailwarden' }] });
    expect(result.stdout).toMatch(/email: +SES message \S+ to security@example.com, audit@example.com/);
  });

  it('links (here: names) the CSVs instead of attaching them when they exceed attach_max_bytes', async () => {
    // Prepare
    const dir = await tempDir('trailwarden-mail-cli-');
    const config = await writeConfig(dir, sesMail({ attachMaxBytes: 100 }));

    // Act
    const result = await runCli(['run', '--config', config, '--as-of', AS_OF], { env: SES_TEST_ENV });

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const runDir = await onlyRunFolder(dir);
    const runId = path.basename(runDir);
    const [mail] = await sesMessagesOf(runId);
    await expectMailMatchesRun(mail!, runDir, 'linked');
    const sendPhase = result.stderr
      .split('\n')
      .filter((l) => l.includes('"phase":"send mail"'))
      .map((l) => JSON.parse(l) as { evidence: string });
    expect(sendPhase).toMatchObject([{ evidence: 'linked' }]);
  });

  it('exits 1 when mail fails after the evidence is archived, names the run and the re-send command, which then delivers it', async () => {
    // Prepare: SES unreachable (every connection dropped unanswered)
    const dir = await tempDir('trailwarden-mail-cli-');
    const config = await writeConfig(dir, sesMail());
    ses.proxy.dropNext(1_000);

    // Act
    const failed = await runCli(['run', '--config', config, '--as-of', AS_OF], { env: SES_TEST_ENV });
    ses.proxy.heal();

    // Assess: exit 1, a complete archive, the failure logged with the run id and the exact command
    expect(failed.code).toBe(1);
    const runDir = await onlyRunFolder(dir);
    const runId = path.basename(runDir);
    const verified = await runCli(['verify', runDir]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toContain('all 24 files match the manifest');
    const errorLine = failed.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.level === 50);
    const command = `trailwarden resend ${runId} --config ${config}`;
    expect(errorLine).toMatchObject({ runId, resend: command, evidence: runDir });
    expect(String(errorLine?.msg)).toContain(runId);
    expect(failed.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^trailwarden: run ${runId}: the evidence is archived in .*, but the report e-mail was not sent .*Re-send it with: ${command.replaceAll('/', '\\/')}$`,
      ),
    );
    expect(await sesMessagesOf(runId)).toEqual([]);

    // Act: the exact command from the log
    const resent = await runCli(command.split(' ').slice(1), { env: SES_TEST_ENV });

    // Assess: delivered, marked as a re-send, with the archived report and CSVs
    expect(resent.code, resent.stderr).toBe(0);
    expect(resent.stdout).toContain(`re-sent the report of run ${runId}`);
    const [mail, ...others] = await sesMessagesOf(runId);
    expect(others).toEqual([]);
    expect(mail!.headers.get('x-trailwarden-resent')).toBe('true');
    await expectMailMatchesRun(mail!, runDir, 'attached');
  });

  it('refuses to re-send an unknown run or an incomplete one (no manifest)', async () => {
    // Prepare: an interrupted run: a folder with evidence but no manifest
    const dir = await tempDir('trailwarden-mail-cli-');
    const config = await writeConfig(dir, sesMail());
    const interrupted = path.join(dir, 'archive', '2026', '11', '23', '20261123T080000Z-deadbeef');
    await mkdir(interrupted, { recursive: true });
    await writeFile(path.join(interrupted, 'root_activity_7d.csv'), 'event_time\r\n');
    const before = ses.sendEmailRequests().length;

    // Act
    const incomplete = await runCli(['resend', '20261123T080000Z-deadbeef', '--config', config], { env: SES_TEST_ENV });
    const unknown = await runCli(['resend', '20261123T080000Z-00000000', '--config', config], { env: SES_TEST_ENV });

    // Assess
    expect(incomplete.code).toBe(1);
    expect(incomplete.stderr).toMatch(/run 20261123T080000Z-deadbeef .*incomplete.*manifest\.json/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no run 20261123T080000Z-00000000 in the archive');
    expect(ses.sendEmailRequests().length).toBe(before);
  });
});

describe('trailwarden run with SMTP (smtp-server, STARTTLS)', () => {
  it('relays the report over STARTTLS with the credentials from the environment', async () => {
    // Prepare
    const tls = await selfSignedCert();
    const peer = await startSmtpPeer({ starttls: true, tls, login: { user: 'reporter', password: 's3cret-from-env' } });
    const dir = await tempDir('trailwarden-mail-cli-');
    const config = await writeConfig(
      dir,
      `  kind: smtp\n  host: 127.0.0.1\n  port: ${peer.port}\n  username_env: TW_SMTP_USER\n  password_env: TW_SMTP_PASSWORD\n  from: "trailwarden <tw@example.com>"\n  to: [security@example.com, audit@example.com]\n`,
    );
    try {
      // Act: the relay's certificate is trusted the way an operator would (NODE_EXTRA_CA_CERTS)
      const result = await runCli(['run', '--config', config, '--as-of', AS_OF], {
        env: { TW_SMTP_USER: 'reporter', TW_SMTP_PASSWORD: 's3cret-from-env', NODE_EXTRA_CA_CERTS: tls.certFile },
      });

      // Assess
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr + result.stdout).not.toContain('s3cret-from-env');
      expect(peer.received).toHaveLength(1);
      expect(peer.received[0]).toMatchObject({ secure: true, user: 'reporter', from: 'tw@example.com', to: ['security@example.com', 'audit@example.com'] });
      await expectMailMatchesRun(await simpleParser(peer.received[0]!.raw), await onlyRunFolder(dir), 'attached');
    } finally {
      await peer.stop();
    }
  });

  it('stops before running anything when a credential variable is missing, naming it', async () => {
    // Prepare
    const dir = await tempDir('trailwarden-mail-cli-');
    const config = await writeConfig(
      dir,
      '  kind: smtp\n  host: 127.0.0.1\n  username_env: TW_SMTP_USER\n  password_env: TW_SMTP_PASSWORD\n  from: tw@example.com\n  to: [security@example.com]\n',
    );

    // Act
    const result = await runCli(['run', '--config', config, '--as-of', AS_OF], { env: { TW_SMTP_USER: 'reporter', TW_SMTP_PASSWORD: '' } });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('mail.password_env: the environment variable TW_SMTP_PASSWORD is not set');
    expect(existsSync(path.join(dir, 'archive'))).toBe(false);
  });
});

describe('trailwarden run with an S3 archive (s3rver) and SES', () => {
  it('links each CSV with a presigned URL that downloads the archived bytes, in the run and again in a re-send', async () => {
    // Prepare: CSVs above attach_max_bytes, evidence in S3
    const s3 = await startS3();
    try {
      const bucket = await s3.createBucket('evidence');
      const dir = await tempDir('trailwarden-mail-cli-');
      const file = path.join(dir, 'trailwarden.yaml');
      await writeFile(
        file,
        `source: { kind: local, path: ${logs} }\narchive: { kind: s3, bucket: ${bucket}, prefix: tw/, endpoint: "${s3.endpoint}", force_path_style: true, region: us-east-1 }\nchecks: { path: ${CHECKS} }\nmail:\n${sesMail({ attachMaxBytes: 100 })}`,
      );

      // Act
      const result = await runCli(['run', '--config', file, '--as-of', AS_OF], { env: { ...awsEnv } });
      expect(result.code, result.stderr).toBe(0);
      const manifestKey = (await s3.listKeys(bucket, 'tw/2026/11/23/')).find((k) => k.endsWith('/manifest.json'))!;
      const manifest = JSON.parse((await s3.get(bucket, manifestKey)).toString('utf8')) as Manifest;
      const resent = await runCli(['resend', manifest.run_id, '--config', file], { env: { ...awsEnv } });

      // Assess: both messages link every CSV; each link downloads exactly the archived, manifest-listed bytes
      expect(resent.code, resent.stderr).toBe(0);
      const messages = await sesMessagesOf(manifest.run_id);
      expect(messages.map((m) => m.headers.get('x-trailwarden-resent') ?? 'original')).toEqual(['original', 'true']);
      for (const mail of messages) {
        expect(mail.attachments).toEqual([]);
        expect(mail.subject).toBe(
          (JSON.parse((await s3.get(bucket, manifestKey.replace('manifest.json', 'report.json'))).toString('utf8')) as { subject: string }).subject,
        );
        for (const csv of manifest.checks.flatMap((c) => (c.file ? [c.file] : []))) {
          const url = mail.text?.match(new RegExp(`^Download: (http\\S+/${csv.name}\\?\\S+)$`, 'm'))?.[1];
          expect(url, `${csv.name} linked in the text part`).toBeDefined();
          expect(String(mail.html)).toContain(`href="${url!.replaceAll('&', '&amp;').replaceAll('=', '&#x3D;')}"`);
          const download = await fetch(url!);
          expect(download.status).toBe(200);
          expect(sha256(new Uint8Array(await download.arrayBuffer())), csv.name).toBe(csv.sha256);
        }
      }
    } finally {
      await s3.stop();
    }
  });
});
