import { readManifest, sha256Hex } from '../archive/read-back.js';
import type { ArchivedRun } from '../archive/types.js';
import { MANIFEST_FILE } from '../core/manifest.js';

export interface VerifyResult {
  readonly runId: string;
  readonly asOf: string;
  /** Where the run folder is (a path or an s3:// URL). */
  readonly location: string;
  /** Files whose size and SHA-256 match the manifest. */
  readonly verified: readonly string[];
  /** One line per problem: changed, missing or unexpected files. */
  readonly problems: readonly string[];
}

/**
 * `trailwarden verify`: checks a run folder against its manifest, as an auditor would months later: every file
 * listed must be there with the same size and SHA-256, and nothing else may have been added. Works on any
 * archive's read-back (local folder, S3 prefix).
 */
export async function verifyRun(run: ArchivedRun): Promise<VerifyResult> {
  const manifest = await readManifest(run);
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
  const listed = new Set([MANIFEST_FILE, ...manifest.files.map((file) => file.name)]);
  for (const name of await run.names()) {
    if (!listed.has(name)) problems.push(`${name}: not in the manifest (added after the run)`);
  }
  return { runId: manifest.run_id, asOf: manifest.as_of, location: run.location, verified, problems };
}
