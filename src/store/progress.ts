import cliProgress from 'cli-progress';
import { formatMegabytes } from '../core/cost.js';
import type { Logger } from 'pino';
import type { ConvertProgress } from '../engines/types.js';

/** Log lines no more often than this when stderr is not a terminal. */
const LOG_EVERY_MS = 10_000;

/**
 * How a long conversion into the store shows its progress: a bar on stderr when it is a terminal, otherwise a pino
 * line at the start, every LOG_EVERY_MS and at the end (a container's log, a cron mail).
 */
export function conversionProgress(log: Logger, stream: NodeJS.WriteStream = process.stderr): (progress: ConvertProgress) => void {
  if (stream.isTTY) {
    let bar: cliProgress.SingleBar | undefined;
    return (progress) => {
      if (progress.phase === 'start') {
        bar = new cliProgress.SingleBar(
          { stream, format: 'converting logs into the store [{bar}] {percentage}% | {done} of {total} | {partitions} partitions', hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(progress.bytes, 0, { done: formatMegabytes(0), total: formatMegabytes(progress.bytes), partitions: progress.partitions });
      } else {
        bar?.update(progress.doneBytes, { done: formatMegabytes(progress.doneBytes) });
        if (progress.phase === 'end') {
          bar?.stop();
          bar = undefined;
        }
      }
    };
  }
  let last = 0;
  return (progress) => {
    const now = performance.now();
    if (progress.phase === 'progress' && now - last < LOG_EVERY_MS) return;
    last = now;
    log.info(
      { conversion: progress.phase, partitions: progress.partitions, bytes: progress.bytes, doneBytes: progress.doneBytes },
      progress.phase === 'start'
        ? 'converting logs into the store'
        : progress.phase === 'end'
          ? 'logs converted into the store'
          : 'converting logs into the store: progress',
    );
  };
}
