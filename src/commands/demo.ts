import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { DEFAULT_CONFIG_FILE } from '../app.js';
import { parseAsOf } from '../core/time.js';
import { DEMO_AS_OF, DEMO_INVENTORY_DIR, generateDemo } from '../demo/generate.js';
import { runOnce } from '../flows/report.js';
import { createLogger } from '../logger.js';
import { PACKAGE_ROOT } from '../version.js';
import { printOutcome } from './options.js';

const DEMO_LOGS = path.join(PACKAGE_ROOT, '.demo', 'logs');
const DEMO_INVENTORY = path.join(DEMO_LOGS, DEMO_INVENTORY_DIR);

async function ensureDemoLogs(log: Logger): Promise<void> {
  // A tree generated before the inventory existed is generated again.
  if (existsSync(path.join(DEMO_LOGS, 'AWSLogs')) && existsSync(DEMO_INVENTORY)) return;
  await rm(DEMO_LOGS, { recursive: true, force: true });
  const temp = `${DEMO_LOGS}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  const started = performance.now();
  const result = await generateDemo({ outDir: temp });
  // Rename into place only when complete, so an interrupted first run regenerates instead of using half a tree.
  await rename(temp, DEMO_LOGS);
  log.info({ files: result.files, events: result.events, ms: Math.round(performance.now() - started), dir: DEMO_LOGS }, 'demo logs generated');
}

/** `trailwarden demo`: what `npm start` runs. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate demo CloudTrail logs (once, into .demo/) and run the full job on them (what `npm start` does)')
    .option('--fresh', 'regenerate the demo logs first')
    .action(async (options: { fresh?: boolean }) => {
      const log = createLogger();
      if (options.fresh) await rm(DEMO_LOGS, { recursive: true, force: true });
      await ensureDemoLogs(log);
      const asOf = parseAsOf(DEMO_AS_OF);
      const outcome = await runOnce({ configFile: DEFAULT_CONFIG_FILE, asOf, inventory: DEMO_INVENTORY }, log);
      printOutcome(outcome);
      process.stdout.write(
        [
          '',
          `The demo logs are generated, deterministic CloudTrail files in ${DEMO_LOGS} (git-ignored), reported as of ${DEMO_AS_OF};`,
          `its IAM inventory (get-account-authorization-details per account) is in ${DEMO_INVENTORY}.`,
          'Open the report in a browser, or the .eml file in a mail client. To run on your own logs:',
          '  aws s3 sync s3://<your-cloudtrail-bucket>/AWSLogs ./my-logs/AWSLogs',
          '  npx trailwarden run --logs ./my-logs --out ./out',
          'On a schedule: add jobs to the config and run `npx trailwarden daemon`; on AWS (Athena, S3, SES): config/examples/aws.yaml.',
          'Settings: config/trailwarden.yaml (see README.md).',
          '',
        ].join('\n'),
      );
    });
}
