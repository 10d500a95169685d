/** A file attached to a report e-mail. */
export interface MailAttachment {
  readonly filename: string;
  readonly content: string | Uint8Array;
  readonly contentType: string;
}

/** A report e-mail, independent of how it is sent. */
export interface MailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly attachments?: readonly MailAttachment[];
  /** Extra headers, e.g. the run id, so a message can be traced back to its evidence. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The same message with links (or locations) in place of the attachments. A transport whose size limit
   * the attached message exceeds (SES: 40 MB) sends this one instead of failing.
   */
  readonly withoutAttachments?: MailMessage;
}

export interface SentMail {
  readonly messageId: string;
  /** Where it went, for people: a file path, an SES message id… */
  readonly location: string;
  /** True when the transport's size limit made it send `withoutAttachments` instead. */
  readonly attachmentsDropped?: boolean;
}

/** Sends (or, for the outbox, stores) a report e-mail. */
export interface MailTransport {
  readonly kind: string;
  describe(): string;
  /**
   * Sends one message. `name` identifies it among the messages of this trailwarden (the run id, or a
   * re-send's name): the outbox names its file after it; the other transports only report it.
   */
  /** Releases what the backend holds (an SDK client it built itself, a connection); optional. */
  close?(): Promise<void>;
  send(message: MailMessage, name: string): Promise<SentMail>;
}
