/**
 * The demo tree together with its ground truth: runs the shipped generator with an `onDelivery` hook,
 * flattens every readable record it hands over, and computes what every check must return. Also writes
 * `<outDir>/truth.json`, which the generator itself no longer does.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEMO_AS_OF, generateDemo, type DemoOptions, type DemoResult } from '../../src/demo/generate.js';
import { ctTime, parseIsoSeconds } from '../../src/demo/time.js';
import { interner, toTruthEvent, type TruthEvent } from './demo-truth-event.js';
import { computeTruth, type Truth } from './demo-truth.js';

export interface DemoWithTruth extends DemoResult {
  /** What every check must return at the demo's as-of; also in `<outDir>/truth.json`. */
  truth: Truth;
  /** Every readable event in compact form, duplicates included: `computeTruth` them for another as-of. */
  truthEvents: TruthEvent[];
}

/**
 * Generates the demo tree as `generateDemo` does (byte for byte) and computes its ground truth from the
 * records the generator hands over: those of the corrupt file are left out, those of the duplicate delivery
 * counted twice, as a reader of the tree meets them.
 */
export async function generateDemoWithTruth(options: Omit<DemoOptions, 'onDelivery'>): Promise<DemoWithTruth> {
  const truthEvents: TruthEvent[] = [];
  const compact = interner();
  const result = await generateDemo({
    ...options,
    onDelivery: (delivery) => {
      if (delivery.corrupt) return;
      for (const r of delivery.records) {
        const event = compact(toTruthEvent(r, delivery.account));
        truthEvents.push(event);
        // The duplicate delivery holds the very same events: the truth must count them once.
        if (delivery.duplicateKey) truthEvents.push(event);
      }
    },
  });
  const truth = computeTruth(truthEvents, ctTime(parseIsoSeconds(options.asOf ?? DEMO_AS_OF)), result.unreadableFiles);
  await writeFile(path.join(options.outDir, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
  return { ...result, truth, truthEvents };
}
