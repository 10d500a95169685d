import type { Command } from 'commander';
import { withBackends, withCliPaths } from '../app.js';
import { loadSetup } from '../config/load.js';
import { resendRun } from '../flows/resend.js';
import { createLogger } from '../logger.js';
import { ReportRenderer } from '../render/report.js';
import { configOption } from './options.js';

/** `trailwarden resend <run-id>`: a finished run's e-mail again, from its archive. */
export function registerResend(program: Command): void {
  program
    .command('resend')
    .description("re-send a finished run's report e-mail from its archived report.json and CSVs, without running the checks again")
    .argument('<run-id>', 'e.g. 20261124T080000Z-1a2b3c4d (named in the log when mail failed)')
    .addOption(configOption())
    .option('--out <dir>', 'the --out folder the run used (its archive/ and outbox/)')
    .action(async (runId: string, options: { config: string; out?: string }) => {
      const log = createLogger();
      const { config } = withCliPaths((await loadSetup(options.config)).loaded, { out: options.out });
      const renderer = await ReportRenderer.load();
      const sent = await withBackends(config, log, (backends) =>
        resendRun(
          { mail: backends.mail(), archive: backends.archive(), renderer, log },
          { runId, mailFrom: config.mail.from, mailTo: config.mail.to, attachMaxBytes: config.mail.attach_max_bytes, now: new Date() },
        ),
      );
      process.stdout.write(`trailwarden: re-sent the report of run ${runId}: ${sent.location}\n`);
    });
}
