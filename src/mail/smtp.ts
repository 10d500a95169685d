import type { ConnectionOptions } from 'node:tls';
import { createTransport, type Transporter } from 'nodemailer';
import { ConfigError, MailError } from '../core/errors.js';
import { composeMime } from './compose.js';
import type { MailMessage, MailTransport, SentMail } from './types.js';

/** SMTP credentials, read from the environment at start; never from a file, never logged. */
export interface SmtpCredentials {
  readonly user: string;
  readonly password: string;
}

/** How to reach the SMTP relay. */
export interface SmtpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS from the first byte (port 465). */
  readonly secure: boolean;
  /** Refuse to send unless the server upgrades the connection with STARTTLS (ignored when `secure`). */
  readonly requireTls: boolean;
  readonly credentials?: SmtpCredentials;
  /** What the environment names the credentials by, for `describe()` (never the values). */
  readonly credentialsFrom?: string;
  /** Extra TLS options, e.g. `ca` to trust a private CA. */
  readonly tls?: ConnectionOptions;
}

/**
 * The user name and password from the environment variables the config names. A missing or empty variable
 * is a configuration error naming the variable, raised before anything runs.
 */
export function smtpCredentialsFromEnv(
  config: { readonly username_env?: string; readonly password_env?: string },
  env: NodeJS.ProcessEnv,
): SmtpCredentials | undefined {
  if (!config.username_env || !config.password_env) return undefined;
  const problems: string[] = [];
  const read = (key: 'username_env' | 'password_env', name: string): string => {
    const value = env[name];
    if (!value)
      problems.push(`mail.${key}: the environment variable ${name} is not set (it must hold the SMTP ${key === 'username_env' ? 'user name' : 'password'})`);
    return value ?? '';
  };
  const user = read('username_env', config.username_env);
  const password = read('password_env', config.password_env);
  if (problems.length > 0) throw new ConfigError('SMTP credentials', problems);
  return { user, password };
}

/** An SMTP relay via nodemailer, sending the raw MIME message every transport shares. */
export class SmtpTransport implements MailTransport {
  readonly kind = 'smtp';
  readonly #options: SmtpTransportOptions;
  readonly #transporter: Transporter;

  constructor(options: SmtpTransportOptions) {
    this.#options = options;
    // Not pooled: one connection per message, closed after it (a report a week needs no open connection).
    this.#transporter = createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure,
      // With requireTLS nodemailer fails when the server offers no STARTTLS, instead of sending in clear text.
      requireTLS: !options.secure && options.requireTls,
      auth: options.credentials ? { user: options.credentials.user, pass: options.credentials.password } : undefined,
      tls: options.tls,
      logger: false,
      debug: false,
    });
  }

  async close(): Promise<void> {
    this.#transporter.close();
  }

  describe(): string {
    const { host, port, secure, requireTls, credentialsFrom } = this.#options;
    const tls = secure ? 'implicit TLS' : requireTls ? 'STARTTLS required' : 'STARTTLS if offered';
    return `SMTP ${host}:${port} (${tls}${credentialsFrom ? `, credentials from ${credentialsFrom}` : ''})`;
  }

  async send(message: MailMessage, name: string): Promise<SentMail> {
    // An SMTP relay announces its own size limit and refuses a larger message with a clear reply: no guess here.
    const { raw, messageId } = await composeMime(message);
    try {
      const info = await this.#transporter.sendMail({ envelope: { from: message.from, to: [...message.to] }, raw });
      return { messageId, location: `SMTP ${this.#options.host}:${this.#options.port} (${String(info.response ?? 'accepted')}) to ${message.to.join(', ')}` };
    } catch (error) {
      // nodemailer's messages name the SMTP reply, never the credentials.
      throw new MailError(`SMTP delivery of ${name} to ${this.#options.host}:${this.#options.port} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
