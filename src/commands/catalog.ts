import { Option, type Command } from 'commander';
import { loadSetup } from '../config/load.js';
import type { Check } from '../core/catalog.js';
import { ConfigError } from '../core/errors.js';
import { frameworkCoverage, knownFrameworks } from '../core/frameworks.js';
import { configOption } from './options.js';

/** `trailwarden checks` and `trailwarden validate`: what the suite is, and whether the config and checks are valid. */
export function registerCatalog(program: Command): void {
  program
    .command('checks')
    .description('list the check suite (id, severity, title), after config overrides; with --framework, the controls it covers')
    .addOption(configOption())
    .addOption(new Option('--framework <id>', 'list the controls of this framework the enabled checks cover (e.g. cis_aws_foundations_v1.4)'))
    .action(async (options: { config: string; framework?: string }) => {
      const { catalog, checks } = await loadSetup(options.config);
      if (options.framework !== undefined) {
        process.stdout.write(frameworkText(options.framework, catalog, checks));
        return;
      }
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

/**
 * The controls of `framework` the enabled checks cover (naturally sorted, with their check ids) and the known ones
 * they don't. A framework neither known nor used by any check of the catalogue is an error naming the known ones.
 */
export function frameworkText(framework: string, catalog: readonly Check[], enabled: readonly Check[]): string {
  const known = knownFrameworks(catalog);
  if (!known.includes(framework)) throw new ConfigError('--framework', [`unknown framework "${framework}" (known: ${known.join(', ')})`]);
  const coverage = frameworkCoverage(framework, enabled);
  const coveredKnown = coverage.knownControls - coverage.uncovered.length;
  const lines = [
    coverage.scope === null
      ? `${coverage.label} (${coverage.id}): ${coverage.covered.length} control(s) covered by the enabled checks`
      : `${coverage.label} (${coverage.id}): ${coveredKnown} of the ${coverage.knownControls} controls of ${coverage.scope} covered by the enabled checks`,
  ];
  const width = Math.max(0, ...[...coverage.covered, ...coverage.uncovered].map((c) => c.control.length));
  for (const control of coverage.covered) {
    lines.push(`  ${control.control.padEnd(width)}  ${control.checkIds.join(', ')}${control.title ? `  (${control.title})` : ''}`);
  }
  if (coverage.uncovered.length > 0) {
    lines.push('Not covered:');
    for (const control of coverage.uncovered) lines.push(`  ${control.control.padEnd(width)}  ${control.title}`);
  }
  return `${lines.join('\n')}\n`;
}
