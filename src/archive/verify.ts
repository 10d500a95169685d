import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ArchiveError } from '../core/errors.js';

export interface VerifyResult {
  readonly runId: string;
  readonly asOf: string;
  /** Files whose size and SHA-256 match the manifest. */
  readonly verified: readonly string[];
  /** One line per problem: changed, missing or unexpected files. */
  readonly problems: readonly string[];
}

interface ManifestFiles {
  run_id?: unknown;
  as_of?: unknown;
  files?: { name?: unknown; bytes?: unknown; sha256?: unknown }[];
}

/**
 * Checks a local run folder against its manifest, as an auditor would months later: every file listed
 * must be there with the same size and SHA-256, and nothing else may have been added.
 */
export async function verifyRunFolder(dir: string): Promise<VerifyResult> {
  const manifestPath = path.join(dir, 'manifest.json');
  let manifest: ManifestFiles;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as ManifestFiles;
  } catch (error) {
    throw new ArchiveError(`${manifestPath}: cannot read the manifest (a run folder without one is incomplete)`, { cause: error });
  }
  if (!Array.isArray(manifest.files)) throw new ArchiveError(`${manifestPath}: files: expected a list of {name, bytes, sha256}`);
  const verified: string[] = [];
  const problems: string[] = [];
  const listed = new Set<string>(['manifest.json']);
  for (const entry of manifest.files) {
    const name = String(entry.name);
    listed.add(name);
    if (path.basename(name) !== name) {
      problems.push(`${name}: not a plain file name`);
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(dir, name));
    } catch {
      problems.push(`${name}: missing`);
      continue;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== entry.sha256 || bytes.byteLength !== entry.bytes) {
      problems.push(`${name}: changed (SHA-256 ${sha256}, ${bytes.byteLength} bytes; the manifest says ${String(entry.sha256)}, ${String(entry.bytes)} bytes)`);
    } else {
      verified.push(name);
    }
  }
  for (const name of (await readdir(dir)).sort()) {
    if (!listed.has(name)) problems.push(`${name}: not in the manifest (added after the run)`);
  }
  return { runId: String(manifest.run_id), asOf: String(manifest.as_of), verified, problems };
}
