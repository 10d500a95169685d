import type { Command } from 'commander';
import { ConfigError } from '../core/errors.js';
import { parseAsOf } from '../core/time.js';
import { usageOf, type UsageAnswer } from '../flows/usage.js';
import { createLogger } from '../logger.js';
import { AS_OF_EXPECTED, configOption } from './options.js';

interface UsageFlags {
  config: string;
  role: string;
  session?: string;
  action?: string;
  logs?: string;
  inventory?: string;
  asOf?: string;
  days?: string;
  json?: boolean;
}

function text(answer: UsageAnswer): string {
  const lines = [
    `${answer.role}${answer.session ? ` (session ${answer.session})` : ''}: ${answer.windowStart} → ${answer.windowEnd}`,
    ...answer.verdicts.map(
      (v) =>
        `  ${v.usage.toUpperCase().padEnd(11)} ${v.action}` +
        (v.calls > 0 ? `: ${v.calls} call(s), last ${v.lastSeen}${v.sessions.length > 0 ? `, by ${v.sessions.join(', ')}` : ''}` : '') +
        ` — ${v.reason}`,
    ),
    '',
    'Only "unused" actions are safe to remove on the logs\' evidence; "unknown" ones the logs cannot judge.',
    ...(answer.session ? [`With --session, "used" and "unused" speak of session ${answer.session} only: other sessions of the role may need an action.`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** `trailwarden usage`: is this role's permission used, and by what? */
export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description("one role's permissions: used / unused / unknown, with calls, last seen, the sessions that used each and why")
    .requiredOption('--role <name|arn>', 'the role, by name (unique across accounts) or ARN')
    .option('--session <name>', "only this session's calls (an EC2 instance id, say)")
    .option('--action <service:Action>', 'one action (default: every action the role is granted)')
    .addOption(configOption())
    .option('--logs <dir>', 'a local CloudTrail tree (holding AWSLogs/), instead of the configured source')
    .option('--inventory <dir>', 'a folder of `aws iam get-account-authorization-details` outputs, instead of the configured inventory')
    .option('--as-of <time>', 'end of the window (ISO-8601, UTC if no zone); default now')
    .option('--days <n>', 'lookback in days (default: the check role_permission_usage_90d, 90)')
    .option('--json', 'print a machine-readable answer')
    .action(async (flags: UsageFlags) => {
      const problems: string[] = [];
      const asOf = flags.asOf === undefined ? undefined : parseAsOf(flags.asOf);
      if (flags.asOf !== undefined && !asOf) problems.push(`--as-of: ${JSON.stringify(flags.asOf)}: ${AS_OF_EXPECTED}`);
      const days = flags.days === undefined ? undefined : Number(flags.days);
      if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 366))
        problems.push(`--days: ${JSON.stringify(flags.days)}: expected a whole number of days from 1 to 366`);
      if (flags.action !== undefined && !/^[a-z0-9-]+:[A-Za-z0-9]+$/.test(flags.action))
        problems.push(`--action: ${JSON.stringify(flags.action)}: expected service:Action, e.g. s3:GetObject`);
      if (problems.length > 0) throw new ConfigError('usage', problems);
      const answer = await usageOf(
        { configFile: flags.config, role: flags.role, session: flags.session, action: flags.action, logs: flags.logs, inventory: flags.inventory, asOf, days },
        createLogger(),
      );
      process.stdout.write(flags.json ? `${JSON.stringify(answer, null, 2)}\n` : text(answer));
    });
}
