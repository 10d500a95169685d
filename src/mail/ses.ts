import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { MailError } from '../core/errors.js';
import { composeWithin } from './compose.js';
import type { MailMessage, MailTransport, SentMail } from './types.js';

/**
 * SES accepts messages up to 40 MB, measured on the encoded message. Decimal megabytes: a few hundred kB
 * below the binary reading, so a message that passes here is not refused by SES.
 */
export const SES_MAX_MESSAGE_BYTES = 40_000_000;

/** How to reach SES and what to send with every message. */
export interface SesTransportOptions {
  /** The SES client, built and destroyed by the composition root (a test hands in one pointed at a local peer). */
  readonly client: SESv2Client;
  /** An SES configuration set (event publishing, dedicated IPs…). */
  readonly configurationSet?: string;
  /** Message tags, e.g. for CloudWatch dimensions of the configuration set's events. */
  readonly tags?: Readonly<Record<string, string>>;
  /** The size limit; only tests lower it. */
  readonly maxMessageBytes?: number;
}

/** Amazon SES v2: `SendEmail` with the raw MIME message every transport shares. */
export class SesTransport implements MailTransport {
  readonly kind = 'ses';
  readonly #client: SESv2Client;
  readonly #configurationSet: string | undefined;
  readonly #tags: readonly { Name: string; Value: string }[];
  readonly #maxBytes: number;

  constructor(options: SesTransportOptions) {
    this.#client = options.client;
    this.#configurationSet = options.configurationSet;
    this.#tags = Object.entries(options.tags ?? {}).map(([Name, Value]) => ({ Name, Value }));
    this.#maxBytes = options.maxMessageBytes ?? SES_MAX_MESSAGE_BYTES;
  }

  describe(): string {
    return `Amazon SES${this.#configurationSet ? ` (configuration set ${this.#configurationSet})` : ''}`;
  }

  async send(message: MailMessage, name: string): Promise<SentMail> {
    const composed = await composeWithin(message, this.#maxBytes, 'SES message size limit');
    let messageId: string | undefined;
    try {
      const response = await this.#client.send(
        new SendEmailCommand({
          FromEmailAddress: message.from,
          // The same addresses as the message's headers: the envelope, as for SMTP.
          Destination: { ToAddresses: [...message.to] },
          Content: { Raw: { Data: composed.raw } },
          ConfigurationSetName: this.#configurationSet,
          EmailTags: this.#tags.length > 0 ? [...this.#tags] : undefined,
        }),
      );
      messageId = response.MessageId;
    } catch (error) {
      throw new MailError(`SES SendEmail for ${name} failed: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
    }
    return {
      messageId: messageId ?? composed.messageId,
      location: `SES message ${messageId ?? '(no id returned)'} to ${message.to.join(', ')}`,
      attachmentsDropped: composed.attachmentsDropped,
    };
  }
}
