/** The process events the daemon listens to (a real `process`, or an EventEmitter in tests). */
export interface SignalSource {
  on(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * First SIGTERM or SIGINT: `graceful` (stop scheduling, let the running job finish within the grace period).
 * Any further one: `immediate` (the operator insists; exit now). Returns a function that removes the handlers.
 */
export function onShutdownSignals(
  source: SignalSource,
  handlers: { graceful(signal: NodeJS.Signals): void; immediate(signal: NodeJS.Signals): void },
): () => void {
  let received = false;
  const listener = (signal: NodeJS.Signals) => {
    if (received) {
      handlers.immediate(signal);
      return;
    }
    received = true;
    handlers.graceful(signal);
  };
  source.on('SIGTERM', listener);
  source.on('SIGINT', listener);
  return () => {
    source.off('SIGTERM', listener);
    source.off('SIGINT', listener);
  };
}

/** The conventional exit status of a process ended by a signal: 128 + its number (SIGINT 130, SIGTERM 143). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}
