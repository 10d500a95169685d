import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, MailError } from '../../src/core/errors.js';
import { AwsClients } from '../../src/aws/clients.js';
import type { MailConfig } from '../../src/config/schema.js';
import { build, MAIL_TRANSPORTS, type BackendContext } from '../../src/registry.js';
import { buildReportMail } from '../../src/mail/report-mail.js';
import { SesTransport } from '../../src/mail/ses.js';
import { ReportRenderer } from '../../src/render/report.js';
import { addresses, sha256, selfSignedCert, startSesPeer, startSmtpPeer, type SesPeer } from '../support/mail-peers.js';
import { HOSTILE_AGENT, sampleReport } from '../support/mail-report.js';
import { silentLog } from '../support/fixtures.js';

const FROM = 'trailwarden <tw@example.com>';
const TO = ['security@example.com', 'audit@example.com'];

let renderer: ReportRenderer;
let ses: SesPeer;
const clients = new AwsClients();

/** A mail transport as the composition root builds it from a config section. */
function createMailTransport(config: MailConfig, context: Pick<BackendContext, 'env' | 'smtpTls'> = {}) {
  return build(MAIL_TRANSPORTS, config, { log: silentLog, clients, ...context });
}

beforeAll(async () => {
  renderer = await ReportRenderer.load();
  ses = await startSesPeer();
});
afterAll(async () => {
  clients.destroy();
  await ses.stop();
});

async function reportMail(runId: string, options: { rows?: number; attachMaxBytes?: number; link?: (name: string) => Promise<string | undefined> } = {}) {
  const { report, csvs } = sampleReport(runId, options.rows);
  const built = await buildReportMail({
    report,
    renderer,
    from: FROM,
    to: TO,
    csvs,
    attachMaxBytes: options.attachMaxBytes ?? 5_000_000,
    link: options.link ?? (async () => undefined),
  });
  return { report, csvs, ...built };
}

describe('SES v2 transport against aws-ses-v2-local', () => {
  it('delivers the raw report message with its CSVs, configuration set and tags', async () => {
    // Prepare
    const { report, csvs, message } = await reportMail('run-ses-1');
    const transport = new SesTransport({ client: ses.client(), configurationSet: 'trailwarden-reports', tags: { app: 'trailwarden', run: 'run-ses-1' } });

    // Act
    const sent = await transport.send(message, 'run-ses-1');

    // Assess: the peer stored exactly this message
    const stored = (await ses.emails()).find((e) => e.subject === report.subject && e.body.text?.includes('run-ses-1'));
    expect(stored, 'stored by the peer').toBeDefined();
    expect(sent.location).toContain(stored!.messageId);
    // With raw content the peer records the To: header as one entry.
    expect(stored!.destination.to.join(', ')).toBe(TO.join(', '));
    expect(stored!.body.html).toBe(message.html);
    expect(stored!.body.html).not.toContain(HOSTILE_AGENT);
    expect(stored!.attachments.map((a) => [a.filename, sha256(Buffer.from(a.content, 'base64'))])).toEqual(csvs.map((c) => [c.name, sha256(c.content)]));

    // …and the request carried the configuration set, the tags and the run id header in the raw message.
    const request = ses.sendEmailRequests().find((r) => r.EmailTags?.some((t) => t.Value === 'run-ses-1'));
    expect(request?.ConfigurationSetName).toBe('trailwarden-reports');
    expect(request?.EmailTags).toEqual([
      { Name: 'app', Value: 'trailwarden' },
      { Name: 'run', Value: 'run-ses-1' },
    ]);
    expect(request?.Destination?.ToAddresses).toEqual(TO);
    const raw = await simpleParser(Buffer.from(request!.Content.Raw!.Data, 'base64'));
    expect(raw.headers.get('x-trailwarden-run-id')).toBe('run-ses-1');
    expect(raw.text).toBe(message.text);
  });

  it('drops the attachments for links when the message exceeds the SES size limit', async () => {
    // Prepare: a limit between the linked and the attached message's size
    const { report, message } = await reportMail('run-ses-2', {
      rows: 2000,
      link: async (name) => `https://evidence.example/run-ses-2/${name}?X-Amz-Signature=s`,
    });
    const transport = new SesTransport({ client: ses.client(), maxMessageBytes: 120_000 });

    // Act
    const sent = await transport.send(message, 'run-ses-2');

    // Assess
    expect(sent.attachmentsDropped).toBe(true);
    const stored = (await ses.emails()).find((e) => e.subject === report.subject && e.body.text?.includes('run-ses-2'));
    expect(stored?.attachments).toEqual([]);
    expect(stored?.body.text).toContain('Download: https://evidence.example/run-ses-2/root_activity_7d.csv?X-Amz-Signature=s');
  });

  it('refuses with a clear MailError when even the message without attachments is too large, and sends nothing', async () => {
    // Prepare
    const { message } = await reportMail('run-ses-3');
    const transport = new SesTransport({ client: ses.client(), maxMessageBytes: 2_000 });
    const before = ses.sendEmailRequests().length;

    // Act
    const failure = await transport.send(message, 'run-ses-3').catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(MailError);
    expect((failure as MailError).code).toBe('MAIL_TOO_LARGE');
    expect((failure as Error).message).toMatch(/even without attachments .* above the SES message size limit of 2 kB; lower report\.preview_rows/);
    expect(ses.sendEmailRequests().length).toBe(before);
  });

  it('builds its client from the config (endpoint, region; credentials from the default chain)', async () => {
    // Prepare: credentials only in the environment, as the default provider chain reads them
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'from-env', AWS_SECRET_ACCESS_KEY: 'from-env' });
    const { report, message } = await reportMail('run-ses-4');
    try {
      const transport = createMailTransport({ kind: 'ses', region: 'eu-west-1', endpoint: ses.endpoint, tags: {}, from: FROM, to: TO, attach_max_bytes: 1000 });

      // Act
      await transport.send(message, 'run-ses-4');
    } finally {
      process.env = saved;
    }

    // Assess: signed with the environment's key, for the configured region
    const signed = ses.proxy.requests.filter((r) => r.url.startsWith('/v2/email/outbound-emails')).at(-1);
    expect(String(signed?.headers.authorization)).toMatch(/Credential=from-env\/\d{8}\/eu-west-1\/ses\//);
    expect((await ses.emails()).some((e) => e.subject === report.subject && e.body.text?.includes('run-ses-4'))).toBe(true);
  });
});

describe('SMTP transport against smtp-server', () => {
  const env = { TW_SMTP_USER: 'reporter', TW_SMTP_PASSWORD: 'correct horse battery staple' };
  const smtpConfig = (port: number, overrides: Record<string, unknown> = {}) => ({
    kind: 'smtp' as const,
    host: '127.0.0.1',
    port,
    secure: false,
    require_tls: true,
    username_env: 'TW_SMTP_USER',
    password_env: 'TW_SMTP_PASSWORD',
    from: FROM,
    to: TO,
    attach_max_bytes: 5_000_000,
    ...overrides,
  });

  it('upgrades with STARTTLS, logs in with the credentials from the environment and relays the same message', async () => {
    // Prepare
    const tls = await selfSignedCert();
    const peer = await startSmtpPeer({ starttls: true, tls, login: { user: env.TW_SMTP_USER, password: env.TW_SMTP_PASSWORD } });
    const { report, csvs, message } = await reportMail('run-smtp-1');
    try {
      const transport = createMailTransport(smtpConfig(peer.port), { env, smtpTls: { ca: tls.cert } });

      // Act
      await transport.send(message, 'run-smtp-1');

      // Assess: over TLS, as the configured user, to every recipient, byte-equal content
      expect(peer.received).toHaveLength(1);
      const [received] = peer.received;
      expect(received).toMatchObject({ secure: true, user: 'reporter', from: 'tw@example.com', to: TO });
      expect(transport.describe()).not.toContain(env.TW_SMTP_PASSWORD);
      const mail = await simpleParser(received!.raw);
      expect(mail.subject).toBe(report.subject);
      expect(addresses(mail.to)).toEqual(TO);
      expect(mail.html).toBe(message.html);
      expect(mail.text).toBe(message.text);
      expect(mail.headers.get('x-trailwarden-run-id')).toBe('run-smtp-1');
      expect(mail.attachments.map((a) => [a.filename, sha256(a.content)])).toEqual(csvs.map((c) => [c.name, sha256(c.content)]));
    } finally {
      await peer.stop();
    }
  });

  it('speaks implicit TLS from the first byte with secure: true', async () => {
    // Prepare
    const tls = await selfSignedCert();
    const peer = await startSmtpPeer({ starttls: false, implicitTls: true, tls });
    const { message } = await reportMail('run-smtp-465');
    try {
      const transport = createMailTransport(smtpConfig(peer.port, { secure: true, username_env: undefined, password_env: undefined }), {
        smtpTls: { ca: tls.cert },
      });

      // Act
      await transport.send(message, 'run-smtp-465');

      // Assess
      expect(peer.received.map((r) => r.secure)).toEqual([true]);
      expect((await simpleParser(peer.received[0]!.raw)).headers.get('x-trailwarden-run-id')).toBe('run-smtp-465');
    } finally {
      await peer.stop();
    }
  });

  it('refuses to send when require_tls is set and the server offers no STARTTLS', async () => {
    // Prepare: a relay without STARTTLS (or one whose offer was stripped on the way)
    const peer = await startSmtpPeer({ starttls: false });
    const { message } = await reportMail('run-smtp-2');
    try {
      const transport = createMailTransport(smtpConfig(peer.port, { username_env: undefined, password_env: undefined }));

      // Act
      const failure = await transport.send(message, 'run-smtp-2').catch((error: unknown) => error);

      // Assess
      expect(failure).toBeInstanceOf(MailError);
      expect((failure as Error).message).toMatch(/STARTTLS/i);
      expect(peer.received).toEqual([]);
    } finally {
      await peer.stop();
    }
  });

  it('fails at configuration time, naming the variable, when a credential variable is missing', () => {
    // Act
    const failure = (() => {
      try {
        createMailTransport(smtpConfig(25), { env: { TW_SMTP_USER: 'reporter' } });
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).problems).toEqual([
      'mail.password_env: the environment variable TW_SMTP_PASSWORD is not set (it must hold the SMTP password)',
    ]);
  });

  it('reports a refused login as a MailError without the password in it', async () => {
    // Prepare
    const tls = await selfSignedCert();
    const peer = await startSmtpPeer({ starttls: true, tls, login: { user: 'reporter', password: 'the real one' } });
    const { message } = await reportMail('run-smtp-3');
    try {
      const transport = createMailTransport(smtpConfig(peer.port), { env, smtpTls: { ca: tls.cert } });

      // Act
      const failure = await transport.send(message, 'run-smtp-3').catch((error: unknown) => error);

      // Assess
      expect(failure).toBeInstanceOf(MailError);
      expect(peer.refusedLogins).toEqual(['reporter']);
      expect(peer.received).toEqual([]);
      expect(JSON.stringify({ message: (failure as Error).message, cause: String((failure as Error).cause) })).not.toContain(env.TW_SMTP_PASSWORD);
    } finally {
      await peer.stop();
    }
  });
});
