// In-memory span and metric pipelines for cache tests: the cache records through the global
// API, so tests install these providers globally and read what one cache instance produced.
import { expect } from 'vitest';
import type { Attributes } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

export function cacheTelemetry() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });

  /** Finished spans of one cache, in end order. */
  const spansOf = (c: { name: string }): ReadableSpan[] => spans.getFinishedSpans().filter((s) => s.attributes['cache.name'] === c.name);

  /** Data points of one metric for one cache. */
  async function pointsOf(metric: string, c: { name: string }): Promise<{ attributes: Attributes; value: unknown }[]> {
    const { resourceMetrics } = await reader.collect();
    const out: { attributes: Attributes; value: unknown }[] = [];
    for (const sm of resourceMetrics.scopeMetrics) {
      for (const m of sm.metrics) {
        if (m.descriptor.name !== metric) continue;
        for (const p of m.dataPoints) if (p.attributes['cache.name'] === c.name) out.push({ attributes: p.attributes, value: p.value });
      }
    }
    return out;
  }

  /** `healthspan.cache.requests` as { 'operation tier result': count }, checking its attribute set. */
  async function requests(c: { name: string }): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of await pointsOf('healthspan.cache.requests', c)) {
      const a = p.attributes;
      expect(Object.keys(a).sort()).toEqual(['cache.name', 'cache.operation', 'cache.result', 'cache.tier']);
      out[`${a['cache.operation']} ${a['cache.tier']} ${a['cache.result']}`] = p.value as number;
    }
    return out;
  }

  return { spans, tracerProvider, meterProvider, reader, spansOf, pointsOf, requests };
}
