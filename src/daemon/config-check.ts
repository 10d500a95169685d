import type { JobConfig } from '../config/schema.js';
import { scheduleProblems } from './cron.js';

/**
 * The checks of `jobs.*` the schema can't make: each cron expression and time zone must be one node-cron and
 * the platform's time-zone database accept. Returns every problem, each with its key, for the config's error list.
 */
export function jobConfigProblems(jobs: Readonly<Record<string, JobConfig>>): string[] {
  const problems: string[] = [];
  for (const [name, job] of Object.entries(jobs)) {
    const found = scheduleProblems(job.schedule, job.timezone);
    if (found.schedule) problems.push(`jobs.${name}.schedule: ${found.schedule}`);
    if (found.timezone) problems.push(`jobs.${name}.timezone: ${found.timezone}`);
  }
  return problems;
}
