/**
 * `manifest.sig.json`: the signature over a run's exact `manifest.json` bytes, written right after it, with the
 * public key that verifies it. The key travels with the evidence so that an auditor needs no AWS access; that
 * also means anyone can re-sign with a key of their own, so a reader pins the expected key (`verify --trusted-key`).
 */
import { z } from 'zod';
import { ManifestError } from './errors.js';

/** The sidecar's file name, in every signed run folder. */
export const SIGNATURE_FILE = 'manifest.sig.json';
export const SIGNATURE_SCHEMA = 'trailwarden.manifest-signature/v1';

/** What a manifest can be signed with: Ed25519 (a local key) or a KMS asymmetric key's SHA-256 algorithms. */
export const SigningAlgorithm = z.enum(['ED25519', 'ECDSA_SHA_256', 'RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256']);
export type SigningAlgorithm = z.infer<typeof SigningAlgorithm>;

/** A SHA-256 digest in hex (also the manifest's, which imports it: this module is the one without imports of its own kind). */
export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 digest (64 hex characters)');
const Base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64');

/**
 * What `manifest.json` itself records about its signature: a manifest that says it is signed but has no sidecar
 * (deleted) is detected.
 */
export const ManifestSigning = z
  .object({
    kind: z.enum(['kms', 'ed25519']),
    /** The KMS key's ARN, or the Ed25519 key's name (`ed25519:<first 16 hex of its fingerprint>` unless configured). */
    key_id: z.string().min(1),
    algorithm: SigningAlgorithm,
    /** SHA-256 (hex) of the public key's SPKI DER bytes. */
    public_key_sha256: Sha256,
  })
  .strict();
export type ManifestSigning = z.infer<typeof ManifestSigning>;

/** The sidecar file. */
export const ManifestSignature = z
  .object({
    schema: z.literal(SIGNATURE_SCHEMA),
    /** SHA-256 (hex) of the `manifest.json` bytes signed. */
    manifest_sha256: Sha256,
    algorithm: SigningAlgorithm,
    key_id: z.string().min(1),
    /** The public key, SPKI DER in base64. */
    public_key: Base64,
    public_key_sha256: Sha256,
    /** base64; DER (r, s) for ECDSA, as KMS returns it. */
    signature: Base64,
  })
  .strict();
export type ManifestSignature = z.infer<typeof ManifestSignature>;

/** The sidecar's bytes as archived: two-space JSON and a final newline. */
export function serializeSignature(signature: ManifestSignature): string {
  return `${JSON.stringify(signature, null, 2)}\n`;
}

/** Each zod issue as `key.path: message` (`(top level)` for the document itself). */
export function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`);
}

/** An archived JSON document's text as a value; `where` names it when it is not JSON. */
export function parseJsonDocument(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ManifestError(where, ['not valid JSON'], { cause: error });
  }
}

/** Reads a sidecar back; every problem named with its key. */
export function parseSignature(text: string, where: string): ManifestSignature {
  const parsed = ManifestSignature.safeParse(parseJsonDocument(text, where));
  if (parsed.success) return parsed.data;
  throw new ManifestError(where, issuesOf(parsed.error));
}
