/**
 * The demo tree together with its ground truth: runs the shipped generator with an `onDelivery` hook,
 * flattens every readable record it hands over, and computes what every check must return. Also writes
 * `<outDir>/truth.json`, which the generator itself no longer does.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { DEMO_AS_OF, generateDemo, type DemoDelivery, type DemoOptions, type DemoResult } from '../../src/demo/generate.js';
import { ctTime, parseIsoSeconds } from '../../src/demo/time.js';
import { interner, toTruthEvent, type TruthEvent } from './demo-truth-event.js';
import { computeTruth, type PartialFile, type Truth } from './demo-truth.js';
import { readTruthInventory, type TruthInventory } from './demo-truth-iam.js';
import { INTEGRITY_CHECK, integrityTruth } from './demo-truth-integrity.js';

export interface DemoWithTruth extends DemoResult {
  /** What every check must return at the demo's as-of, for a reader that reads every complete record of the truncated file (DuckDB). Also in `<outDir>/truth.json`. */
  truth: Truth;
  /** The same for a reader that skips the truncated file whole (Athena fails on it and leaves it out). */
  truthSkippingDamaged: Truth;
  /** Every readable event in compact form, duplicates included: `computeTruth` them for another as-of. */
  truthEvents: TruthEvent[];
  /** `truthSkippingDamaged` with the inventory checks (Athena with `--inventory`). */
  truthSkippingDamagedWithInventory: Truth;
  /** The demo's IAM inventory as the oracle reads it (pass it to `computeTruth` for the inventory checks). */
  truthInventory: TruthInventory;
  /** `truth` with the inventory checks: what a run with `--inventory <inventoryDir>` must return. */
  truthWithInventory: Truth;
}

/**
 * What can be read from a delivery file the generator cut short: the records that end before the cut. Worked
 * out from what the generator knows — the exact JSON text it compressed (`{"Records":[...]}` of these records) —
 * and what zlib still decompresses from the bytes on disk; nothing of the engine's own reading is used.
 */
async function readableBeforeCut(outDir: string, delivery: DemoDelivery): Promise<{ records: readonly DemoDelivery['records'][number][]; file: PartialFile }> {
  const bytes = await readFile(path.join(outDir, ...delivery.key.split('/')));
  const prefix = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  const json = JSON.stringify({ Records: delivery.records });
  if (!json.startsWith(prefix) || prefix.length === json.length) throw new Error(`demo truth: ${delivery.key} is not a cut-short copy of its records`);
  // Record i ends where the document of the first i + 1 records would close its array.
  const ends = delivery.records.map((_, i) => JSON.stringify({ Records: delivery.records.slice(0, i + 1) }).length - 2);
  const complete = ends.filter((end) => end <= prefix.length).length;
  const cut = complete === 0 || prefix.length > ends[complete - 1]! ? 1 : 0;
  return { records: delivery.records.slice(0, complete), file: { path: delivery.key, records: complete, cut } };
}

/**
 * Generates the demo tree as `generateDemo` does (byte for byte) and computes its ground truth from the
 * records the generator hands over: those of the duplicate delivery counted twice, as a reader of the tree meets
 * them, and of the truncated file those that end before the cut (for `truth`) or none (for `truthSkippingDamaged`).
 */
export async function generateDemoWithTruth(options: Omit<DemoOptions, 'onDelivery'>): Promise<DemoWithTruth> {
  const truthEvents: TruthEvent[] = [];
  const compact = interner();
  const damaged: DemoDelivery[] = [];
  // Without their records: what the integrity truth needs is names and fates.
  const deliveries: DemoDelivery[] = [];
  const result = await generateDemo({
    ...options,
    onDelivery: (delivery) => {
      deliveries.push({ ...delivery, records: [] });
      if (delivery.corrupt) {
        damaged.push(delivery);
        return;
      }
      for (const r of delivery.records) {
        const event = compact(toTruthEvent(r, delivery.account));
        truthEvents.push(event);
        // The duplicate delivery holds the very same events: the truth must count them once.
        if (delivery.duplicateKey) truthEvents.push(event);
      }
    },
  });
  const asOf = ctTime(parseIsoSeconds(options.asOf ?? DEMO_AS_OF));
  const integrity = integrityTruth(deliveries, result.digestGap, asOf);
  // The integrity check's rows come from the digests and files, not the events: the same for every reader.
  const withIntegrity = (truth: Truth): Truth => ({ ...truth, checks: { ...truth.checks, [INTEGRITY_CHECK]: integrity } });
  const truthSkippingDamaged = withIntegrity(computeTruth(truthEvents, asOf, result.unreadableFiles));
  const truthInventory = await readTruthInventory(result.inventoryDir);
  const truthSkippingDamagedWithInventory = withIntegrity(computeTruth(truthEvents, asOf, result.unreadableFiles, [], truthInventory));

  const unreadable: string[] = [];
  const partial: PartialFile[] = [];
  for (const delivery of damaged) {
    const { records, file } = await readableBeforeCut(options.outDir, delivery);
    if (records.length === 0) unreadable.push(delivery.key);
    else partial.push(file);
    for (const r of records) truthEvents.push(compact(toTruthEvent(r, delivery.account)));
  }
  const truth = withIntegrity(computeTruth(truthEvents, asOf, unreadable, partial));
  const truthWithInventory = withIntegrity(computeTruth(truthEvents, asOf, unreadable, partial, truthInventory));
  await writeFile(path.join(options.outDir, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
  return { ...result, truth, truthSkippingDamaged, truthSkippingDamagedWithInventory, truthEvents, truthInventory, truthWithInventory };
}
