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
    t.exporter === 'otlp'
      ? `otlp ${describeOtlp(t.otlp)}, sampler ${t.sampler}${t.sampler.endsWith('traceidratio') ? ` ${t.samplerArg}` : ''}`
      : t.exporter;
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
          log.warnOnce(`${mod} was loaded before healthspan started, so the ${name} instrumentation cannot patch it; start healthspan first (node --import healthspan/register app.js)`);
        }
      } catch {
        // not installed: nothing to warn about
      }
    }
  }
}

/** Shortly after start, says which instrumented modules were really patched. */
export function reportPatchedModules(instrumentations: ReadonlyMap<string, Instrumentation[]>, log: Logger, delayMillis = 1000): void {
  const timer = setTimeout(() => {
    const patched: string[] = [];
    for (const instr of [...instrumentations.values()].flat()) {
      for (const m of patchedModules(instr)) patched.push(m.version ? `${m.name}@${m.version}` : m.name);
    }
    log.info(`patched modules: ${[...new Set(patched)].join(', ') || 'none yet'}`);
  }, delayMillis);
  timer.unref();
}
