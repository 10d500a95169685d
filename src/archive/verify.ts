import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ArchiveError } from '../core/errors.js';
import { MANIFEST } from './layout.js';

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

/** A file read back from a run folder. */
export interface StoredBytes {
  readonly bytes: Buffer;
  /** The SHA-256 (hex) the store itself keeps for the object, where it keeps one (S3 with checksums). */
  readonly storedSha256?: string;
}

/** A run folder's files, wherever they are kept: what verification needs and nothing more. */
export interface RunFiles {
  readonly location: string;
  locationOf(name: string): string;
  /** The file's bytes; undefined when it is missing. */
  read(name: string): Promise<StoredBytes | undefined>;
  /** Every file name in the folder, sorted. */
  names(): Promise<string[]>;
}

interface ManifestFiles {
  run_id?: unknown;
  as_of?: unknown;
  files?: { name?: unknown; bytes?: unknown; sha256?: unknown }[];
}

/** A run folder on local disk. */
export class LocalRunFiles implements RunFiles {
  readonly location: string;

  constructor(dir: string) {
    this.location = dir;
  }

  locationOf(name: string): string {
    return path.join(this.location, name);
  }

  async read(name: string): Promise<StoredBytes | undefined> {
    try {
      return { bytes: await readFile(this.locationOf(name)) };
    } catch {
      return undefined;
    }
  }

  async names(): Promise<string[]> {
    return (await readdir(this.location)).sort();
  }
}

/**
 * Checks a run folder against its manifest, as an auditor would months later: every file listed must be
 * there with the same size and SHA-256, and nothing else may have been added.
 */
export async function verifyRun(files: RunFiles): Promise<VerifyResult> {
  const manifestLocation = files.locationOf(MANIFEST);
  const manifestBytes = await files.read(MANIFEST);
  if (!manifestBytes) throw new ArchiveError(`${manifestLocation}: cannot read the manifest (a run folder without one is incomplete)`);
  let manifest: ManifestFiles;
  try {
    manifest = JSON.parse(manifestBytes.bytes.toString('utf8')) as ManifestFiles;
  } catch (error) {
    throw new ArchiveError(`${manifestLocation}: the manifest is not valid JSON`, { cause: error });
  }
  if (!Array.isArray(manifest.files)) throw new ArchiveError(`${manifestLocation}: files: expected a list of {name, bytes, sha256}`);
  const verified: string[] = [];
  const problems: string[] = [];
  const listed = new Set<string>([MANIFEST]);
  for (const entry of manifest.files) {
    const name = String(entry.name);
    listed.add(name);
    if (path.posix.basename(name) !== name || path.win32.basename(name) !== name) {
      problems.push(`${name}: not a plain file name`);
      continue;
    }
    const stored = await files.read(name);
    if (!stored) {
      problems.push(`${name}: missing`);
      continue;
    }
    const sha256 = createHash('sha256').update(stored.bytes).digest('hex');
    if (sha256 !== entry.sha256 || stored.bytes.byteLength !== entry.bytes) {
      problems.push(`${name}: changed (SHA-256 ${sha256}, ${stored.bytes.byteLength} bytes; the manifest says ${String(entry.sha256)}, ${String(entry.bytes)} bytes)`);
    } else if (stored.storedSha256 !== undefined && stored.storedSha256 !== entry.sha256) {
      problems.push(`${name}: the store's own SHA-256 checksum ${stored.storedSha256} differs from the manifest's ${String(entry.sha256)}`);
    } else {
      verified.push(name);
    }
  }
  for (const name of await files.names()) {
    if (!listed.has(name)) problems.push(`${name}: not in the manifest (added after the run)`);
  }
  return { runId: String(manifest.run_id), asOf: String(manifest.as_of), location: files.location, verified, problems };
}

/** Checks a local run folder against its manifest. */
export async function verifyRunFolder(dir: string): Promise<VerifyResult> {
  return verifyRun(new LocalRunFiles(dir));
}
