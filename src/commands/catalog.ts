import type { Command } from 'commander';
import { loadSetup } from '../config/load.js';
import { configOption } from './options.js';

/** `trailwarden checks` and `trailwarden validate`: what the suite is, and whether the config and checks are valid. */
export function registerCatalog(program: Command): void {
  program
    .command('checks')
    .description('list the check suite (id, severity, title), after config overrides')
    .addOption(configOption())
    .action(async (options: { config: string }) => {
      const { catalog, checks } = await loadSetup(options.config);
      const enabled = new Map(checks.map((c) => [c.id, c]));
      const width = Math.max(...catalog.map((c) => c.id.length));
      for (const check of catalog) {
        const effective = enabled.get(check.id);
        const severity = (effective ?? check).severity.padEnd(8);
        process.stdout.write(`${check.id.padEnd(width)}  ${severity}  ${check.title}${effective ? '' : '  (disabled)'}\n`);
      }
    });

  program
    .command('validate')
    .description('validate the configuration and every check file, reporting all problems at once')
    .addOption(configOption())
    .action(async (options: { config: string }) => {
      const { loaded, catalog, checks } = await loadSetup(options.config);
      process.stdout.write(`${loaded.file}: valid; ${catalog.length} checks (${checks.length} enabled)\n`);
    });
}
