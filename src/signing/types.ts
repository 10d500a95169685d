import type { ManifestSigning } from '../core/manifest-signature.js';

/** Who signs, as recorded in the manifest, and the public key (SPKI DER) the sidecar carries. */
export interface SignerIdentity extends ManifestSigning {
  readonly publicKeyDer: Buffer;
}

/**
 * Signs a run's `manifest.json` bytes. One interface, one file per kind (`ed25519.ts`, `kms.ts`), built in the
 * registry from the config's `signing:` section.
 */
export interface ManifestSigner {
  readonly kind: ManifestSigning['kind'];
  /**
   * The key, loaded or fetched once per signer (one per run: a KMS alias re-pointed between runs is then recorded
   * as the new key). Fails with a clear error when the key is unusable: called at the start of a run.
   */
  identity(): Promise<SignerIdentity>;
  /** The signature over exactly these bytes (base64-ready raw bytes; DER for ECDSA). */
  sign(bytes: Buffer): Promise<Buffer>;
}
