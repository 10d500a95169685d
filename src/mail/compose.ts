import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { MailError } from '../core/errors.js';
import type { MailMessage } from './types.js';

/** A message in its final RFC 5322 form, as a transport sends it. */
export interface ComposedMail {
  readonly raw: Buffer;
  readonly messageId: string;
  /** True when `withoutAttachments` was composed because the attached message was too large. */
  readonly attachmentsDropped: boolean;
}

/**
 * Builds the complete RFC 5322 message (multipart/alternative: text, then HTML; CSVs as attachments) once, for
 * every transport: the outbox stores it as `.eml`, SES sends it as raw content, SMTP relays it.
 */
export async function composeMime(message: MailMessage): Promise<{ raw: Buffer; messageId: string }> {
  const composer = new MailComposer({
    from: message.from,
    to: [...message.to],
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: { ...message.headers },
    attachments: message.attachments?.map((a) => ({ filename: a.filename, content: Buffer.from(a.content), contentType: a.contentType })),
  });
  const mime = composer.compile();
  const raw = await mime.build();
  return { raw, messageId: mime.messageId() };
}

/** The message exceeds a transport's size limit even without its attachments. */
export class MailTooLargeError extends MailError {
  override readonly code = 'MAIL_TOO_LARGE';
}

function megabytes(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${Math.ceil(bytes / 1000)} kB`;
}

/**
 * Composes the message and measures it against a transport's limit: above it, the message's
 * `withoutAttachments` version is composed instead; a message too large even without attachments is a MailError.
 * The size measured is the encoded message (base64 makes attachments a third larger than the CSVs).
 */
export async function composeWithin(message: MailMessage, maxBytes: number, limit: string): Promise<ComposedMail> {
  const full = await composeMime(message);
  if (full.raw.byteLength <= maxBytes) return { ...full, attachmentsDropped: false };
  const fallback = message.withoutAttachments;
  if (fallback) {
    const smaller = await composeMime(fallback);
    if (smaller.raw.byteLength <= maxBytes) return { ...smaller, attachmentsDropped: true };
    throw new MailTooLargeError(
      `the report e-mail is ${megabytes(smaller.raw.byteLength)} even without attachments (${megabytes(full.raw.byteLength)} with them), above the ${limit} of ${megabytes(maxBytes)}; lower report.preview_rows`,
    );
  }
  throw new MailTooLargeError(`the report e-mail is ${megabytes(full.raw.byteLength)}, above the ${limit} of ${megabytes(maxBytes)}`);
}
