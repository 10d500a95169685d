/**
 * Signing with a local Ed25519 private key (node:crypto). The key is a PEM PKCS#8 file the config names by path:
 * the secret itself never sits in the config.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { describeError, SigningError } from '../core/errors.js';
import { publicKeyFingerprint, spkiDer } from './public-key.js';
import type { ManifestSigner, SignerIdentity } from './types.js';

export interface Ed25519SignerOptions {
  /** A PEM PKCS#8 Ed25519 private key (`openssl genpkey -algorithm ed25519`). */
  readonly privateKeyFile: string;
  /** The name recorded as `key_id`; default `ed25519:<first 16 hex of the public key's SHA-256>`. */
  readonly keyId?: string;
  readonly log: Logger;
}

export class Ed25519Signer implements ManifestSigner {
  readonly kind = 'ed25519' as const;
  readonly #options: Ed25519SignerOptions;
  #loaded?: Promise<{ key: KeyObject; identity: SignerIdentity }>;

  constructor(options: Ed25519SignerOptions) {
    this.#options = options;
  }

  async #load(): Promise<{ key: KeyObject; identity: SignerIdentity }> {
    const file = this.#options.privateKeyFile;
    let pem: Buffer;
    let mode: number;
    try {
      pem = await readFile(file);
      mode = (await stat(file)).mode;
    } catch (error) {
      throw new SigningError(`signing.private_key_file: cannot read ${file} (${describeError(error)})`, { cause: error });
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch (error) {
      throw new SigningError(`signing.private_key_file: ${file} is not a PEM private key (expected PKCS#8, as openssl genpkey -algorithm ed25519 writes)`, {
        cause: error,
      });
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new SigningError(`signing.private_key_file: ${file} holds a ${key.asymmetricKeyType} key; expected an Ed25519 key`);
    }
    // POSIX permissions only: group or others able to read the private key can sign evidence as trailwarden.
    if (process.platform !== 'win32' && (mode & 0o044) !== 0) {
      this.#options.log.warn(
        { file, mode: (mode & 0o777).toString(8) },
        `the Ed25519 private key ${file} is readable by its group or others; restrict it with chmod 600`,
      );
    }
    const publicKeyDer = spkiDer(key);
    const fingerprint = publicKeyFingerprint(publicKeyDer);
    return {
      key,
      identity: {
        kind: 'ed25519',
        key_id: this.#options.keyId ?? `ed25519:${fingerprint.slice(0, 16)}`,
        algorithm: 'ED25519',
        public_key_sha256: fingerprint,
        publicKeyDer,
      },
    };
  }

  async identity(): Promise<SignerIdentity> {
    this.#loaded ??= this.#load();
    return (await this.#loaded).identity;
  }

  async sign(bytes: Buffer): Promise<Buffer> {
    this.#loaded ??= this.#load();
    return sign(null, bytes, (await this.#loaded).key);
  }
}
