import { createHash } from 'node:crypto';
import { ArchiveError } from '../core/errors.js';
import { MANIFEST_FILE, parseManifest, type StoredManifest } from '../core/manifest.js';
import type { ArchivedRun } from './types.js';

/** The SHA-256 (hex) of bytes read back. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A run folder's manifest, parsed and validated; an error names the folder when it is missing or invalid. */
export async function readManifest(run: ArchivedRun): Promise<StoredManifest> {
  return (await readManifestWithBytes(run)).manifest;
}

/** The manifest and the exact bytes it was parsed from (what its hash and signature are of), in one read. */
export async function readManifestWithBytes(run: ArchivedRun): Promise<{ manifest: StoredManifest; bytes: Buffer }> {
  const stored = await run.read(MANIFEST_FILE);
  // The manifest is written last: without it the run stopped before its evidence was complete.
  if (!stored) throw new ArchiveError(`${run.locationOf(MANIFEST_FILE)}: cannot read the manifest (a run folder without one is incomplete)`);
  return { manifest: parseManifest(stored.bytes.toString('utf8'), run.locationOf(MANIFEST_FILE)), bytes: stored.bytes };
}

/** Reads a file of the run and checks it against the manifest: nothing that changed since the run is used. */
export async function readVerified(run: ArchivedRun, manifest: StoredManifest, name: string): Promise<Buffer> {
  const entry = manifest.files.find((file) => file.name === name);
  if (!entry) throw new ArchiveError(`run ${manifest.run_id}: ${name} is not in its manifest (a run from before re-sending existed cannot be re-sent)`);
  const stored = await run.read(name);
  if (!stored) throw new ArchiveError(`${run.locationOf(name)}: no such file in run ${manifest.run_id}`);
  if (sha256Hex(stored.bytes) !== entry.sha256) {
    throw new ArchiveError(
      `run ${manifest.run_id}: ${name} no longer matches its SHA-256 in the manifest; not re-sending altered evidence (check the folder with trailwarden verify)`,
    );
  }
  return stored.bytes;
}
