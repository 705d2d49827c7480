import type { IncomingMessage } from 'node:http';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import type { SdkConfig } from '../config/types.js';
import type { RouteTemplater } from '../http/route.js';
import { InstrumentationLoader } from '../instrumentation-loader.js';
import { INSTRUMENTATIONS } from '../instrumentations.js';
import type { Logger } from '../log.js';
import { PatchReport } from '../startup-report.js';

export interface InstrumentationSetupOptions {
  config: SdkConfig;
  /** The instrumentations to enable: the configured ones, less those with nothing to record into. */
  names: SdkConfig['instrumentations'];
  templater: RouteTemplater;
  /** Incoming requests for which no span is made (see ignore-incoming.ts). */
  ignoreIncoming: (req: IncomingMessage) => boolean;
  tracerProvider: TracerProvider;
  meterProvider: MeterProvider;
  log: Logger;
  /** `start({ extraInstrumentations })`: enabled at once, listed by their `instrumentationName`. */
  added: readonly Instrumentation[];
}

export interface InstrumentationSetup {
  /** Filled as the loader creates instrumentations; the running instance exposes it. */
  instrumentations: Map<string, Instrumentation[]>;
  /** Follows which modules get patched; `start()` it once the startup block is printed. */
  patches: PatchReport;
  /** Stops the loader and disables every instrumentation enabled so far. */
  stop(): void;
}

/**
 * Enables the configured instrumentations through the InstrumentationLoader — each is created
 * when the app first loads a module it patches; http, undici and runtime-node at once — and
 * the ones added from code at once.
 */
export function setUpInstrumentations(o: InstrumentationSetupOptions): InstrumentationSetup {
  const { config, templater, ignoreIncoming, tracerProvider, meterProvider, log } = o;
  const instrumentations = new Map<string, Instrumentation[]>();
  const patches = new PatchReport(log);
  const disablers: (() => void)[] = [];
  const onPoolLimit = (limit: number) => log.warnOnce(`more than ${limit} pg pools are alive at once; the pool metrics observe the first ${limit} only`);
  const track = (name: string, made: Instrumentation[]) => {
    instrumentations.set(name, [...(instrumentations.get(name) ?? []), ...made]);
    patches.watch(name, made);
  };
  const register = (made: Instrumentation[]) => disablers.push(registerInstrumentations({ instrumentations: made, tracerProvider, meterProvider }));
  const loader = new InstrumentationLoader({
    names: o.names,
    create: (name) => {
      let made: Instrumentation[];
      try {
        const m = INSTRUMENTATIONS[name]({ config, templater, ignoreIncoming, onPoolLimit });
        made = Array.isArray(m) ? m : [m];
      } catch (err) {
        log.warnOnce(`instrumentation ${name} could not be loaded (${(err as Error).message}); it is skipped`);
        return;
      }
      track(name, made);
      register(made);
    },
  });
  loader.start();
  for (const added of o.added) {
    try {
      register([added]);
    } catch (err) {
      log.warnOnce(`the added instrumentation ${added.instrumentationName} could not be enabled (${(err as Error).message}); it is skipped`);
      continue;
    }
    track(added.instrumentationName, [added]);
  }
  return {
    instrumentations,
    patches,
    stop() {
      loader.stop();
      for (const disable of disablers) disable();
    },
  };
}
