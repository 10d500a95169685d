import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * pino JSON lines for machines; human-readable lines when stdout is a terminal. Logs go to stderr
 * so that stdout carries only the command's own output (the run summary, the check list).
 */
export function createLogger(level: string = process.env.TRAILWARDEN_LOG_LEVEL ?? 'info'): Logger {
  const options = { level, base: { app: 'trailwarden' }, redact: ['*.password', '*.secretAccessKey', '*.sessionToken'] };
  if (process.stdout.isTTY) {
    return pino(options, pretty({ destination: 2, colorize: true, ignore: 'pid,hostname,app', translateTime: 'SYS:HH:MM:ss' }));
  }
  return pino(options, pino.destination({ fd: 2, sync: true }));
}
