/**
 * One bad record must not cost a file's good ones. DuckDB rejects a whole file for a single malformed record,
 * so every case here hides a root event in a file DuckDB rejects: it must still be reported, and what was
 * dropped counted per file with its reason.
 */
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { closeEngines, keyOf, loadTree, rootEvent, rootEventIds, routine } from '../support/adversarial.js';
import { record, tempDir, writeLogFile } from '../support/fixtures.js';

afterEach(closeEngines);

const DAY = '2026/11/20';
const json = (value: unknown) => JSON.stringify(value);
const documentOf = (elements: readonly string[]) => `{"Records":[${elements.join(',')}]}`;
/** A root event and two routine calls: what the damaged file must still give (the same records in every case). */
const GOOD = [json(rootEvent('root-in-damaged-file')), json(routine('routine-1')), json(routine('routine-2'))];
const good = () => GOOD;
const gz = (text: string | Buffer) => gzipSync(text);

/**
 * A gzip file cut in half, as an interrupted copy leaves it, and what a reader can get from it: the records that
 * end before the cut, and whether the cut runs through one (worked out from the JSON text, not by our reader).
 */
function cutInHalf(elements: readonly string[]): { bytes: Buffer; complete: number; partial: number } {
  const whole = gz(documentOf(elements));
  const bytes = whole.subarray(0, Math.floor(whole.length / 2));
  const left = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }).length;
  const ends = elements.map((_, i) => documentOf(elements.slice(0, i + 1)).length - 2);
  const complete = ends.filter((end) => end <= left).length;
  return { bytes, complete, partial: left > ends[complete - 1]! ? 1 : 0 };
}

const filler = Array.from({ length: 300 }, (_, i) => json(routine(`filler-${i}`)));
const cut = cutInHalf([...good(), ...filler]);
const secondMember = cutInHalf(filler);

interface Case {
  readonly name: string;
  readonly file: string;
  readonly bytes: Buffer | string;
  readonly dropped: readonly { reason: string; count: number }[];
  /** Events the damaged file gives (the three good ones unless said). */
  readonly events?: number;
}

const CASES: readonly Case[] = [
  {
    name: 'a userIdentity that is a string',
    file: 'x.json.gz',
    bytes: gz(documentOf([...good(), json({ ...routine('bad-1'), userIdentity: 'root' })])),
    dropped: [{ reason: 'userIdentity: expected an object, found a string', count: 1 }],
  },
  {
    name: 'a duplicate key',
    file: 'x.json.gz',
    bytes: gz(documentOf([...good(), '{"eventTime":"2026-11-20T11:00:00Z","eventID":"bad-1","eventID":"bad-2"}'])),
    dropped: [{ reason: 'duplicate key eventID', count: 1 }],
  },
  {
    name: 'a duplicate key inside userIdentity',
    file: 'x.json.gz',
    bytes: gz(documentOf([...good(), '{"eventTime":"2026-11-20T11:00:00Z","eventID":"bad-1","userIdentity":{"type":"Root","type":"IAMUser"}}'])),
    dropped: [{ reason: 'duplicate key userIdentity.type', count: 1 }],
  },
  {
    name: 'entries of Records that are not objects',
    file: 'x.json.gz',
    bytes: gz(documentOf(['"hello"', ...good(), '42', '[1,2]', 'true'])),
    dropped: [
      { reason: 'not an object (found a string)', count: 1 },
      { reason: 'not an object (found a number)', count: 1 },
      { reason: 'not an object (found an array)', count: 1 },
      { reason: 'not an object (found a boolean)', count: 1 },
    ],
  },
  {
    name: 'an invalid UTF-8 byte',
    file: 'x.json.gz',
    bytes: gz(
      Buffer.concat([Buffer.from(documentOf([...good(), '{"eventID":"bad-1","userAgent":"x']).slice(0, -2)), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]),
    ),
    dropped: [{ reason: 'invalid UTF-8', count: 1 }],
  },
  {
    name: 'resources that is not an array',
    file: 'x.json.gz',
    bytes: gz(documentOf([...good(), json({ ...routine('bad-1'), resources: { ARN: 'arn:aws:s3:::b' } })])),
    dropped: [{ reason: 'resources: expected an array, found an object', count: 1 }],
  },
  {
    name: 'an unpaired surrogate escape',
    file: 'x.json.gz',
    bytes: gz(documentOf([...good(), '{"eventTime":"2026-11-20T11:00:00Z","eventID":"bad-1","userAgent":"\\ud800"}'])),
    dropped: [{ reason: 'not valid JSON (unpaired surrogate in a string)', count: 1 }],
  },
  {
    name: 'bytes after the JSON document (gzip)',
    file: 'x.json.gz',
    bytes: gz(`${documentOf(good())}trailing`),
    dropped: [{ reason: '8 byte(s) after the end of the JSON document (decompressed): ignored', count: 0 }],
  },
  {
    name: 'bytes after the JSON document (plain .json)',
    file: 'x.json',
    bytes: `${documentOf(good())}\n}`,
    dropped: [{ reason: '1 byte(s) after the end of the JSON document: ignored', count: 0 }],
  },
  {
    name: 'zero padding after the gzip stream (gzip -d accepts it)',
    file: 'x.json.gz',
    bytes: Buffer.concat([gz(documentOf(good())), Buffer.alloc(4096)]),
    dropped: [],
  },
  {
    name: 'a gzip stream cut short, as an interrupted copy leaves it',
    file: 'x.json.gz',
    bytes: cut.bytes,
    dropped: [{ reason: 'cut off by the end of the file', count: cut.partial }],
    events: cut.complete,
  },
  {
    name: 'two gzip members, the second cut short',
    file: 'x.json.gz',
    bytes: Buffer.concat([gz(documentOf(good())), secondMember.bytes]),
    dropped: [{ reason: 'cut off by the end of the file', count: secondMember.partial }],
    events: 3 + secondMember.complete,
  },
];

describe('a file DuckDB rejects for one bad record is read record by record', () => {
  it.each(CASES)('$name: the root event is reported, the rest counted', async (c) => {
    // Prepare: the damaged file, and a clean file with another root event
    const root = await tempDir();
    const damaged = await writeLogFile(root, { day: DAY, name: c.file, content: c.bytes });
    await writeLogFile(root, { day: DAY, name: 'clean.json.gz', records: [rootEvent('root-in-clean-file', '2026-11-21T09:00:00Z')] });

    // Act
    const { engine, stats } = await loadTree(root);

    // Assess
    expect(await rootEventIds(engine)).toEqual(['root-in-clean-file', 'root-in-damaged-file']);
    expect(stats.filesSkipped).toEqual([]);
    expect(stats.filesRead).toBe(2);
    expect(stats.events).toBe((c.events ?? 3) + 1);
    expect(stats.recordsDropped).toEqual(c.dropped.map((d) => ({ path: keyOf(root, damaged), ...d })));
  });

  it.each([1, 3, 4096])('recovers the same records from many damaged files read together (batches of %i)', async (batchSize) => {
    // Prepare: every case's file in one tree, among clean files
    const root = await tempDir();
    for (const [i, c] of CASES.entries()) {
      await writeLogFile(root, { day: DAY, name: `${String(i).padStart(2, '0')}-${c.file}`, content: c.bytes });
      await writeLogFile(root, { day: DAY, name: `${String(i).padStart(2, '0')}-clean.json.gz`, records: [routine(`clean-${i}`)] });
    }

    // Act
    const { engine, stats } = await loadTree(root, { batchSize });

    // Assess: the same three records are in every damaged file (one event each, delivered again and again), the
    // fillers in two of them; every clean file is loaded.
    expect(await rootEventIds(engine)).toEqual(['root-in-damaged-file']);
    expect(stats.filesSkipped).toEqual([]);
    expect(stats.recordsDropped.map((d) => d.count)).toEqual(CASES.flatMap((c) => c.dropped.map((d) => d.count)));
    const fillers = Math.max(cut.complete - 3, secondMember.complete);
    expect(stats.events).toBe(3 + fillers + CASES.length);
    expect(stats.duplicates).toBe(CASES.reduce((n, c) => n + (c.events ?? 3), 0) - 3 - fillers);
    expect(stats.conflicts).toEqual([]);
  });

  it('skips a file without a single usable record, and says why', async () => {
    // Prepare
    const root = await tempDir();
    const bad = json({ ...routine('bad-1'), userIdentity: 'root' });
    await writeLogFile(root, { day: DAY, name: 'all-bad.json.gz', content: gz(documentOf([bad, bad.replace('bad-1', 'bad-2')])) });
    await writeLogFile(root, { day: DAY, name: 'clean.json.gz', records: [rootEvent('root-in-clean-file')] });

    // Act
    const { engine, stats } = await loadTree(root);

    // Assess
    expect(await rootEventIds(engine)).toEqual(['root-in-clean-file']);
    expect(stats.filesSkipped).toEqual([
      { path: expect.stringMatching(/all-bad\.json\.gz$/) as string, reason: 'no usable record: 2 × userIdentity: expected an object, found a string' },
    ]);
    expect(stats.recordsDropped).toEqual([]);
  });

  it('gives a salvaged record exactly the values DuckDB gives it in an intact file', async () => {
    // Prepare: one record with every field, in an intact file and in a damaged one
    const root = await tempDir();
    const full = record({ eventTime: '2026-11-20T10:00:00Z', eventID: 'same', requestParameters: { b: 1, a: [1.5, 'x'] }, readOnly: true });
    await writeLogFile(root, { day: DAY, name: 'a-intact.json.gz', records: [full] });
    await writeLogFile(root, { day: DAY, name: 'b-damaged.json.gz', content: gz(documentOf([json(full), '42'])) });

    // Act
    const { stats } = await loadTree(root);

    // Assess: one event delivered twice, identical to the column: a duplicate, not a conflict
    expect(stats).toMatchObject({ events: 1, duplicates: 1, conflicts: [] });
  });
});
