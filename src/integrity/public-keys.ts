/**
 * CloudTrail's public keys, by fingerprint: what digest signatures are verified with. From CloudTrail's
 * `ListPublicKeys` (S3 source), or from a file holding that call's output (`aws cloudtrail list-public-keys >
 * keys.json`), configured as `integrity.public_keys_file`.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CloudTrailClient, ListPublicKeysCommand } from '@aws-sdk/client-cloudtrail';
import { z } from 'zod';
import { ConfigError, describeError, SourceError } from '../core/errors.js';
import { zodProblems } from '../core/catalog.js';

/** The keys a run can verify signatures with. */
export interface PublicKeys {
  /** Where they come from, for the report ("CloudTrail ListPublicKeys in us-east-1"). */
  readonly origin: string;
  get(fingerprint: string): KeyObject | undefined;
}

/**
 * A key's DER bytes as a key object: CloudTrail's keys are PKCS#1 RSA public keys; SubjectPublicKeyInfo is taken too.
 * The bytes may arrive base64-encoded once more (the AWS CLI decodes `Value` a second time), so both are tried.
 */
export function rsaPublicKey(der: Uint8Array): KeyObject {
  const attempts: Buffer[] = [Buffer.from(der)];
  const text = Buffer.from(der).toString('latin1');
  if (/^[A-Za-z0-9+/=\s]+$/.test(text)) attempts.push(Buffer.from(text, 'base64'));
  for (const bytes of attempts) {
    for (const type of ['pkcs1', 'spki'] as const) {
      try {
        return createPublicKey({ key: bytes, format: 'der', type });
      } catch {
        // next form
      }
    }
  }
  throw new Error('not a DER-encoded RSA public key (PKCS #1 or SubjectPublicKeyInfo)');
}

/** `aws cloudtrail list-public-keys` output: `Value` base64. */
export const PublicKeysFile = z.object({
  PublicKeyList: z.array(
    z.object({
      Value: z.string().min(1),
      Fingerprint: z.string().min(1),
      ValidityStartTime: z.string().optional(),
      ValidityEndTime: z.string().optional(),
    }),
  ),
});
export type PublicKeysFile = z.infer<typeof PublicKeysFile>;

function keyMap(origin: string, entries: readonly { fingerprint: string; der: Uint8Array }[]): PublicKeys {
  const keys = new Map(entries.map((entry) => [entry.fingerprint.toLowerCase(), rsaPublicKey(entry.der)]));
  return { origin, get: (fingerprint) => keys.get(fingerprint.toLowerCase()) };
}

/** Reads a file of `list-public-keys` output; a malformed one is a configuration error naming the file and key. */
export async function loadPublicKeysFile(file: string): Promise<PublicKeys> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(file, [`integrity.public_keys_file: cannot read it as JSON: ${describeError(error)}`]);
  }
  const parsed = PublicKeysFile.safeParse(raw);
  if (!parsed.success) throw new ConfigError(file, zodProblems('expected the output of aws cloudtrail list-public-keys', parsed.error));
  const problems: string[] = [];
  const entries = parsed.data.PublicKeyList.flatMap((key, i) => {
    const der = Buffer.from(key.Value, 'base64');
    try {
      rsaPublicKey(der);
      return [{ fingerprint: key.Fingerprint, der }];
    } catch (error) {
      problems.push(`PublicKeyList.${i}.Value: ${(error as Error).message}`);
      return [];
    }
  });
  if (problems.length > 0) throw new ConfigError(file, problems);
  return keyMap(`public keys file ${file}`, entries);
}

/** CloudTrail's keys valid in `[start, end]` (one ListPublicKeys call per page). */
export async function listCloudTrailPublicKeys(client: CloudTrailClient, start: Date, end: Date): Promise<PublicKeys> {
  const entries: { fingerprint: string; der: Uint8Array }[] = [];
  let token: string | undefined;
  const region = await client.config.region().catch(() => 'its default region');
  try {
    do {
      const page = await client.send(new ListPublicKeysCommand({ StartTime: start, EndTime: end, NextToken: token }));
      for (const key of page.PublicKeyList ?? []) if (key.Fingerprint && key.Value) entries.push({ fingerprint: key.Fingerprint, der: key.Value });
      token = page.NextToken;
    } while (token);
  } catch (error) {
    throw new SourceError(`cannot list CloudTrail's public keys (cloudtrail:ListPublicKeys in ${region}): ${describeError(error)}`, { cause: error });
  }
  return keyMap(`CloudTrail ListPublicKeys (${region})`, entries);
}
