import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import sesLocal from 'aws-ses-v2-local';
import type { ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';
import { startFlakyProxy, type FlakyProxy } from './flaky-proxy.js';
import { tempDir } from './fixtures.js';

/** Dummy credentials for the local SES peer (it checks that a SigV4 header is present, not what it says). */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The addresses of a parsed To/Cc field. */
export function addresses(field: ParsedMail['to']): string[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((a) => a.value.map((v) => v.address ?? ''));
}

export const SES_TEST_ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' } as const;

/** An e-mail as aws-ses-v2-local stores it (`GET /store`). */
export interface StoredSesEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  attachments: { content: string; contentType: string; filename?: string; size: number }[];
  at: number;
}

/** The JSON body of one SES v2 SendEmail call, as it went over the wire. */
export interface SendEmailRequest {
  FromEmailAddress?: string;
  Destination?: { ToAddresses?: string[] };
  ConfigurationSetName?: string;
  EmailTags?: { Name: string; Value: string }[];
  Content: { Raw?: { Data: string } };
}

export interface SesPeer {
  /** Give this to the client: a recording proxy in front of the peer (real HTTP both ways). */
  readonly endpoint: string;
  /** The proxy, e.g. to make the peer unreachable (`dropNext`) and back (`heal`). */
  readonly proxy: FlakyProxy;
  /** What the peer stored, oldest first. */
  emails(): Promise<StoredSesEmail[]>;
  /** Every SendEmail request body that reached the proxy and was forwarded to the peer. */
  sendEmailRequests(): SendEmailRequest[];
  /** An SDK client pointed at the peer, with dummy credentials. */
  client(): SESv2Client;
  stop(): Promise<void>;
}

// A CommonJS module with `exports.default`: depending on the loader, the default import is the function or its module.
type StartSesLocal = (config?: { host?: string; port?: number }) => Promise<Server>;
const sesLocalModule = sesLocal as unknown as StartSesLocal | { default: StartSesLocal };
const startSesLocal: StartSesLocal = typeof sesLocalModule === 'function' ? sesLocalModule : sesLocalModule.default;

/**
 * aws-ses-v2-local in-process on a free loopback port, behind a recording proxy so that what SES would receive
 * (configuration set, tags, the raw message with every header) can be read back; the peer's own store keeps
 * neither for raw messages. Its store is per process: tests tell their messages apart by run id.
 */
export async function startSesPeer(): Promise<SesPeer> {
  const server: Server = await startSesLocal({ host: '127.0.0.1', port: 0 });
  const peer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const proxy = await startFlakyProxy(peer);
  return {
    endpoint: proxy.endpoint,
    proxy,
    async emails() {
      const response = await fetch(`${peer}/store`);
      return ((await response.json()) as { emails: StoredSesEmail[] }).emails;
    },
    sendEmailRequests() {
      return proxy.requests
        .filter((r) => r.outcome === 'forwarded' && r.method === 'POST' && r.url.startsWith('/v2/email/outbound-emails'))
        .map((r) => JSON.parse(r.body.toString('utf8')) as SendEmailRequest);
    },
    client() {
      return new SESv2Client({ endpoint: proxy.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    },
    async stop() {
      await proxy.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI (EC P-256: milliseconds). */
export async function selfSignedCert(): Promise<{ key: string; cert: string; certFile: string }> {
  const dir = await tempDir('trailwarden-mail-cert-');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8'), certFile };
}

/** One message the SMTP peer accepted. */
export interface ReceivedSmtp {
  readonly raw: Buffer;
  readonly from: string;
  readonly to: string[];
  /** Whether the connection was TLS (after STARTTLS) when the message was sent. */
  readonly secure: boolean;
  /** The authenticated user, if any. */
  readonly user: string | undefined;
}

export interface SmtpPeer {
  readonly port: number;
  readonly received: ReceivedSmtp[];
  /** Failed AUTH attempts: user names only. */
  readonly refusedLogins: string[];
  stop(): Promise<void>;
}

/**
 * smtp-server on a free loopback port. With `starttls` it offers STARTTLS with the given certificate;
 * without, it never does (a relay an attacker could downgrade). With `login`, AUTH is required and only that
 * user and password are accepted. With `implicitTls` the connection is TLS from the first byte (port 465 style).
 */
export async function startSmtpPeer(options: {
  starttls: boolean;
  implicitTls?: boolean;
  tls?: { key: string; cert: string };
  login?: { user: string; password: string };
}): Promise<SmtpPeer> {
  const received: ReceivedSmtp[] = [];
  const refusedLogins: string[] = [];
  const server = new SMTPServer({
    secure: options.implicitTls ?? false,
    key: options.tls?.key,
    cert: options.tls?.cert,
    hideSTARTTLS: !options.starttls,
    disabledCommands: options.starttls ? [] : ['STARTTLS'],
    authOptional: !options.login,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth: SMTPServerAuthentication, _session: SMTPServerSession, callback) {
      if (options.login && auth.username === options.login.user && auth.password === options.login.password) {
        callback(null, { user: auth.username });
        return;
      }
      refusedLogins.push(auth.username ?? '');
      callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          raw: Buffer.concat(chunks),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = ((server as unknown as { server: Server }).server.address() as AddressInfo).port;
  return {
    port,
    received,
    refusedLogins,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
