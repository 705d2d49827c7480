import diagnostics from 'node:diagnostics_channel';
import { createRequire, isBuiltin } from 'node:module';
import { join } from 'node:path';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { OtlpSignalConfig, SdkConfig } from './config/types.js';
import { prometheusUrl } from './exporters/prometheus.js';
import { moduleNames, patchedModules } from './instrumentations.js';
import type { Logger } from './log.js';
import { VERSION } from './semconv.js';

/** The startup block: what runs and where telemetry goes, secrets redacted. */
export function describeStartup(config: SdkConfig, via: string, instrumentations: string[]): string {
  const t = config.traces;
  const m = config.metrics;
  const traces =
    t.exporter === 'otlp' ? `otlp ${describeOtlp(t.otlp)}, sampler ${t.sampler}${t.sampler.endsWith('traceidratio') ? ` ${t.samplerArg}` : ''}` : t.exporter;
  const metrics =
    m.exporters.length === 0
      ? 'none'
      : m.exporters
          .map((e) =>
            e === 'prometheus'
              ? m.prometheus.serve
                ? `prometheus ${prometheusUrl(m.prometheus)}`
                : 'prometheus (mounted with createPrometheusHandler(), no listener)'
              : e === 'otlp'
                ? `otlp ${describeOtlp(m.otlp)} every ${m.exportIntervalMillis} ms`
                : e,
          )
          .join('; ');
  const l = config.logs;
  const logs = !config.insight.enabled
    ? 'none (insight is off)'
    : l.exporter === 'otlp'
      ? `otlp ${describeOtlp(l.otlp)} (alert records)`
      : l.exporter === 'console'
        ? 'console (alert records)'
        : 'none';
  return [
    `healthspan ${VERSION} started (node ${process.version}, pid ${process.pid}, via ${via})`,
    `  service:          ${config.serviceName}`,
    `  traces:           ${traces}`,
    `  metrics:          ${metrics}`,
    `  logs:             ${logs}`,
    `  instrumentations: ${instrumentations.join(', ') || 'none'}`,
  ].join('\n');
}

function describeOtlp(c: OtlpSignalConfig): string {
  const headers = Object.keys(c.headers);
  return `${c.protocol} → ${c.endpoint}${headers.length ? ` (headers: ${headers.map((h) => `${h}=[redacted]`).join(', ')})` : ''}`;
}

/**
 * Warns about instrumented packages that the app loaded (through require) before we
 * started: their exports were taken before we could patch them.
 */
export function warnPreloaded(instrumentations: ReadonlyMap<string, Instrumentation[]>, log: Logger): void {
  let appRequire: NodeJS.Require;
  try {
    appRequire = createRequire(join(process.cwd(), 'noop.js'));
  } catch {
    return;
  }
  for (const [name, list] of instrumentations) {
    for (const mod of new Set(list.flatMap(moduleNames))) {
      if (isBuiltin(mod)) continue;
      try {
        const resolved = appRequire.resolve(mod);
        if (appRequire.cache[resolved]?.loaded) {
          log.warnOnce(
            `${mod} was loaded before healthspan started, so the ${name} instrumentation cannot patch it; start healthspan first (node --import healthspan/register app.js)`,
          );
        }
      } catch {
        // not installed: nothing to warn about
      }
    }
  }
}

interface ModuleDefinition {
  name: string;
  patch?: (exports: unknown, version?: string) => unknown;
  files?: { patch?: (exports: unknown, version?: string) => unknown }[];
}

/**
 * Says which instrumented modules were really patched: one line shortly after start (what
 * the app loaded at start-up), then one line for each module patched later. Instrumentations
 * are created when the app first loads their module (InstrumentationLoader), which can be
 * long after start — at the first request that needs mysql2 — so a single line at start
 * would leave them out. A module counts as patched when its instrumentation's patch function
 * ran (for a module or one of its files: node-redis is patched through `@redis/client`'s
 * files), or, for fastify (instrumented through its `fastify.initialization` diagnostics
 * channel), when the first fastify instance initialised.
 */
export class PatchReport {
  private readonly patched = new Map<string, string>();
  private reported = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly log: Logger) {}

  /** Prints the start-up line after `delayMillis`; every module patched afterwards gets a line of its own. */
  start(delayMillis = 1000): void {
    const timer = setTimeout(() => {
      this.reported = true;
      this.log.info(`patched modules: ${[...this.patched.values()].join(', ') || 'none yet'}`);
    }, delayMillis);
    timer.unref();
  }

  /** Follows the patches of a newly created instrumentation (call right after creating it). */
  watch(name: string, list: readonly Instrumentation[]): void {
    // Some wrap others that do the patching (node-redis: one per major version range).
    const nested = (i: Instrumentation) =>
      Object.values(i as object).filter(
        (v): v is Instrumentation => typeof v === 'object' && v !== null && Array.isArray((v as { _modules?: unknown })._modules),
      );
    for (const instr of list.flatMap((i) => [i, ...nested(i)])) {
      for (const m of patchedModules(instr)) this.add(m.name, m.version);
      // The definitions the instrumentation patches with (getModuleDefinitions() would build new ones).
      const defs = (instr as unknown as { _modules?: ModuleDefinition[] })._modules ?? [];
      for (const def of defs) {
        this.wrap(def, def.name);
        for (const file of def.files ?? []) this.wrap(file, def.name);
      }
    }
    if (name === 'fastify') {
      const onInit = (message: unknown) => this.add('fastify', (message as { fastify?: { version?: string } })?.fastify?.version);
      diagnostics.subscribe('fastify.initialization', onInit);
      this.unsubscribe.push(() => diagnostics.unsubscribe('fastify.initialization', onInit));
    }
  }

  /** `name@version` of every module patched so far, in the order they were patched. */
  modules(): string[] {
    return [...this.patched.values()];
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private wrap(target: { patch?: (exports: unknown, version?: string) => unknown }, name: string): void {
    const original = target.patch;
    if (typeof original !== 'function') return;
    const report = this;
    target.patch = function patch(this: unknown, exports: unknown, version?: string) {
      const result = original.call(this, exports, version);
      report.add(name, version);
      return result;
    };
  }

  private add(name: string, version: string | undefined): void {
    if (this.patched.has(name)) return;
    const label = version ? `${name}@${version}` : name;
    this.patched.set(name, label);
    if (this.reported) this.log.info(`patched module: ${label} (loaded after start-up)`);
  }
}
