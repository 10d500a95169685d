import { readManifestWithBytes, sha256Hex } from '../archive/read-back.js';
import type { ArchivedRun } from '../archive/types.js';
import { describeError } from '../core/errors.js';
import { MANIFEST_FILE, type StoredManifest } from '../core/manifest.js';
import { parseSignature, SIGNATURE_FILE, type SigningAlgorithm } from '../core/manifest-signature.js';
import { publicKeyFingerprint, verifySignature } from '../signing/public-key.js';

/** A good signature: who signed. */
export interface SignedBy {
  readonly keyId: string;
  readonly algorithm: SigningAlgorithm;
  /** SHA-256 (hex) of the signer's public key (SPKI DER). */
  readonly publicKeySha256: string;
  /** Whether the key is one of the trusted keys; undefined when none were given (the signer is not pinned). */
  readonly pinned?: boolean;
}

export interface VerifyOptions {
  /** Fingerprints (SHA-256 hex of SPKI DER) of the keys a signature must be by; absent: any key, "not pinned". */
  readonly trustedKeys?: ReadonlySet<string>;
}

export interface VerifyResult {
  readonly runId: string;
  readonly asOf: string;
  /** Where the run folder is (a path or an s3:// URL). */
  readonly location: string;
  /** Files whose size and SHA-256 match the manifest. */
  readonly verified: readonly string[];
  /** One line per problem: changed, missing or unexpected files; a missing, bad or untrusted signature. */
  readonly problems: readonly string[];
  /** The good signature; undefined when the run is unsigned or its signature has a problem. */
  readonly signedBy?: SignedBy;
  /** The manifest as read (for the chain's walk). */
  readonly manifest: StoredManifest;
}

/** How a signed-by reads: `<key id> (<algorithm>, public key SHA-256 <fingerprint>)`. */
export function describeSigner(signer: SignedBy): string {
  return `${signer.keyId} (${signer.algorithm}, public key SHA-256 ${signer.publicKeySha256})`;
}

/**
 * `trailwarden verify`: checks a run folder against its manifest, as an auditor would months later: every file
 * listed must be there with the same size and SHA-256, and nothing else may have been added; the signature sidecar,
 * when the run has one or its manifest says it should, must be a good signature of the exact manifest bytes (by a
 * trusted key, when keys are given). Works on any archive's read-back (local folder, S3 prefix).
 */
export async function verifyRun(run: ArchivedRun, options: VerifyOptions = {}): Promise<VerifyResult> {
  const { manifest, bytes: manifestBytes } = await readManifestWithBytes(run);
  const verified: string[] = [];
  const problems: string[] = [];
  for (const entry of manifest.files) {
    const stored = await run.read(entry.name);
    if (!stored) {
      problems.push(`${entry.name}: missing`);
      continue;
    }
    const sha256 = sha256Hex(stored.bytes);
    if (sha256 !== entry.sha256 || stored.bytes.byteLength !== entry.bytes) {
      problems.push(`${entry.name}: changed (SHA-256 ${sha256}, ${stored.bytes.byteLength} bytes; the manifest says ${entry.sha256}, ${entry.bytes} bytes)`);
    } else if (stored.storedSha256 !== undefined && stored.storedSha256 !== entry.sha256) {
      problems.push(`${entry.name}: the store's own SHA-256 checksum ${stored.storedSha256} differs from the manifest's ${entry.sha256}`);
    } else {
      verified.push(entry.name);
    }
  }
  // The signature sidecar is written after the manifest, so the manifest cannot list it: expected, not "added".
  const listed = new Set([MANIFEST_FILE, SIGNATURE_FILE, ...manifest.files.map((file) => file.name)]);
  for (const name of await run.names()) {
    if (!listed.has(name)) problems.push(`${name}: not in the manifest (added after the run)`);
  }
  const signature = await checkSignature(run, manifest, manifestBytes, options);
  problems.push(...signature.problems);
  return {
    runId: manifest.run_id,
    asOf: manifest.as_of,
    location: run.location,
    verified,
    problems,
    ...(signature.signedBy ? { signedBy: signature.signedBy } : {}),
    manifest,
  };
}

async function checkSignature(
  run: ArchivedRun,
  manifest: StoredManifest,
  manifestBytes: Buffer,
  { trustedKeys }: VerifyOptions,
): Promise<{ problems: string[]; signedBy?: SignedBy }> {
  const expected = manifest.signing;
  const sidecar = await run.read(SIGNATURE_FILE);
  if (!sidecar) {
    if (expected) return { problems: [`${SIGNATURE_FILE}: missing, but the manifest says the run was signed by ${expected.key_id} (removed?)`] };
    if (trustedKeys) return { problems: [`${MANIFEST_FILE}: not signed, but --trusted-key expects a signature`] };
    return { problems: [] };
  }
  let signature;
  try {
    signature = parseSignature(sidecar.bytes.toString('utf8'), run.locationOf(SIGNATURE_FILE));
  } catch (error) {
    return { problems: [`${SIGNATURE_FILE}: ${describeError(error)}`] };
  }
  const problems: string[] = [];
  if (!expected) problems.push(`${SIGNATURE_FILE}: the manifest records no signing key (signature added after the run?)`);
  else if (expected.key_id !== signature.key_id || expected.algorithm !== signature.algorithm || expected.public_key_sha256 !== signature.public_key_sha256) {
    problems.push(
      `${SIGNATURE_FILE}: signed by ${signature.key_id} (${signature.algorithm}, public key SHA-256 ${signature.public_key_sha256}), but the manifest names ${expected.key_id} (${expected.algorithm}, public key SHA-256 ${expected.public_key_sha256})`,
    );
  }
  const publicKey = Buffer.from(signature.public_key, 'base64');
  if (publicKeyFingerprint(publicKey) !== signature.public_key_sha256) {
    problems.push(`${SIGNATURE_FILE}: public_key does not match public_key_sha256`);
  }
  const actual = sha256Hex(manifestBytes);
  if (actual !== signature.manifest_sha256) {
    problems.push(`${MANIFEST_FILE}: changed after it was signed (SHA-256 ${actual}; signed ${signature.manifest_sha256})`);
  }
  let good = false;
  try {
    good = verifySignature(signature.algorithm, manifestBytes, publicKey, Buffer.from(signature.signature, 'base64'));
  } catch (error) {
    problems.push(`${SIGNATURE_FILE}: the public key cannot be read (${describeError(error)})`);
  }
  if (!good) problems.push(`${SIGNATURE_FILE}: the signature does not verify against manifest.json with the key it names (${signature.key_id})`);
  if (problems.length > 0) return { problems };
  const signedBy: SignedBy = {
    keyId: signature.key_id,
    algorithm: signature.algorithm,
    publicKeySha256: signature.public_key_sha256,
    ...(trustedKeys ? { pinned: trustedKeys.has(signature.public_key_sha256) } : {}),
  };
  if (signedBy.pinned === false) return { problems: [`${SIGNATURE_FILE}: signed by ${describeSigner(signedBy)}, which is not a trusted key`] };
  return { problems, signedBy };
}
