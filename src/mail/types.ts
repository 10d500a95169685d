/** A report e-mail, independent of how it is sent. */
export interface MailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly attachments?: readonly { readonly filename: string; readonly content: string | Uint8Array; readonly contentType: string }[];
  /** Extra headers, e.g. the run id, so a message can be traced back to its evidence. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SentMail {
  readonly messageId: string;
  /** Where it went, for people: a file path, an SES message id… */
  readonly location: string;
}

/** Sends (or, for the outbox, stores) a report e-mail. */
export interface MailTransport {
  readonly kind: string;
  describe(): string;
  send(message: MailMessage, runId: string): Promise<SentMail>;
}
