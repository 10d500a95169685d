import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MailError } from '../core/errors.js';
import { writeFileAtomic, type WriteFileSystem } from '../fs/atomic-write.js';
import { composeMime } from './compose.js';
import type { MailMessage, MailTransport, SentMail } from './types.js';

export interface OutboxOptions {
  readonly path: string;
  /** The file-system calls messages are written with (default: node's); tests hand in one that fails like a full disk. */
  readonly fs?: WriteFileSystem;
}

/**
 * The embedded mail backend: each message becomes `<name>.eml` (the run id) in a folder, ready for any mail
 * client or a relay that picks up `*.eml`. A message appears whole or not at all: it is written under a hidden
 * `.….tmp` name, flushed, then linked into place, never over an existing message.
 */
export class OutboxTransport implements MailTransport {
  readonly kind = 'outbox';
  readonly #dir: string;
  readonly #fs: WriteFileSystem | undefined;

  constructor(options: OutboxOptions) {
    this.#dir = path.resolve(options.path);
    this.#fs = options.fs;
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
      await writeFileAtomic(file, raw, { exclusive: true, fs: this.#fs });
    } catch (error) {
      throw new MailError(`cannot write ${file}: ${(error as Error).message}`, { cause: error });
    }
    return { messageId, location: file };
  }
}
