import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MailError } from '../core/errors.js';
import { composeMime } from './compose.js';
import type { MailMessage, MailTransport, SentMail } from './types.js';

export interface OutboxOptions {
  readonly path: string;
}

/** The embedded mail backend: each message becomes `<name>.eml` (the run id) in a folder, ready for any mail client. */
export class OutboxTransport implements MailTransport {
  readonly kind = 'outbox';
  readonly #dir: string;

  constructor(options: OutboxOptions) {
    this.#dir = path.resolve(options.path);
  }

  describe(): string {
    return `outbox folder ${this.#dir}`;
  }

  async send(message: MailMessage, name: string): Promise<SentMail> {
    // A folder has no size limit: the attached version is always the one stored.
    const { raw, messageId } = await composeMime(message);
    const file = path.join(this.#dir, `${name}.eml`);
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeFile(file, raw, { flag: 'wx' });
    } catch (error) {
      throw new MailError(`cannot write ${file}`, { cause: error });
    }
    return { messageId, location: file };
  }
}
