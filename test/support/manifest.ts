import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildManifest, type Manifest, type ManifestFile } from '../../src/core/manifest.js';
import { record, writeLogFile } from './fixtures.js';

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

/** The run folders of a local archive, oldest run first (run ids start with their generation time). */
export async function runFolders(archive: string): Promise<string[]> {
  const found: string[] = [];
  for (const y of await readdir(archive))
    for (const m of await readdir(path.join(archive, y)))
      for (const d of await readdir(path.join(archive, y, m)))
        for (const r of await readdir(path.join(archive, y, m, d))) found.push(path.join(archive, y, m, d, r));
  return found.sort((a, b) => (path.basename(a) < path.basename(b) ? -1 : 1));
}

/**
 * Writes config `name` in `dir`: one day of logs, a local archive (`<dir>/archive`), outbox and state, the built-in
 * checks, and `extra` lines. Returns its path.
 */
export async function localRunConfig(dir: string, name: string, extra: readonly string[] = []): Promise<string> {
  const logs = path.join(dir, 'logs');
  await writeLogFile(logs, { day: '2026/11/20', records: [record({ eventTime: '2026-11-20T10:00:00Z', eventID: 'e-1' })] });
  const config = path.join(dir, name);
  await writeFile(
    config,
    [
      `source: { kind: local, path: ${JSON.stringify(logs)} }`,
      `archive: { kind: local, path: ${JSON.stringify(path.join(dir, 'archive'))} }`,
      `mail: { kind: outbox, path: ${JSON.stringify(path.join(dir, 'outbox'))}, from: "tw <tw@localhost>", to: [a@example.com] }`,
      `state: { kind: local, path: ${JSON.stringify(path.join(dir, 'state.json'))} }`,
      `checks: { path: ${JSON.stringify(path.resolve('config/checks'))} }`,
      ...extra,
      '',
    ].join('\n'),
  );
  return config;
}
