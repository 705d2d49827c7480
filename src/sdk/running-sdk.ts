import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { LoggerProvider } from '@opentelemetry/sdk-logs';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import type { AdminServer } from '../admin/server.js';
import type { SdkConfig } from '../config/types.js';
import { DropCounter } from '../exporters/dropped.js';
import type { RequestHandler } from '../exporters/prometheus.js';
import type { InsightProcessor } from '../insight/processor.js';
import type { Logger } from '../log.js';
import { installExitHandlers } from '../shutdown.js';
import { disableGlobals } from './globals.js';
import type { Healthspan } from './types.js';

/** What the builders made (see assemble.ts); all undefined for a disabled instance. */
export interface RunningParts {
  dropped?: DropCounter;
  instrumentations?: ReadonlyMap<string, Instrumentation[]>;
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
  /** Alert log records only; never the global LoggerProvider (other libraries' logs are not ours to capture). */
  loggerProvider?: LoggerProvider;
  insight?: InsightProcessor;
  prometheusHandler?: RequestHandler;
  adminServer?: AdminServer;
  /** Stops the instrumentation loader and disables the instrumentations. */
  stopInstrumentations?: () => void;
}

export interface RunningOptions {
  log: Logger;
  /** Called once this instance has shut down: the facade forgets it. */
  onShutdown: (sdk: RunningSdk) => void;
}

/**
 * One started SDK: owns its providers, instrumentations and admin server, flushes on exit
 * signals, and stops everything within `shutdownTimeoutMillis`. Knows nothing of the facade
 * that holds it: it says it has shut down through `onShutdown`.
 */
export class RunningSdk implements Healthspan {
  readonly enabled: boolean;
  readonly dropped: DropCounter;
  readonly instrumentations: ReadonlyMap<string, Instrumentation[]>;
  readonly insight: InsightProcessor | undefined;
  readonly prometheusHandler: RequestHandler | undefined;
  private readonly removeExitHandlers: (() => void) | undefined;
  private shutdownPromise: Promise<void> | undefined;

  constructor(
    readonly config: SdkConfig,
    private readonly parts: RunningParts,
    private readonly o: RunningOptions,
  ) {
    this.enabled = !config.disabled;
    this.dropped = parts.dropped ?? new DropCounter();
    this.instrumentations = parts.instrumentations ?? new Map();
    this.insight = parts.insight;
    this.prometheusHandler = parts.prometheusHandler;
    if (this.enabled) this.removeExitHandlers = installExitHandlers(this, o.log, { exitFlushTimeoutMillis: config.exitFlushTimeoutMillis });
  }

  async forceFlush(timeoutMillis = this.config.shutdownTimeoutMillis): Promise<void> {
    if (!this.enabled) return;
    const p = this.parts;
    await withTimeout(
      // The providers' own flush timers are ref'd: they get the same bound.
      Promise.allSettled([
        p.tracerProvider?.forceFlush({ timeoutMillis }),
        p.meterProvider?.forceFlush({ timeoutMillis }),
        p.loggerProvider?.forceFlush({ timeoutMillis }),
      ]),
      timeoutMillis,
    );
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      if (!this.enabled) {
        this.o.onShutdown(this);
        return;
      }
      const p = this.parts;
      this.removeExitHandlers?.();
      p.adminServer?.close();
      const done = await withTimeout(
        Promise.allSettled([p.tracerProvider?.shutdown(), p.meterProvider?.shutdown(), p.loggerProvider?.shutdown()]),
        this.config.shutdownTimeoutMillis,
      );
      if (done === 'timeout')
        this.o.log.warnOnce(`shutdown did not finish within ${this.config.shutdownTimeoutMillis} ms (HEALTHSPAN_SHUTDOWN_TIMEOUT); unsent telemetry is lost`);
      p.stopInstrumentations?.();
      disableGlobals();
      this.o.onShutdown(this);
    })();
    return this.shutdownPromise;
  }
}

/**
 * Its timer is ref'd on purpose: a flush or shutdown in progress keeps the process alive
 * until it ends or `ms` passed (the exporters' sockets and retry timers never do).
 */
function withTimeout(p: Promise<unknown>, ms: number): Promise<undefined | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}
