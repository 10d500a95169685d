/**
 * Verifying a manifest signature locally with node:crypto: an auditor needs the run folder (and, to pin the signer,
 * the expected public key), never AWS access.
 */
import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from '../core/manifest-signature.js';

/** SHA-256 (hex) of a public key's SPKI DER bytes: `openssl pkey -pubin -in key.pem -outform DER | sha256sum`. */
export function publicKeyFingerprint(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('hex');
}

/** The SPKI DER bytes of a PEM (or DER) public key, or of a private key's public half. */
export function spkiDer(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' });
}

/** Why the key cannot verify this algorithm; undefined when it can. */
export function keyAlgorithmMismatch(key: KeyObject, algorithm: SigningAlgorithm): string | undefined {
  const type = key.asymmetricKeyType;
  if (algorithm === 'ED25519') return type === 'ed25519' ? undefined : `a ${type} key cannot verify ${algorithm}`;
  if (algorithm === 'ECDSA_SHA_256') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return type === 'ec' && curve === 'prime256v1' ? undefined : `${algorithm} needs a P-256 key, not ${type}${curve ? ` ${curve}` : ''}`;
  }
  return type === 'rsa' ? undefined : `${algorithm} needs an RSA key, not ${type}`;
}

/**
 * Whether `signature` is `algorithm`'s signature of `message` by `publicKeyDer` (SPKI DER). KMS's ECDSA signatures
 * are DER (r, s); its RSA-PSS uses a salt as long as the digest (32 bytes for SHA-256) and MGF1 with SHA-256.
 */
export function verifySignature(algorithm: SigningAlgorithm, message: Uint8Array, publicKeyDer: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
  if (keyAlgorithmMismatch(key, algorithm)) return false;
  switch (algorithm) {
    case 'ED25519':
      return verify(null, message, key, signature);
    case 'ECDSA_SHA_256':
      return verify('sha256', message, { key, dsaEncoding: 'der' }, signature);
    case 'RSASSA_PSS_SHA_256':
      return verify('sha256', message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
    case 'RSASSA_PKCS1_V1_5_SHA_256':
      return verify('sha256', message, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  }
}
