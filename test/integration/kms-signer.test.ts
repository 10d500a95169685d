import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyFingerprint, spkiDer, verifySignature } from '../../src/signing/public-key.js';
import { KmsSigner } from '../../src/signing/kms.js';
import { startKmsServer, type KmsServer } from '../support/kms-server.js';

describe('signing manifests with a KMS key (real SDK against our KMS-protocol server)', () => {
  let server: KmsServer;
  let client: KMSClient;
  const manifest = Buffer.from('{\n  "schema": "trailwarden.manifest/v2"\n}\n');

  beforeAll(async () => {
    server = await startKmsServer();
    client = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  for (const [spec, algorithm, expected] of [
    ['ECC_NIST_P256', undefined, 'ECDSA_SHA_256'],
    ['RSA_2048', undefined, 'RSASSA_PSS_SHA_256'],
    ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256'],
  ] as const) {
    it(`signs the SHA-256 digest with ${spec} (${expected}), and the signature verifies locally over the manifest bytes`, async () => {
      // Prepare
      const key = server.createKey(spec, `alias/trailwarden-${expected.toLowerCase()}`);
      const signer = new KmsSigner({ client, keyId: `alias/trailwarden-${expected.toLowerCase()}`, ...(algorithm ? { algorithm } : {}) });

      // Act
      const identity = await signer.identity();
      const signature = await signer.sign(manifest);

      // Assess: the ARN, not the alias, is recorded; anyone with the public key verifies, and an edit does not.
      expect(identity).toMatchObject({ kind: 'kms', key_id: key.arn, algorithm: expected, public_key_sha256: publicKeyFingerprint(spkiDer(key.publicKey)) });
      expect(verifySignature(expected, manifest, identity.publicKeyDer, signature)).toBe(true);
      expect(verifySignature(expected, Buffer.concat([manifest, Buffer.from(' ')]), identity.publicKeyDer, signature)).toBe(false);
    });
  }

  it('refuses an algorithm the key does not offer, naming what it offers', async () => {
    server.createKey('ECC_NIST_P256', 'alias/ec-only');
    const signer = new KmsSigner({ client, keyId: 'alias/ec-only', algorithm: 'RSASSA_PSS_SHA_256' });
    await expect(signer.identity()).rejects.toThrow(/signs with ECDSA_SHA_256; signing.algorithm RSASSA_PSS_SHA_256 is not among them/);
  });

  it('names the key when it does not exist', async () => {
    const signer = new KmsSigner({ client, keyId: 'alias/missing' });
    await expect(signer.identity()).rejects.toThrow(/cannot get the public key of KMS key alias\/missing .*does not exist/);
  });

  it('verifies Ed25519 and rejects a signature by another key', () => {
    const mine = generateKeyPairSync('ed25519');
    const theirs = generateKeyPairSync('ed25519');
    const signature = sign(null, manifest, mine.privateKey);
    expect(verifySignature('ED25519', manifest, spkiDer(mine.publicKey), signature)).toBe(true);
    expect(verifySignature('ED25519', manifest, spkiDer(theirs.publicKey), signature)).toBe(false);
    // An algorithm that does not fit the key is never "verified".
    expect(verifySignature('ECDSA_SHA_256', manifest, spkiDer(mine.publicKey), signature)).toBe(false);
    expect(createHash('sha256').update(spkiDer(mine.publicKey)).digest('hex')).toBe(publicKeyFingerprint(spkiDer(mine.privateKey)));
  });
});
