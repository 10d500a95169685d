import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { MailMessage } from './types.js';

/**
 * Builds the complete RFC 5322 message (multipart/alternative: text, then HTML) once, for every
 * transport: the outbox stores it as `.eml`, SES sends it as raw content, SMTP relays it.
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
