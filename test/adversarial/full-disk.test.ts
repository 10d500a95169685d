import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArchive } from '../../src/archive/local.js';
import { ArchiveError } from '../../src/core/errors.js';
import { runCli } from '../support/cli.js';
import { record, tempDir, writeLogFile } from '../support/fixtures.js';
import { mountTinyDisk, type TinyDisk } from '../support/tiny-disk.js';

/**
 * A real full disk (a 128 KiB tmpfs): a write that runs out of space must not leave a truncated file under
 * the name a reader trusts — `manifest.json` means "the run is complete", a `.eml` in the outbox is picked
 * up by a relay.
 */

const AS_OF = '2026-11-23T08:00:00Z';
const CHECKS = path.resolve('config/checks');

let disk: TinyDisk | { skipReason: string };
let logs: string;

beforeAll(async () => {
  disk = await mountTinyDisk(128);
  logs = await tempDir('trailwarden-full-disk-logs-');
  const root = { type: 'Root', principalId: '111111111111', arn: 'arn:aws:iam::111111111111:root', accountId: '111111111111' };
  await writeLogFile(logs, {
    day: '2026/11/21',
    records: [
      record({ eventTime: '2026-11-21T09:00:00Z' }),
      record({ eventTime: '2026-11-21T09:05:00Z', eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', userIdentity: root }),
    ],
  });
});

afterAll(async () => {
  if (disk && 'dir' in disk) await disk.unmount();
});

/** The mounted disk, or the test is skipped with the reason it could not be mounted. */
function tinyDisk(skip: (note: string) => never): TinyDisk {
  if ('skipReason' in disk) skip(disk.skipReason);
  return disk;
}

/** Every file name under `dir`, recursively, except the filler that made the disk full. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .filter((name) => !name.startsWith('filler'))
    .sort();
}

describe('writes on a full disk', () => {
  it('leaves no manifest.json when the manifest does not fit: the run folder stays incomplete, and says so', async ({ skip }) => {
    // Prepare: evidence written, then the disk fills up before the manifest
    const { dir, fillLeaving } = tinyDisk(skip);
    const archive = new LocalArchive({ path: path.join(dir, 'archive') });
    const folder = await archive.openRun('20261123T080000Z-full0001', new Date(AS_OF));
    await folder.write('root_activity_7d.csv', 'event_time,account\r\n');
    await fillLeaving(4096);
    const manifest = JSON.stringify({ files: Array.from({ length: 400 }, (_, i) => ({ name: `file-${i}.csv`, sha256: '0'.repeat(64) })) });
    expect(manifest.length).toBeGreaterThan(8 * 4096);

    // Act
    const write = folder.write('manifest.json', manifest);

    // Assess: the write fails as an archive error, and nothing under the manifest's name (or any other) is left
    await expect(write).rejects.toThrow(ArchiveError);
    await expect(write).rejects.toThrow(/cannot write .*manifest\.json/);
    expect(await readdir(folder.location)).toEqual(['root_activity_7d.csv']);
    await expect(archive.findRun('20261123T080000Z-full0001')).rejects.toThrow(/incomplete: it has no manifest\.json/);
  });

  it('puts no truncated .eml in the outbox when the message does not fit; the evidence is archived and resend is named', async ({ skip }) => {
    // Prepare: the archive on a normal disk, the outbox on a full one
    const { dir, fillLeaving } = tinyDisk(skip);
    const work = await tempDir('trailwarden-full-disk-work-');
    const outbox = path.join(dir, 'outbox');
    const config = path.join(work, 'trailwarden.yaml');
    await writeFile(
      config,
      [
        `source: { kind: local, path: ${logs} }`,
        'archive: { kind: local, path: archive }',
        `checks: { path: ${CHECKS} }`,
        `mail: { kind: outbox, path: ${outbox}, from: tw@example.com, to: [security@example.com] }`,
        '',
      ].join('\n'),
    );
    await fillLeaving(4096);

    // Act
    const result = await runCli(['run', '--config', config, '--as-of', AS_OF]);

    // Assess: the run failed on the mail, the relay finds nothing to pick up, the evidence is complete
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/report e-mail was not sent .*cannot write .*\.eml.*Re-send it with: trailwarden resend/s);
    expect(existsSync(outbox) ? await filesUnder(outbox) : []).toEqual([]);
    const day = path.join(work, 'archive', '2026', '11', '23');
    const [runId] = await readdir(day);
    const verified = await runCli(['verify', path.join(day, runId!)]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });
});
