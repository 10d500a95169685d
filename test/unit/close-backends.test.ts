import pino from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { closeBackends } from '../../src/app.js';

describe('closing the backends after a run', () => {
  it('closes every backend, and a failing close is logged without hiding the others or throwing', async () => {
    // Prepare
    const closed: string[] = [];
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const backend = (kind: string, fail = false) => ({
      kind,
      async close() {
        if (fail) throw new Error(`${kind} refused to close`);
        closed.push(kind);
      },
    });

    // Act
    await closeBackends(log, backend('s3'), backend('ses', true), undefined, { kind: 'local' }, backend('smtp'));

    // Assess
    expect(closed).toEqual(['s3', 'smtp']);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ backend: 'ses', msg: 'could not close a backend', err: { message: 'ses refused to close' } });
  });
});
