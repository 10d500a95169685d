import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../app.js';
import type { RunOutcome } from '../flows/report.js';

/** `--config <file>` (or TRAILWARDEN_CONFIG), shared by every command. */
export function configOption(): Option {
  return new Option('-c, --config <file>', 'configuration file (YAML)').env('TRAILWARDEN_CONFIG').default(DEFAULT_CONFIG_FILE);
}

/** A day flag (`setup athena --since`, `store rebuild --from/--to`): YYYY-MM-DD or YYYY/MM/DD, as the `YYYY/MM/DD` of day folders. */
export function dayOption(value: string): string {
  const day = value.replaceAll('-', '/');
  if (!/^\d{4}\/\d{2}\/\d{2}$/.test(day) || Number.isNaN(Date.parse(value.replaceAll('/', '-')))) {
    throw new InvalidArgumentError('expected a day as YYYY-MM-DD (or YYYY/MM/DD)');
  }
  return day;
}

/** What `--as-of` accepts. */
export const AS_OF_EXPECTED = 'expected an ISO-8601 time such as 2026-11-23T08:00:00Z (or a date, 2026-11-23)';

/** The widest status label, INCOMPLETE: the check lines stay aligned. */
const STATUS_WIDTH = 10;

/** The run summary on stdout: where the report, evidence and e-mail are, and one line per check. */
export function printOutcome(outcome: RunOutcome): void {
  const { report } = outcome;
  const lines = [
    `trailwarden: ${report.subject.replace('[trailwarden] ', '')}`,
    `  events:   ${report.events} in ${report.windowStart} → ${report.windowEnd} from ${report.filesRead} files` +
      (report.filesSkipped.length > 0 ? `; ${report.filesSkipped.length} file(s) could not be read (see the report)` : '') +
      (report.recordsDroppedTotal > 0 ? `; ${report.recordsDroppedTotal} record(s) dropped (see the report)` : '') +
      (report.conflicts.length > 0 ? `; ${report.conflicts.length} eventID conflict(s) (see the report)` : ''),
    ...(report.incompleteInput ? [`  input:    incomplete: ${report.incompleteInput}; no check can pass`] : []),
    `  report:   ${outcome.reportLocation}`,
    `  evidence: ${outcome.evidenceLocation} (${Object.keys(outcome.csvLocations).length} CSV files, manifest.json)`,
    `  email:    ${outcome.mail.location}`,
    '',
    ...report.sections.map((s) => `  ${s.status.toUpperCase().padEnd(STATUS_WIDTH)} ${s.severity.padEnd(8)} ${s.id}: ${s.reason}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
