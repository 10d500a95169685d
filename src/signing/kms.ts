/**
 * Signing with an AWS KMS asymmetric key (`kms:Sign`, `kms:GetPublicKey`): KMS signs the SHA-256 digest of the
 * manifest bytes (`MessageType: DIGEST`), so the manifest itself never leaves the machine and its size never matters.
 * Verification is local (public-key.ts), with the public key GetPublicKey returned.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { describeError, SigningError } from '../core/errors.js';
import type { SigningAlgorithm } from '../core/manifest-signature.js';
import { keyAlgorithmMismatch, publicKeyFingerprint } from './public-key.js';
import type { ManifestSigner, SignerIdentity } from './types.js';

/** The KMS algorithms trailwarden signs with, in the order one is picked when none is configured. */
export const KMS_ALGORITHMS = ['ECDSA_SHA_256', 'RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256'] as const satisfies readonly SigningAlgorithm[];
export type KmsAlgorithm = (typeof KMS_ALGORITHMS)[number];

export interface KmsSignerOptions {
  readonly client: KMSClient;
  /** Key id, key ARN, alias name (`alias/…`) or alias ARN. */
  readonly keyId: string;
  /** Default: the first of KMS_ALGORITHMS the key's SigningAlgorithms lists. */
  readonly algorithm?: KmsAlgorithm;
}

export class KmsSigner implements ManifestSigner {
  readonly kind = 'kms' as const;
  readonly #options: KmsSignerOptions;
  #identity?: Promise<SignerIdentity>;

  constructor(options: KmsSignerOptions) {
    this.#options = options;
  }

  async #fetch(): Promise<SignerIdentity> {
    const { client, keyId } = this.#options;
    let response;
    try {
      response = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    } catch (error) {
      throw new SigningError(`signing: cannot get the public key of KMS key ${keyId} (kms:GetPublicKey): ${describeError(error)}`, { cause: error });
    }
    if (response.KeyUsage !== 'SIGN_VERIFY' || !response.PublicKey || !response.KeyId) {
      throw new SigningError(`signing: KMS key ${keyId} is not a signing key (KeyUsage ${response.KeyUsage ?? 'unknown'}; expected SIGN_VERIFY)`);
    }
    const offered = response.SigningAlgorithms ?? [];
    const algorithm = this.#options.algorithm ?? KMS_ALGORITHMS.find((a) => offered.includes(a));
    if (!algorithm || !offered.includes(algorithm)) {
      throw new SigningError(
        `signing: KMS key ${keyId} (${response.KeySpec ?? 'unknown key spec'}) signs with ${offered.join(', ') || 'nothing'}; ${
          this.#options.algorithm ? `signing.algorithm ${this.#options.algorithm} is not among them` : `trailwarden needs one of ${KMS_ALGORITHMS.join(', ')}`
        }`,
      );
    }
    const publicKeyDer = Buffer.from(response.PublicKey);
    const mismatch = keyAlgorithmMismatch(createPublicKey({ key: publicKeyDer, format: 'der', type: 'spki' }), algorithm);
    if (mismatch) throw new SigningError(`signing: KMS key ${keyId}: ${mismatch}`);
    return { kind: 'kms', key_id: response.KeyId, algorithm, public_key_sha256: publicKeyFingerprint(publicKeyDer), publicKeyDer };
  }

  identity(): Promise<SignerIdentity> {
    this.#identity ??= this.#fetch();
    return this.#identity;
  }

  async sign(bytes: Buffer): Promise<Buffer> {
    const identity = await this.identity();
    // The key ARN, not an alias: the alias may have been re-pointed since GetPublicKey; the ARN is the key recorded.
    let response;
    try {
      response = await this.#options.client.send(
        new SignCommand({
          KeyId: identity.key_id,
          Message: createHash('sha256').update(bytes).digest(),
          MessageType: 'DIGEST',
          SigningAlgorithm: identity.algorithm as SigningAlgorithmSpec,
        }),
      );
    } catch (error) {
      throw new SigningError(`KMS key ${identity.key_id} did not sign (kms:Sign): ${describeError(error)}`, { cause: error });
    }
    if (!response.Signature) throw new SigningError(`KMS key ${identity.key_id} returned no signature`);
    return Buffer.from(response.Signature);
  }
}
