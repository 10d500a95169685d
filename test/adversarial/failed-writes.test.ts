import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalArchive, LocalArchivedRun } from '../../src/archive/local.js';
import { ArchiveError, MailError } from '../../src/core/errors.js';
import { nodeFileSystem, type WritableFile, type WriteFileSystem } from '../../src/fs/atomic-write.js';
import { verifyRun } from '../../src/flows/verify.js';
import { OutboxTransport } from '../../src/mail/outbox.js';
import { tempDir } from '../support/fixtures.js';

/**
 * Writes that fail part-way — the way a full disk or an I/O error makes them fail, injected at each step — leave
 * nothing under the name a reader trusts, and no temporary file either.
 */

const AS_OF = new Date('2026-11-23T08:00:00Z');
const RUN_ID = '20261123T080000Z-0badf00d';
const STAGES = ['write', 'sync', 'close', 'link'] as const;
type Stage = (typeof STAGES)[number];

function noSpace(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

/** Node's file system, except that writing a file whose name starts with `.${target}` fails at `stage`. */
function failingAt(stage: Stage, target: string): WriteFileSystem {
  const isTarget = (file: string) => path.basename(file).startsWith(`.${target}`);
  return {
    ...nodeFileSystem,
    async open(file, flags) {
      const handle = await nodeFileSystem.open(file, flags);
      if (flags !== 'wx' || !isTarget(file)) return handle;
      const failing: WritableFile = {
        async writeFile(data) {
          if (stage !== 'write') return handle.writeFile(data);
          // What a full disk does: part of the data is written, then the next write fails.
          await handle.writeFile(data.subarray(0, Math.floor(data.byteLength / 2)));
          throw noSpace();
        },
        async sync() {
          if (stage === 'sync') throw noSpace();
          return handle.sync();
        },
        async close() {
          await handle.close();
          if (stage === 'close') throw noSpace();
        },
      };
      return failing;
    },
    async link(existingPath, newPath) {
      if (stage === 'link' && isTarget(existingPath)) throw noSpace();
      return nodeFileSystem.link(existingPath, newPath);
    },
  };
}

describe('a failed evidence write', () => {
  it.each(STAGES)('at %s leaves no manifest.json and no temporary file, and fails as an archive error', async (stage) => {
    // Prepare
    const archive = new LocalArchive({ path: await tempDir(), fs: failingAt(stage, 'manifest.json') });
    const folder = await archive.openRun(RUN_ID, AS_OF);
    await folder.write('root_activity_7d.csv', 'event_time\r\n');

    // Act
    const failure = await folder.write('manifest.json', JSON.stringify({ run_id: RUN_ID, files: [] })).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ArchiveError);
    expect((failure as ArchiveError).message).toMatch(/cannot write .*manifest\.json: ENOSPC/);
    expect(((failure as ArchiveError).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(await readdir(folder.location)).toEqual(['root_activity_7d.csv']);
    await expect(archive.findRun(RUN_ID)).rejects.toThrow(/is incomplete/);
  });

  it('never replaces a file already written, and leaves the first one intact', async () => {
    // Prepare
    const archive = new LocalArchive({ path: await tempDir() });
    const folder = await archive.openRun(RUN_ID, AS_OF);
    await folder.write('report.txt', 'the first report');

    // Act
    const second = folder.write('report.txt', 'a second report');

    // Assess
    await expect(second).rejects.toThrow(ArchiveError);
    await expect(second).rejects.toThrow(/report\.txt: it already exists and evidence is never overwritten/);
    expect(await readFile(path.join(folder.location, 'report.txt'), 'utf8')).toBe('the first report');
    expect(await readdir(folder.location)).toEqual(['report.txt']);
  });

  it('on a file system without hard links still writes whole files, and still never replaces one', async () => {
    // Prepare: link() refused as FAT or some network file systems refuse it
    const fs: WriteFileSystem = {
      ...nodeFileSystem,
      link: () => Promise.reject(Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' })),
    };
    const archive = new LocalArchive({ path: await tempDir(), fs });
    const folder = await archive.openRun(RUN_ID, AS_OF);

    // Act
    const stored = await folder.write('report.txt', 'the first report');
    const second = folder.write('report.txt', 'a second report');

    // Assess
    expect(stored.bytes).toBe(16);
    await expect(second).rejects.toThrow(/it already exists and evidence is never overwritten/);
    expect(await readFile(path.join(folder.location, 'report.txt'), 'utf8')).toBe('the first report');
    expect(await readdir(folder.location)).toEqual(['report.txt']);
  });

  it('left by a crash (a temporary file, no manifest) is never taken for evidence: the run is incomplete', async () => {
    // Prepare: what a process killed while writing its manifest leaves
    const root = await tempDir();
    const archive = new LocalArchive({ path: root });
    const folder = await archive.openRun(RUN_ID, AS_OF);
    await folder.write('report.txt', 'the report');
    await writeFile(path.join(folder.location, '.manifest.json.1a2b3c4d.tmp'), '{"run_id": "2026');

    // Act
    const found = await archive.findRun(RUN_ID).catch((error: unknown) => error);
    const verified = await verifyRun(new LocalArchivedRun(folder.location)).catch((error: unknown) => error);

    // Assess
    expect(found).toBeInstanceOf(ArchiveError);
    expect((found as Error).message).toMatch(/is incomplete: it has no manifest\.json/);
    expect(verified).toBeInstanceOf(ArchiveError);
    expect((verified as Error).message).toMatch(/cannot read the manifest \(a run folder without one is incomplete\)/);
  });
});

describe('a failed outbox write', () => {
  const message = { from: 'tw@example.com', to: ['security@example.com'], subject: 'report', html: '<p>report</p>', text: 'report' };

  it.each(STAGES)('at %s puts no .eml (whole or truncated) where a relay would pick it up, and fails as a mail error', async (stage) => {
    // Prepare
    const dir = path.join(await tempDir(), 'outbox');
    await mkdir(dir);
    const outbox = new OutboxTransport({ path: dir, fs: failingAt(stage, `${RUN_ID}.eml`) });

    // Act
    const failure = await outbox.send(message, RUN_ID).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(MailError);
    expect((failure as MailError).message).toMatch(new RegExp(`cannot write .*${RUN_ID}\\.eml: ENOSPC`));
    expect(await readdir(dir)).toEqual([]);
  });

  it('never replaces a message already in the outbox', async () => {
    // Prepare
    const dir = await tempDir();
    const outbox = new OutboxTransport({ path: dir });
    const first = await outbox.send(message, RUN_ID);
    const firstBytes = await readFile(first.location);

    // Act
    const second = outbox.send({ ...message, subject: 'another report' }, RUN_ID);

    // Assess
    await expect(second).rejects.toThrow(MailError);
    expect(await readFile(first.location)).toEqual(firstBytes);
    expect(await readdir(dir)).toEqual([`${RUN_ID}.eml`]);
  });
});
