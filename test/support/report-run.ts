import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { runCli, type CliResult } from './cli.js';
import { tempDir } from './fixtures.js';

/** The fields of a run's manifest that tests about the logs read look at. */
export interface RunManifest {
  stats: { events: number; files_read: number; files_skipped: { path: string; reason: string }[]; accounts: string[]; regions: string[] };
}

/** A `trailwarden run` over a local tree, as a user runs it, and what it left in its run folder. */
export interface ReportRun {
  readonly result: CliResult;
  /** Undefined when the run left no run folder (it failed before archiving). */
  readonly runDir: string | undefined;
  manifest(): Promise<RunManifest>;
  reportText(): Promise<string>;
  /** A check's CSV, parsed: header row first. */
  csv(checkId: string): Promise<string[][]>;
}

/** Runs the built CLI on `logs` as of `asOf` into a fresh output folder. */
export async function runReport(logs: string, asOf: string): Promise<ReportRun> {
  const out = await tempDir('trailwarden-adversarial-out-');
  const result = await runCli(['run', '--logs', logs, '--out', out, '--as-of', asOf]);
  const day = path.join(out, 'archive', ...asOf.slice(0, 10).split('-'));
  const runs = await readdir(day).catch(() => []);
  const runDir = runs.length === 1 ? path.join(day, runs[0]!) : undefined;
  const file = (name: string) => {
    if (!runDir) throw new Error(`the run left no run folder under ${day}:\n${result.stderr}`);
    return path.join(runDir, name);
  };
  return {
    result,
    runDir,
    manifest: async () => JSON.parse(await readFile(file('manifest.json'), 'utf8')) as RunManifest,
    reportText: () => readFile(file('report.txt'), 'utf8'),
    csv: async (checkId) => parseCsv(await readFile(file(`${checkId}.csv`), 'utf8')),
  };
}

/** A root-user call, as CIS 4.3 counts it. */
export const ROOT_IDENTITY = { type: 'Root', principalId: '111111111111', arn: 'arn:aws:iam::111111111111:root', accountId: '111111111111' };
