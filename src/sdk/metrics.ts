import type { Meter } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { IMetricReader, MeterProvider, ViewOptions } from '@opentelemetry/sdk-metrics';
import { FINE_DURATION_BUCKETS, HTTP_DURATION_BUCKETS } from '../../instrumentations/shared/buckets.js';
import type { MetricsConfig } from '../config/types.js';
import type { DropCounter } from '../exporters/dropped.js';
import { CountingMetricExporter, createOtlpMetricExporter } from '../exporters/otlp.js';
import { createPrometheusReader, handlerFor, type RequestHandler } from '../exporters/prometheus.js';
import type { RouteTemplater } from '../http/route.js';
import type { Logger } from '../log.js';
import { METRIC_EXPORTER_DROPPED, METRIC_HTTP_ROUTES_FOLDED, SCOPE_NAME } from '../semconv.js';
import { optionalExporter } from './optional-exporter.js';

type Aggregation = NonNullable<ViewOptions['aggregation']>;

export interface MetricsParts {
  /** The MeterProvider, or undefined when no reader is configured (nor added). */
  provider: MeterProvider | undefined;
  /** Serves the Prometheus reader's text, with the `prometheus` exporter. */
  prometheusHandler: RequestHandler | undefined;
}

/** The configured readers (Prometheus, periodic OTLP or console), then those added from code (`start({ metricReaders })`). */
export function buildMeterProvider(
  c: MetricsConfig,
  resource: Resource,
  o: { dropped: DropCounter; log: Logger; added: readonly IMetricReader[] },
): MetricsParts {
  if (c.exporters.length === 0 && o.added.length === 0) return { provider: undefined, prometheusHandler: undefined };
  // Required here, not imported: with OTEL_METRICS_EXPORTER=none nothing loads the metrics SDK
  // (dist/vendor/metrics.cjs, tsup.config.ts CHUNKS).
  const sdk = require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
  const readers: IMetricReader[] = [];
  let prometheusHandler: RequestHandler | undefined;
  for (const name of c.exporters) {
    if (name === 'prometheus') {
      const reader = createPrometheusReader(c.prometheus, o.log);
      prometheusHandler = handlerFor(reader);
      readers.push(reader);
    } else if (name === 'otlp' || name === 'console') {
      const otlp = name === 'otlp' ? optionalExporter(o.log, 'metric', () => createOtlpMetricExporter(c.otlp)) : undefined;
      if (name === 'otlp' && !otlp) continue;
      // Our deadline ends a hanging export before the reader's timeout (the interval), so one
      // failure is reported once: by us, with its count, not again as "export timed out".
      const deadline = Math.min(c.exportTimeoutMillis, Math.floor(c.exportIntervalMillis * 0.9));
      const exporter = otlp ? new CountingMetricExporter(otlp, o.dropped, o.log, c.otlp.endpoint, deadline) : new sdk.ConsoleMetricExporter();
      readers.push(
        new sdk.PeriodicExportingMetricReader({
          exporter,
          exportIntervalMillis: c.exportIntervalMillis,
          exportTimeoutMillis: otlp ? c.exportIntervalMillis : Math.min(c.exportTimeoutMillis, c.exportIntervalMillis),
        }),
      );
    }
  }
  readers.push(...o.added);
  if (readers.length === 0) return { provider: undefined, prometheusHandler };
  return { provider: new sdk.MeterProvider({ resource, readers, views: buildViews(sdk.AggregationType, c.durationBuckets) }), prometheusHandler };
}

/** healthspan's own counters about itself: telemetry dropped before export, routes folded into `_other`. */
export function registerOwnMetrics(meter: Meter, dropped: DropCounter, templater: RouteTemplater): void {
  meter
    .createObservableCounter(METRIC_EXPORTER_DROPPED, {
      unit: '{item}',
      description: 'Spans, metric data points and log records that were dropped before reaching the exporter, by signal and reason.',
    })
    .addCallback((result) => {
      for (const e of dropped.entries()) result.observe(e.value, { signal: e.signal, reason: e.reason });
    });
  meter
    .createObservableCounter(METRIC_HTTP_ROUTES_FOLDED, {
      unit: '{request}',
      description: 'Requests whose derived route template was reported as _other because the template limit was reached.',
    })
    .addCallback((result) => result.observe(templater.folded));
}

/**
 * Our own histograms carry the semantic conventions' advisory buckets; these views cover what
 * the official instrumentations record, and with `fine` (HEALTHSPAN_METRICS_DURATION_BUCKETS)
 * give every semantic-convention duration histogram healthspan's finer buckets. One view per
 * instrument name, so that no instrument is matched twice (which would export it twice).
 */
function buildViews(AggregationType: typeof import('@opentelemetry/sdk-metrics').AggregationType, buckets: MetricsConfig['durationBuckets']): ViewOptions[] {
  const fine = buckets === 'fine';
  const histogram = (boundaries: number[]): Aggregation => ({ type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries } });
  return [
    // DbProcessor records db.client.operation.duration for every client, with db.query.summary;
    // PgPoolInstrumentation the pool metrics. The official instrumentations' own copies go.
    ...[
      '@opentelemetry/instrumentation-pg',
      '@opentelemetry/instrumentation-mysql2',
      '@opentelemetry/instrumentation-redis',
      '@opentelemetry/instrumentation-ioredis',
    ].map((meterName): ViewOptions => ({ meterName, instrumentName: 'db.client.*', aggregation: { type: AggregationType.DROP } })),
    {
      // http and undici both record this metric, with different descriptions; one
      // description avoids a conflict warning on every start.
      instrumentName: 'http.client.request.duration',
      description: 'Duration of HTTP client requests.',
      aggregation: histogram(fine ? FINE_DURATION_BUCKETS : HTTP_DURATION_BUCKETS),
    },
    ...(fine
      ? [
          { meterName: 'healthspan-http-server', instrumentName: 'http.server.request.duration', aggregation: histogram(FINE_DURATION_BUCKETS) },
          { meterName: SCOPE_NAME, instrumentName: 'db.client.operation.duration', aggregation: histogram(FINE_DURATION_BUCKETS) },
          { meterName: 'healthspan-pg-pool', instrumentName: 'db.client.connection.wait_time', aggregation: histogram(FINE_DURATION_BUCKETS) },
        ]
      : []),
  ];
}
