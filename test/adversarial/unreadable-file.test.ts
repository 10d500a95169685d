/**
 * One object the run may not read must not silence every later root alert: it is skipped and named, and the
 * run goes on. Tests usually run as root, whom file modes don't stop, so the unreadable object here is a link to
 * a file even root may not read: /proc/sys/vm/drop_caches is write-only (mode 0200), and opening it for reading
 * fails with EACCES for everyone — the same error a 0600 object of another user gives. (The listing would call a
 * /proc file empty, so the engine is handed the file as a listing of a real object would describe it.)
 */
import { access, constants as fs, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogFile } from '../../src/source/types.js';
import { closeEngines, loadTree, rootEvent, rootEventIds } from '../support/adversarial.js';
import { tempDir, writeLogFile } from '../support/fixtures.js';

afterEach(closeEngines);

const WRITE_ONLY = '/proc/sys/vm/drop_caches';
const unreadable = await access(WRITE_ONLY, fs.R_OK).then(
  () => false,
  (error: NodeJS.ErrnoException) => error.code === 'EACCES',
);

describe.runIf(unreadable)('a delivery file that cannot be opened', () => {
  it.each(['json.gz', 'json'])('is skipped with a reason that names the permission problem (.%s); the other files are read', async (extension) => {
    // Prepare: a root event in a readable file, and an unreadable file in the same folder
    const root = await tempDir();
    const readable = await writeLogFile(root, { day: '2026/11/20', records: [rootEvent('root-1')] });
    const name = `111111111111_CloudTrail_us-east-1_20261120T0100Z_unreadableobject.${extension}`;
    const link = path.join(path.dirname(readable), name);
    await symlink(WRITE_ONLY, link);
    const key = `AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/${name}`;
    const file: LogFile = { path: link, key, account: '111111111111', region: 'us-east-1', day: '2026/11/20', bytes: 4096 };

    // Act
    const { engine, stats } = await loadTree(root, { extraFiles: [file] });

    // Assess
    expect(await rootEventIds(engine)).toEqual(['root-1']);
    expect(stats.filesSkipped).toEqual([{ path: key, reason: expect.stringMatching(/permission denied/) as string }]);
    expect(stats.filesRead).toBe(1);
  });
});
