import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSetup } from '../../src/config/load.js';
import { TrailwardenConfig } from '../../src/config/schema.js';
import { tempDir } from '../support/fixtures.js';

const BASE = {
  source: { kind: 'local', path: 'logs' },
  archive: { kind: 'local', path: 'archive' },
  mail: { kind: 'outbox', path: 'outbox', from: 'a@example.com', to: ['b@example.com'] },
};

describe('the signing: section', () => {
  it('names every wrong key at once: a KMS key without key_id, an algorithm KMS keys cannot sign manifests with, a secret in the config', () => {
    // Act
    const kms = TrailwardenConfig.safeParse({ ...BASE, signing: { kind: 'kms', algorithm: 'ECDSA_SHA_384' } });
    const ed = TrailwardenConfig.safeParse({ ...BASE, signing: { kind: 'ed25519', private_key: '-----BEGIN PRIVATE KEY-----' } });

    // Assess
    expect(kms.success).toBe(false);
    expect(kms.error!.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['signing.key_id', 'signing.algorithm']));
    expect(ed.success).toBe(false);
    expect(ed.error!.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['signing.private_key_file', 'signing']));
  });

  it('resolves the private key file relative to the config file', async () => {
    // Prepare
    const dir = await tempDir('trailwarden-signing-config-');
    const config = path.join(dir, 'trailwarden.yaml');
    await writeFile(
      config,
      [
        'source: { kind: local, path: logs }',
        'archive: { kind: local, path: archive }',
        'mail: { kind: outbox, path: outbox, from: a@example.com, to: [b@example.com] }',
        `checks: { path: ${JSON.stringify(path.resolve('config/checks'))} }`,
        'signing: { kind: ed25519, private_key_file: keys/signing.pem }',
        '',
      ].join('\n'),
    );

    // Act
    const { loaded } = await loadSetup(config);

    // Assess
    expect(loaded.config.signing).toEqual({ kind: 'ed25519', private_key_file: path.join(dir, 'keys', 'signing.pem') });
  });
});
