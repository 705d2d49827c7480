import type { Logger } from './log.js';

interface Stoppable {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Flush on SIGTERM/SIGINT and on `beforeExit`. Listening to a signal replaces Node's
 * default "exit at once", so after flushing (bounded by the shutdown timeout) we re-raise
 * the signal — the process ends exactly as it would have without us — but only when no
 * other listener exists: an app that handles the signal itself decides when to exit.
 * Returns a function that removes the handlers.
 */
export function installExitHandlers(sdk: Stoppable, log: Logger): () => void {
  const handlers = new Map<string, (signal: NodeJS.Signals) => void>();
  for (const sig of SIGNALS) {
    const handler = (signal: NodeJS.Signals) => {
      process.removeListener(sig, handler);
      const appHandlesIt = process.listenerCount(sig) > 0;
      log.debug(`${signal}: flushing telemetry`);
      void sdk.shutdown().finally(() => {
        if (!appHandlesIt && process.listenerCount(sig) === 0) process.kill(process.pid, signal);
      });
    };
    handlers.set(sig, handler);
    process.on(sig, handler);
  }
  let flushedBeforeExit = false;
  const beforeExit = () => {
    // Flushing schedules work, so beforeExit fires again afterwards: flush only once.
    if (flushedBeforeExit) return;
    flushedBeforeExit = true;
    void sdk.forceFlush();
  };
  process.on('beforeExit', beforeExit);
  return () => {
    for (const [sig, handler] of handlers) process.removeListener(sig, handler);
    process.removeListener('beforeExit', beforeExit);
  };
}
