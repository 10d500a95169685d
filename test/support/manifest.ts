import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildManifest, type Manifest, type ManifestFile } from '../../src/core/manifest.js';

/** A valid manifest of a run with no checks, listing `files`: for archive tests that need one to read back. */
export function manifestOf(runId: string, files: readonly ManifestFile[], asOf = new Date('2026-11-23T08:00:00Z')): Manifest {
  return buildManifest({
    runId,
    toolVersion: '0.0.0-test',
    asOf,
    generatedAt: asOf,
    window: { start: new Date(asOf.getTime() - 7 * 86_400_000), end: asOf },
    configDigest: '0'.repeat(64),
    source: 'test',
    engine: 'test',
    report: { verdict: 'pass' },
    stats: {
      filesRead: 0,
      filesSkipped: [],
      events: 0,
      duplicates: 0,
      recordsWithoutTime: 0,
      recordsDropped: [],
      conflicts: [],
      dataEvents: 0,
      accounts: [],
      regions: [],
    },
    checks: [],
    findings: [],
    files,
    sha256: (text) => createHash('sha256').update(text).digest('hex'),
  });
}

/**
 * Edits a CSV of the run folder `run` (appends a forged row) and its size and hash in manifest.json, as someone with
 * write access to the archive could; returns the undo.
 */
export async function forgeCsvAndHash(run: string, csvName = 'root_activity_7d.csv'): Promise<() => Promise<void>> {
  const csvFile = path.join(run, csvName);
  const manifestFile = path.join(run, 'manifest.json');
  const [csv, original] = await Promise.all([readFile(csvFile), readFile(manifestFile)]);
  const edited = `${csv.toString('utf8')}2026-11-20T10:00:00Z,111111111111,us-east-1,forged\r\n`;
  const manifest = JSON.parse(original.toString('utf8')) as {
    files: { name: string; bytes: number; sha256: string }[];
    checks: { file: { name: string; bytes: number; sha256: string } | null }[];
  };
  for (const entry of [...manifest.files, ...manifest.checks.flatMap((c) => (c.file ? [c.file] : []))]) {
    if (entry.name === csvName) Object.assign(entry, { bytes: Buffer.byteLength(edited), sha256: createHash('sha256').update(edited).digest('hex') });
  }
  await writeFile(csvFile, edited);
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return async () => {
    await writeFile(csvFile, csv);
    await writeFile(manifestFile, original);
  };
}
