/**
 * A deterministic, seeded generator of demo CloudTrail logs, laid out exactly as CloudTrail delivers them
 * to S3. This entry runs the generation: it cuts the range into two-hour slots and, for every account and
 * region, mixes the scripted events (`scripted-events.ts`) with routine noise (`noise.ts`) into one
 * delivery file (`delivery.ts`), written by `tree-writer.ts`.
 *
 * The data is routine noise (role sessions, IAM users, AWS services) plus a fixed script of events that
 * make every check show something: root use, console sign-ins without MFA, failed sign-ins, a principal
 * probing for permissions, and events exactly on the window edges. The tree also holds what a reader of
 * real buckets meets: an organization-trail layout, a digest file, an uncompressed `.json`, a duplicate
 * delivery, a truncated `.gz` and files whose events are from the day before their folder's date.
 *
 * Files are generated, compressed and written one at a time, so a million events need no more memory than
 * a slot's records. The ground truth the tests check the engines against is not computed here: it lives with
 * the tests (`test/support/demo-with-truth.ts`), fed through `onDelivery`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildAccount, type AccountActors } from './actors.js';
import type { CloudTrailRecord } from './cloudtrail-record.js';
import { DEMO_ACCOUNTS, DEMO_AS_OF, DEMO_REGIONS, DEMO_SEED } from './constants.js';
import { planDelivery, writeDelivery } from './delivery.js';
import { DigestPlan, digestOffsetMs, sha256Hex } from './digests.js';
import { demoInventory } from './inventory.js';
import { inventoryEvents } from './inventory-events.js';
import { ACCOUNT_WEIGHT, REGION_WEIGHT, SLOT_MS, noiseActors, noiseEvent, slotPools, slotWeight } from './noise.js';
import { Rng, subSeed } from './rng.js';
import { scriptedEvents, type Scripted } from './scripted-events.js';
import { DAY_MS, HOUR_MS, SECOND_MS, ctTime, parseIsoSeconds, type Clock } from './time.js';
import { TreeWriter, prepareOutDir } from './tree-writer.js';

export { DEMO_ACCOUNTS, DEMO_AS_OF, DEMO_ORGANIZATION_ID, DEMO_REGIONS, DEMO_SEED } from './constants.js';
export type { CloudTrailRecord } from './cloudtrail-record.js';

/** One delivery file's records, as `DemoOptions.onDelivery` sees them. */
export interface DemoDelivery {
  /** The account of the file's path. */
  account: string;
  region: string;
  /** Relative path from outDir, '/' separators. */
  key: string;
  /** The second name the same bytes were written under, for the duplicate delivery. */
  duplicateKey?: string | undefined;
  /** The file made unreadable on purpose (a truncated `.gz`): a reader gets none of its records. */
  corrupt: boolean;
  /** The records in the file, oldest first (for a modified file: those it holds now). */
  records: readonly CloudTrailRecord[];
  /**
   * Tampering after delivery, for the integrity check: `modified` (a record removed from the file), `deleted` (the
   * file is gone: none of its records can be read), `injected` (a file CloudTrail never delivered).
   */
  fate?: 'modified' | 'deleted' | 'injected';
}

export interface DemoOptions {
  /** The tree goes to `<outDir>/AWSLogs/…`. */
  outDir: string;
  /** Default 20261123. */
  seed?: number;
  /** ISO-8601; default DEMO_AS_OF. */
  asOf?: string;
  /** Days of history before asOf; default 35. */
  daysBefore?: number;
  /** Days of data after asOf, to prove that the window end is respected; default 1. */
  daysAfter?: number;
  /** Approximate number of events (scripted ones and the duplicate delivery included); default 60,000. */
  targetEvents?: number;
  /**
   * Called once per delivery file, in generation order, before the file is written. The tests' ground truth
   * is built from it; without it nothing is kept, which is what lets the benchmark generate a million events.
   */
  onDelivery?: (delivery: DemoDelivery) => void;
}

export interface DemoResult {
  outDir: string;
  /** Files written under AWSLogs/: event files (the duplicate and the corrupt one included) and the digest. */
  files: number;
  /** Records written into event files, counting the duplicate delivery and the corrupt file. */
  events: number;
  accounts: string[];
  regions: string[];
  /** Relative paths (from outDir, '/' separators) of the files made unreadable on purpose. */
  unreadableFiles: string[];
  /** The IAM inventory, one `get-account-authorization-details` document per account (`--inventory`). */
  inventoryDir: string;
  /** The hour left without a digest (log file validation "off"): its stream, the missing digest and its period. */
  digestGap: { account: string; region: string; digestKey: string; start: string; end: string };
}

/**
 * Where the tampering the integrity check must find goes, relative to the as-of day (all inside the last 30 days;
 * the modified and deleted files move on to the next slot without scripted events, see generateDemo): a modified file, a deleted one, an injected one, and an hour without a digest.
 */
function tamperPlan(asOfMs: number): {
  modified: { account: string; region: string; atMs: number };
  deleted: { account: string; region: string; atMs: number };
  injected: { account: string; region: string; atMs: number };
  gap: { account: string; region: string; atMs: number };
} {
  const day = Math.floor(asOfMs / DAY_MS) * DAY_MS;
  return {
    modified: { account: DEMO_ACCOUNTS[0], region: 'eu-west-1', atMs: day - 3 * DAY_MS + 14 * HOUR_MS },
    deleted: { account: DEMO_ACCOUNTS[1], region: 'eu-west-1', atMs: day - 5 * DAY_MS + 9 * HOUR_MS },
    injected: { account: DEMO_ACCOUNTS[0], region: 'us-east-1', atMs: day - 4 * DAY_MS + 13 * HOUR_MS + 27 * 60 * SECOND_MS },
    gap: { account: DEMO_ACCOUNTS[1], region: 'ap-southeast-2', atMs: day - 6 * DAY_MS + 10 * HOUR_MS + 30 * 60 * SECOND_MS },
  };
}

/** Where the demo's IAM inventory goes, inside the demo folder. */
export const DEMO_INVENTORY_DIR = 'iam-inventory';

/**
 * Writes the demo tree to `<outDir>/AWSLogs/`, handing each delivery to `onDelivery` when given.
 * The same options always give a byte-identical tree.
 */
export async function generateDemo(o: DemoOptions): Promise<DemoResult> {
  const seed = o.seed ?? DEMO_SEED;
  const asOfMs = parseIsoSeconds(o.asOf ?? DEMO_AS_OF);
  const clock: Clock = { asOfMs, midnightMs: Math.floor(asOfMs / DAY_MS) * DAY_MS };
  const rangeStart = Math.floor((asOfMs - (o.daysBefore ?? 35) * DAY_MS) / DAY_MS) * DAY_MS;
  const rangeEnd = asOfMs + (o.daysAfter ?? 1) * DAY_MS;
  const target = o.targetEvents ?? 60_000;

  await prepareOutDir(o.outDir);
  const writer = new TreeWriter(o.outDir);

  const accounts = [buildAccount(DEMO_ACCOUNTS[0], seed), buildAccount(DEMO_ACCOUNTS[1], seed)] as [AccountActors, AccountActors];
  // Separate streams: the script and the file names stay the same whatever targetEvents is.
  const scriptRng = new Rng(subSeed(seed, 'script'));
  const noiseRng = new Rng(subSeed(seed, 'noise'));
  const fileRng = new Rng(subSeed(seed, 'files'));
  const inventoryRng = new Rng(subSeed(seed, 'inventory'));
  // Tampering draws from a stream of its own: every other file stays as it was.
  const tamperRng = new Rng(subSeed(seed, 'tamper'));
  const planned = tamperPlan(asOfMs);
  const digests = new DigestPlan();

  // Bucket the scripted events by (account, region, slot); those outside the generated range are dropped.
  const scripted = new Map<string, Scripted[]>();
  let scriptedCount = 0;
  for (const s of scriptedEvents(clock, accounts, scriptRng)) {
    const ms = Date.parse(s.record.eventTime);
    if (ms < rangeStart || ms >= rangeEnd) continue;
    const bucketKey = `${s.account}|${s.region}|${Math.floor((ms - rangeStart) / SLOT_MS)}`;
    const list = scripted.get(bucketKey) ?? [];
    list.push(s);
    scripted.set(bucketKey, list);
    scriptedCount++;
  }
  // A file to modify or delete holds noise only: its slot is the planned one, or the next without scripted events.
  const noiseOnly = (target: { account: string; region: string; atMs: number }) => {
    let atMs = target.atMs;
    while (scripted.has(`${target.account}|${target.region}|${Math.floor((atMs - rangeStart) / SLOT_MS)}`)) atMs += SLOT_MS;
    return { ...target, atMs };
  };
  const tamper = { ...planned, modified: noiseOnly(planned.modified), deleted: noiseOnly(planned.deleted) };

  let totalWeight = 0;
  for (let s = rangeStart; s < rangeEnd; s += SLOT_MS) totalWeight += slotWeight(s) * ((Math.min(s + SLOT_MS, rangeEnd) - s) / SLOT_MS);
  // The inventory's events come after the scale is set, from a stream of their own: the noise stays as it was.
  for (const s of inventoryEvents(clock, accounts, inventoryRng)) {
    const ms = Date.parse(s.record.eventTime);
    if (ms < rangeStart || ms >= rangeEnd) continue;
    const bucketKey = `${s.account}|${s.region}|${Math.floor((ms - rangeStart) / SLOT_MS)}`;
    scripted.set(bucketKey, [...(scripted.get(bucketKey) ?? []), s]);
  }
  const scale = Math.max(0, target - scriptedCount) / totalWeight;

  const pools = accounts.map((acct) => ({ roles: noiseActors(acct.roles, clock), users: noiseActors(acct.users, clock) }));
  const unreadableFiles: string[] = [];
  let events = 0;

  for (let slotStart = rangeStart, slot = 0; slotStart < rangeEnd; slotStart += SLOT_MS, slot++) {
    const slotEnd = Math.min(slotStart + SLOT_MS, rangeEnd);
    const slotSeconds = (slotEnd - slotStart) / SECOND_MS;
    const expected = scale * slotWeight(slotStart) * (slotSeconds / (SLOT_MS / SECOND_MS));
    for (const [ai, acct] of accounts.entries()) {
      const account = acct.world.account;
      const { roles, users } = pools[ai] ?? { roles: [], users: [] };
      // Actors active at some point of this slot; an event outside an actor's own range falls back to a service.
      const live = slotPools(roles, users, slotStart, slotEnd);
      for (const [ri, region] of DEMO_REGIONS.entries()) {
        const script = scripted.get(`${account}|${region}|${slot}`) ?? [];
        const records = script.map((s) => s.record);
        const n = Math.floor(expected * (ACCOUNT_WEIGHT[ai] ?? 0) * (REGION_WEIGHT[ri] ?? 0) + noiseRng.next());
        for (let i = 0; i < n; i++) {
          const ms = slotStart + noiseRng.int(slotSeconds) * SECOND_MS;
          records.push(noiseEvent(acct, live, region, ms, noiseRng));
        }
        if (records.length === 0) continue;
        records.sort((x, y) => (x.eventTime < y.eventTime ? -1 : x.eventTime > y.eventTime ? 1 : 0));

        const tags = new Set(script.flatMap((s) => (s.tag ? [s.tag] : [])));
        if (tags.has('corrupt') && script.length > 1) {
          // The truncated file loses its events: none of them may be one the script relies on.
          throw new Error('demo script error: the corrupt delivery file holds scripted events');
        }
        const delivery = planDelivery(account, region, records, tags, fileRng);
        const inSlot = (target: { account: string; region: string; atMs: number }) =>
          target.account === account && target.region === region && slotStart <= target.atMs && target.atMs < slotEnd;
        let fate: DemoDelivery['fate'];
        let onDisk: readonly CloudTrailRecord[] = records;
        if (inSlot(tamper.modified) || inSlot(tamper.deleted)) {
          if (script.length > 0 || tags.size > 0 || records.length < 2)
            throw new Error(
              `demo script error: the tampered delivery file of ${account} ${region} at ${new Date(slotStart).toISOString()} holds scripted events (${script.length}) or tags (${[...tags].join(', ')}) or fewer than 2 records`,
            );
          if (inSlot(tamper.modified)) {
            // Someone removed a record after delivery: the file no longer matches its digest.
            fate = 'modified';
            onDisk = records.slice(0, -1);
            delivery.writtenJson = JSON.stringify({ Records: onDisk });
          } else {
            fate = 'deleted';
            onDisk = [];
            delivery.deleted = true;
          }
        }
        const offset = digestOffsetMs(ai, ri);
        const hash = sha256Hex(delivery.json);
        const [oldest, newest] = [records[0]!.eventTime, records[records.length - 1]!.eventTime];
        digests.add(account, region, offset, { key: delivery.key, sha256: hash, deliveryMs: delivery.deliveryMs, oldest, newest });
        if (delivery.duplicateKey)
          digests.add(account, region, offset, { key: delivery.duplicateKey, sha256: hash, deliveryMs: delivery.duplicateMs!, oldest, newest });
        events += onDisk.length * (delivery.duplicateKey ? 2 : 1);
        if (delivery.corrupt) unreadableFiles.push(delivery.key);
        // Only built when asked for: without a hook no record outlives its file.
        o.onDelivery?.({
          account,
          region,
          key: delivery.key,
          duplicateKey: delivery.duplicateKey,
          corrupt: delivery.corrupt,
          records: onDisk,
          ...(fate ? { fate } : {}),
        });
        await writer.schedule(() => writeDelivery(writer, delivery));
        if (inSlot(tamper.injected)) {
          // A file CloudTrail never delivered, written beside the real ones: no digest lists it.
          const injected = [noiseEvent(acct, live, region, tamper.injected.atMs, tamperRng)];
          const fake = planDelivery(account, region, injected, new Set(), tamperRng);
          events += 1;
          o.onDelivery?.({ account, region, key: fake.key, corrupt: false, records: injected, fate: 'injected' });
          await writer.schedule(() => writeDelivery(writer, fake));
        }
      }
    }
  }
  await writer.drain();
  const gap = await digests.write(writer, rangeStart, tamper.gap);

  const inventoryDir = path.join(o.outDir, DEMO_INVENTORY_DIR);
  await mkdir(inventoryDir, { recursive: true });
  for (const { account, text } of demoInventory(clock, accounts)) await writeFile(path.join(inventoryDir, `${account}.json`), text);

  return {
    outDir: o.outDir,
    files: writer.files,
    events,
    accounts: [...DEMO_ACCOUNTS],
    regions: [...DEMO_REGIONS].sort(),
    unreadableFiles,
    inventoryDir,
    digestGap: {
      account: tamper.gap.account,
      region: tamper.gap.region,
      digestKey: gap.gapKey ?? '',
      start: gap.gapStartMs === undefined ? '' : ctTime(gap.gapStartMs),
      end: gap.gapEndMs === undefined ? '' : ctTime(gap.gapEndMs),
    },
  };
}
