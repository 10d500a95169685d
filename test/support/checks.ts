import type { Check } from '../../src/core/catalog.js';
import type { WindowStats } from '../../src/core/model.js';

/** A root-activity-like threshold check (any row fails, critical) for tests of evaluation, reports and mail. */
export function rootCheck(overrides: Partial<Check> = {}): Check {
  return {
    id: 'root_activity_7d',
    title: 'Root user activity',
    description: 'Root calls.',
    severity: 'critical',
    lookback_days: 7,
    parameters: [],
    columns: ['event_time', 'user_agent'],
    options: {},
    evaluation: { kind: 'threshold', metric: 'row_count', fail_above: 0 },
    on_incomplete: 'incomplete',
    references: [],
    frameworks: {},
    remediation: 'Rotate the root password.',
    sql: '',
    optionValues: {},
    ...overrides,
  };
}

/** What loading a small, complete window found: one account, one region, nothing skipped or dropped. */
export function windowStats(overrides: Partial<WindowStats> = {}): WindowStats {
  return {
    filesRead: 1,
    filesSkipped: [],
    events: 1,
    duplicates: 0,
    recordsWithoutTime: 0,
    recordsDropped: [],
    conflicts: [],
    dataEvents: 0,
    accounts: ['111111111111'],
    regions: ['us-east-1'],
    ...overrides,
  };
}
