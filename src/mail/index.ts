import type { MailConfig } from '../config/schema.js';
import { OutboxTransport } from './outbox.js';
import type { MailTransport } from './types.js';

/** Mail id → implementation. */
export function createMailTransport(config: MailConfig): MailTransport {
  switch (config.kind) {
    case 'outbox':
      return new OutboxTransport({ path: config.path });
    case 'ses':
      throw new Error('TODO(in progress): ses backend');
    case 'smtp':
      throw new Error('TODO(in progress): smtp backend');
  }
}
