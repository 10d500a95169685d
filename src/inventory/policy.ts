/**
 * What a set of identity policies allows, as a list of concrete actions: `Action` and `NotAction` patterns
 * (wildcards `*` and `?`, matched case-insensitively as IAM does) expanded over the action catalogue, minus what an
 * explicit, unconditional `Deny` on every resource removes. Pure.
 *
 * Deliberately conservative, because its output feeds "safe to remove": a `Deny` with a condition or on some
 * resources only removes nothing (the action stays granted elsewhere), and an `Allow` on any resource counts.
 */
import type { ActionCatalogue } from './action-catalogue.js';
import type { PolicyDocument, PolicyStatement } from './authorization-details.js';

/** A policy by the name the report shows, with its parsed document. */
export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

export interface Grants {
  /** Each granted action (canonical spelling) → the names of the policies that allow it, sorted. */
  readonly actions: ReadonlyMap<string, readonly string[]>;
  /** Patterns that match no action of the catalogue (a typo, or an action newer than the catalogue). */
  readonly unmatched: readonly string[];
}

function patternRegex(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** The catalogue's actions matching one pattern; only the pattern's own service is scanned when it names one. */
export function matchPattern(pattern: string, catalogue: ActionCatalogue): string[] {
  if (!/[*?]/.test(pattern)) {
    const exact = catalogue.canonical(pattern);
    return exact ? [exact] : [];
  }
  const regex = patternRegex(pattern);
  const service = /^([^:*?]+):/.exec(pattern)?.[1]?.toLowerCase();
  const candidates = service ? catalogue.actions.filter((a) => a.slice(0, a.indexOf(':')).toLowerCase() === service) : catalogue.actions;
  return candidates.filter((action) => regex.test(action));
}

function statementActions(statement: PolicyStatement, catalogue: ActionCatalogue, unmatched: Set<string>): Set<string> {
  const matched = (patterns: readonly string[]) => {
    const found = new Set<string>();
    for (const pattern of patterns) {
      const actions = matchPattern(pattern, catalogue);
      if (actions.length === 0) unmatched.add(pattern);
      for (const action of actions) found.add(action);
    }
    return found;
  };
  if (statement.actions) return matched(statement.actions);
  if (statement.notActions) {
    const excluded = matched(statement.notActions);
    return new Set(catalogue.actions.filter((action) => !excluded.has(action)));
  }
  return new Set();
}

/** A Deny that removes an action outright: no condition, and every resource (`*`, no NotResource). */
function deniesEverywhere(statement: PolicyStatement): boolean {
  return statement.effect === 'Deny' && !statement.hasCondition && !statement.notResources && (statement.resources ?? []).includes('*');
}

/** Every action `policies` allow together, with the policies allowing each. */
export function grantedActions(policies: readonly NamedPolicy[], catalogue: ActionCatalogue): Grants {
  const unmatched = new Set<string>();
  const granted = new Map<string, Set<string>>();
  for (const policy of policies) {
    for (const statement of policy.document.statements) {
      if (statement.effect !== 'Allow') continue;
      for (const action of statementActions(statement, catalogue, unmatched)) {
        const by = granted.get(action) ?? new Set<string>();
        by.add(policy.name);
        granted.set(action, by);
      }
    }
  }
  for (const policy of policies) {
    for (const statement of policy.document.statements) {
      if (!deniesEverywhere(statement)) continue;
      for (const action of statementActions(statement, catalogue, unmatched)) granted.delete(action);
    }
  }
  return {
    actions: new Map([...granted].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([action, by]) => [action, [...by].sort()])),
    unmatched: [...unmatched].sort(),
  };
}
