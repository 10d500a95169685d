import type { ConnectionOptions } from 'node:tls';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { MailConfig } from '../config/schema.js';
import { OutboxTransport } from './outbox.js';
import { SesTransport } from './ses.js';
import { SmtpTransport, smtpCredentialsFromEnv } from './smtp.js';
import type { MailTransport } from './types.js';

/** What a mail backend may take from its caller instead of building it: clients and environment, for tests. */
export interface MailDependencies {
  /** A ready SES client (default: one built from `region` / `endpoint`, credentials from the default chain). */
  readonly sesClient?: SESv2Client;
  /** Where the SMTP credential variables are read (default: `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Extra TLS options for SMTP, e.g. a private CA. */
  readonly smtpTls?: ConnectionOptions;
}

/** Mail id → implementation. Configuration problems (a missing credential variable) surface here, before a run. */
export function createMailTransport(config: MailConfig, deps: MailDependencies = {}): MailTransport {
  switch (config.kind) {
    case 'outbox':
      return new OutboxTransport({ path: config.path });
    case 'ses':
      return new SesTransport({
        client: deps.sesClient,
        clientConfig: { region: config.region, endpoint: config.endpoint },
        configurationSet: config.configuration_set,
        tags: config.tags,
      });
    case 'smtp':
      return new SmtpTransport({
        host: config.host,
        port: config.port,
        secure: config.secure,
        requireTls: config.require_tls,
        credentials: smtpCredentialsFromEnv(config, deps.env ?? process.env),
        credentialsFrom: config.username_env && config.password_env ? `$${config.username_env} / $${config.password_env}` : undefined,
        tls: deps.smtpTls,
      });
  }
}
