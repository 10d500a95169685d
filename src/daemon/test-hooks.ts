import { existsSync } from 'node:fs';

/**
 * Crash points for the at-least-once tests, and nothing else. When the process runs with NODE_ENV=test and
 * TRAILWARDEN_TEST_CRASH_AT=<step>, reaching that step kills it with SIGKILL — no cleanup, no flushing, like
 * a power cut or an OOM kill. Outside NODE_ENV=test the variable is ignored (the image sets NODE_ENV=production).
 *
 * Steps of the root alert: `after-query` (events found, nothing sent), `after-send` (a mail accepted, its
 * events not yet saved), `after-save` (everything saved, the run not yet recorded).
 */
export function crashPoint(step: string): void {
  if (process.env.NODE_ENV === 'test' && process.env.TRAILWARDEN_TEST_CRASH_AT === step) process.kill(process.pid, 'SIGKILL');
}

/**
 * Holds a report job at its start until a file exists, so a real-process test can observe a job that is
 * certainly still running (health, SIGTERM during a run) without racing it. NODE_ENV=test and
 * TRAILWARDEN_TEST_JOB_GATE=<file> only; polls, since the test creates the file from another process.
 */
export async function testGate(): Promise<void> {
  const gate = process.env.NODE_ENV === 'test' ? process.env.TRAILWARDEN_TEST_JOB_GATE : undefined;
  if (!gate) return;
  while (!existsSync(gate)) await new Promise((resolve) => setTimeout(resolve, 50));
}
