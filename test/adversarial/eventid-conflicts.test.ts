/**
 * A shared eventID is not proof of a second delivery. CloudTrail re-delivers an event as the very same record;
 * records with one eventID and different content are different records, and none may hide another.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeEngines, keyOf, loadTree, rootEvent, rootEventIds, routine } from '../support/adversarial.js';
import { tempDir, writeLogFile } from '../support/fixtures.js';

afterEach(closeEngines);

const DAY = '2026/11/20';

describe('records that share an eventID', () => {
  it('keeps a root event whose eventID a harmless record in a file that sorts first already used, and reports the conflict', async () => {
    // Prepare
    const root = await tempDir();
    const first = await writeLogFile(root, { day: DAY, name: 'a-first.json.gz', records: [{ ...routine('shared-id'), userAgent: 'harmless' }] });
    const second = await writeLogFile(root, { day: DAY, name: 'b-second.json.gz', records: [rootEvent('shared-id')] });

    // Act
    const { engine, stats } = await loadTree(root);

    // Assess
    expect(await rootEventIds(engine)).toEqual(['shared-id']);
    expect(stats).toMatchObject({ events: 2, duplicates: 0 });
    expect(stats.conflicts).toEqual([{ eventId: 'shared-id', paths: [keyOf(root, first), keyOf(root, second)], records: 2 }]);
  });

  it('still removes a true second delivery (the identical record), and counts distinct records in a conflict', async () => {
    // Prepare: one root event delivered three times; another id with two identical copies and one different record
    const root = await tempDir();
    const delivered = rootEvent('redelivered');
    const copy = rootEvent('mixed', '2026-11-21T09:00:00Z');
    const files = [];
    for (const name of ['a.json.gz', 'b.json.gz', 'c.json'])
      files.push(await writeLogFile(root, { day: DAY, name, gzip: name.endsWith('.gz'), records: [delivered, copy] }));
    const other = await writeLogFile(root, { day: DAY, name: 'd.json.gz', records: [{ ...copy, sourceIPAddress: '198.51.100.7' }] });

    // Act
    const { engine, stats } = await loadTree(root);

    // Assess: redelivered once; mixed twice (its two distinct records); the four identical extras removed
    expect(await rootEventIds(engine)).toEqual(['mixed', 'mixed', 'redelivered']);
    expect(stats).toMatchObject({ events: 3, duplicates: 4 });
    expect(stats.conflicts).toEqual([{ eventId: 'mixed', paths: [...files, other].map((f) => keyOf(root, f)).sort(), records: 2 }]);
  });

  it('does not take records without an eventID for one another', async () => {
    const root = await tempDir();
    const anonymous = { ...rootEvent('x'), eventID: undefined };
    await writeLogFile(root, { day: DAY, records: [anonymous, anonymous] });
    const { stats } = await loadTree(root);
    expect(stats).toMatchObject({ events: 2, duplicates: 0, conflicts: [] });
  });
});
