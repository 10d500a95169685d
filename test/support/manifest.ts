import { createHash } from 'node:crypto';
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
