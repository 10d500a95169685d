import type { Check } from './catalog.js';
import type { ParamValue } from './model.js';
import { daysBefore, toCloudTrailTime, type TimeWindow } from './time.js';

/** The window one check looks at: its own lookback, ending at the run's as-of. */
export function checkWindow(check: Pick<Check, 'lookback_days'>, asOf: Date): TimeWindow {
  return { start: daysBefore(asOf, check.lookback_days), end: asOf };
}

/** The window a run must load: long enough for the check that looks furthest back. */
export function runWindow(checks: readonly Pick<Check, 'lookback_days'>[], asOf: Date): TimeWindow {
  const longest = Math.max(1, ...checks.map((check) => check.lookback_days));
  return { start: daysBefore(asOf, longest), end: asOf };
}

/** The values bound to a check's `?` placeholders, in the order its `parameters` list names them. */
export function resolveParameters(check: Check, asOf: Date): ParamValue[] {
  const window = checkWindow(check, asOf);
  return check.parameters.map((name) => {
    if (name === 'window_start') return toCloudTrailTime(window.start);
    if (name === 'window_end') return toCloudTrailTime(window.end);
    const value = check.optionValues[name];
    // parseCheck has already rejected unknown names, so this is a programming error.
    if (value === undefined) throw new Error(`check ${check.id}: no value for parameter "${name}"`);
    return value;
  });
}
