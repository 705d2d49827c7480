import { dropUnsentAtExit } from './exporters/batch-queue.js';
import type { Signal } from './exporters/dropped.js';
import { stopRetries } from './exporters/transport.js';
import type { Logger } from './log.js';

interface Stoppable {
  /** Exports what is buffered; keeps the process alive until done or `timeoutMillis` passed. */
  forceFlush(timeoutMillis?: number): Promise<void>;
  shutdown(): Promise<void>;
}

export interface ExitHandlerOptions {
  /** Longest flush when the process ends on its own (`beforeExit`). */
  exitFlushTimeoutMillis: number;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const WORDS: Record<Signal, [string, string]> = { traces: ['span', 'spans'], logs: ['log record', 'log records'], metrics: ['data point', 'data points'] };

/**
 * Flush on SIGTERM/SIGINT and on `beforeExit`. Listening to a signal replaces Node's
 * default "exit at once", so after flushing (bounded by the shutdown timeout) we re-raise
 * the signal — the process ends exactly as it would have without us — but only when no
 * other listener exists: an app that handles the signal itself decides when to exit.
 *
 * A process that ends on its own (a CLI, a cron job, a test run) flushes once at
 * `beforeExit`, for at most `exitFlushTimeoutMillis` and without retries: nothing of ours
 * keeps the loop alive (unref'd timers and sockets), so the process exits as soon as that
 * flush is done or its bound passed. What is still unsent at `exit` is counted as dropped
 * and reported in one line. Returns a function that removes the handlers.
 */
export function installExitHandlers(sdk: Stoppable, log: Logger, o: ExitHandlerOptions): () => void {
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
    // The app is done: a retry in a second or more would only delay its exit.
    const allowRetries = stopRetries();
    void sdk.forceFlush(o.exitFlushTimeoutMillis).finally(allowRetries);
  };
  const exit = () => {
    const unsent = dropUnsentAtExit();
    if (unsent.size === 0) return;
    const what = [...unsent].map(([signal, n]) => `${n} ${WORDS[signal][n === 1 ? 0 : 1]}`).join(', ');
    log.warnOnce(
      `the process exited before ${what} could be exported (the flush at exit waits at most ${o.exitFlushTimeoutMillis} ms, HEALTHSPAN_EXIT_FLUSH_TIMEOUT); counted in healthspan.exporter.dropped`,
    );
  };
  process.on('beforeExit', beforeExit);
  process.on('exit', exit);
  return () => {
    for (const [sig, handler] of handlers) process.removeListener(sig, handler);
    process.removeListener('beforeExit', beforeExit);
    process.removeListener('exit', exit);
  };
}
