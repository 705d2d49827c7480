import { createRequire } from 'node:module';
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { OtlpSignalConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { DropCounter } from './dropped.js';
import { describe } from './batch-queue.js';
import { unrefAgentFactory, withUnrefRetries } from './transport.js';

// Exporter packages are loaded on demand: only the protocol in use pays its start-up cost
// (the gRPC stack alone is larger than the rest of the SDK).
const load = createRequire(import.meta.url);

const TRACE_PACKAGES = {
  'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
  'http/json': '@opentelemetry/exporter-trace-otlp-http',
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
} as const;
const METRIC_PACKAGES = {
  'http/protobuf': '@opentelemetry/exporter-metrics-otlp-proto',
  'http/json': '@opentelemetry/exporter-metrics-otlp-http',
  grpc: '@opentelemetry/exporter-metrics-otlp-grpc',
} as const;
const LOG_PACKAGES = {
  'http/protobuf': '@opentelemetry/exporter-logs-otlp-proto',
  'http/json': '@opentelemetry/exporter-logs-otlp-http',
  grpc: '@opentelemetry/exporter-logs-otlp-grpc',
} as const;

function exporterOptions(c: OtlpSignalConfig): Record<string, unknown> {
  const options: Record<string, unknown> = {
    url: c.endpoint,
    timeoutMillis: c.timeoutMillis,
    compression: c.compression,
  };
  if (c.protocol === 'grpc') {
    const { Metadata } = load('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(c.headers)) metadata.set(k, v);
    options.metadata = metadata;
  } else {
    options.headers = c.headers;
    // Sockets that never keep the process alive: a script ends when its work is done (src/exporters/transport.ts).
    options.httpAgentOptions = unrefAgentFactory;
  }
  return options;
}

export function createOtlpTraceExporter(c: OtlpSignalConfig): SpanExporter {
  const { OTLPTraceExporter } = load(TRACE_PACKAGES[c.protocol]);
  return withUnrefRetries(new OTLPTraceExporter(exporterOptions(c)));
}

export function createOtlpMetricExporter(c: OtlpSignalConfig): PushMetricExporter {
  const { OTLPMetricExporter } = load(METRIC_PACKAGES[c.protocol]);
  return withUnrefRetries(new OTLPMetricExporter(exporterOptions(c)));
}

export function createOtlpLogExporter(c: OtlpSignalConfig): LogRecordExporter {
  const { OTLPLogExporter } = load(LOG_PACKAGES[c.protocol]);
  return withUnrefRetries(new OTLPLogExporter(exporterOptions(c)));
}

/**
 * Wraps a push metric exporter so that a failed export is counted (data points, in
 * `healthspan.exporter.dropped{signal="metrics"}`) and reported through the rate-limited
 * logger instead of the SDK's error handler.
 */
export class CountingMetricExporter implements PushMetricExporter {
  constructor(
    private readonly inner: PushMetricExporter,
    private readonly dropped: DropCounter,
    private readonly log: Logger,
    private readonly destination: string,
  ) {
    if (inner.selectAggregationTemporality) this.selectAggregationTemporality = inner.selectAggregationTemporality.bind(inner);
    if (inner.selectAggregation) this.selectAggregation = inner.selectAggregation.bind(inner);
  }

  selectAggregationTemporality?: PushMetricExporter['selectAggregationTemporality'];
  selectAggregation?: PushMetricExporter['selectAggregation'];

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const done = (result: ExportResult) => {
      if (result.code !== ExportResultCode.SUCCESS) {
        const points = countPoints(metrics);
        this.dropped.add('metrics', 'export_failed', points);
        this.log.warn(
          `metric export to ${this.destination} failed (${describe(result.error)}); ${points} data points dropped, ${this.dropped.total('metrics')} in total (healthspan.exporter.dropped)`,
          'metrics-export-failed',
        );
        // Reported here already; a SUCCESS keeps the SDK from logging the same failure again.
        resultCallback({ code: ExportResultCode.SUCCESS });
        return;
      }
      resultCallback(result);
    };
    try {
      this.inner.export(metrics, done);
    } catch (err) {
      done({ code: ExportResultCode.FAILED, error: err as Error });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

function countPoints(m: ResourceMetrics): number {
  let n = 0;
  for (const scope of m.scopeMetrics) for (const metric of scope.metrics) n += metric.dataPoints.length;
  return n;
}
