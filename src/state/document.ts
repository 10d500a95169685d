import { createHash } from 'node:crypto';
import { zodProblems } from '../core/catalog.js';
import { StateCorruptError } from '../core/errors.js';
import { DaemonState } from './types.js';

/** The bytes a state document is stored as: stable key order is not needed, readable JSON is. */
export function serializeState(state: DaemonState): Buffer {
  return Buffer.from(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
}

/** A content version for stores without ETags: the SHA-256 of the bytes. */
export function contentVersion(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const REPAIR_HINT =
  'Restore it from a backup, or delete it to start afresh (report jobs then wait for their next slot; the root alert looks back initial_lookback_hours)';

/**
 * Parses a stored state document. A file that is not JSON, or JSON of another shape, or with a time that is no
 * real instant, is a StateCorruptError naming where it is, each key that is wrong and what was expected — never
 * silently replaced by an empty state, which would lose the alert watermark and re-alert (or skip) root activity.
 */
export function parseState(bytes: Uint8Array, where: string): DaemonState {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new StateCorruptError(
      `${where}: not valid JSON (${(error as Error).message}); expected a trailwarden state document ({"schema": "trailwarden.state/v1", "jobs": {...}}). ${REPAIR_HINT}`,
      { cause: error },
    );
  }
  const parsed = DaemonState.safeParse(raw);
  if (!parsed.success) {
    throw new StateCorruptError(
      `${where}: not a trailwarden state document (expected {"schema": "trailwarden.state/v1", "jobs": {...}}). ${REPAIR_HINT}:\n  - ${zodProblems(
        'key',
        parsed.error,
      )
        .map((p) => p.replace(/^key: /, ''))
        .join('\n  - ')}`,
    );
  }
  return parsed.data;
}
