import { ArchiveError } from '../core/errors.js';

/**
 * The archive layout every backend shares: `<root>/<yyyy>/<mm>/<dd>/<run-id>/<file>`, the date being the
 * report's as-of date (UTC), and `manifest.json` (core/manifest.ts) written last.
 */

/** `[yyyy, mm, dd]` of `date` in UTC. */
export function datePath(date: Date): [string, string, string] {
  const iso = date.toISOString();
  return [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
}

/** Run ids become folder names: no separators, nothing a shell or S3 console would mangle. */
export function assertRunId(runId: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(runId) || runId.startsWith('.')) throw new ArchiveError(`invalid run id "${runId}": expected letters, digits, _ . -`);
}

/** Evidence files are plain names inside the run folder. */
export function assertEvidenceName(name: string): void {
  if (name === '' || name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new ArchiveError(`invalid evidence file name "${name}"`);
}
