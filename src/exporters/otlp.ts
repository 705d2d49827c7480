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
import { createProtobufTraceExporter, createProtobufTraceExporterOnFirstExport } from './otlp-proto-trace.js';
import { unrefAgentFactory, withUnrefRetries } from './transport.js';

// Exporter packages are required on demand: only the protocol in use pays its start-up cost.
// They are bundled into dist/, except the gRPC stack (@grpc/grpc-js, larger than the rest of
// the SDK): an optional peer dependency that only users of OTEL_EXPORTER_OTLP_PROTOCOL=grpc install.
const loadApp = createRequire(import.meta.url);

type Protocol = OtlpSignalConfig['protocol'];
type ExporterModule<K extends string> = Record<K, new (options: Record<string, unknown>) => unknown>;

// http/protobuf: exporter-trace-otlp-proto's transport with our one-pass encoder (otlp-proto-trace.ts).
const TRACE_PACKAGES: Record<Exclude<Protocol, 'http/protobuf'>, () => ExporterModule<'OTLPTraceExporter'>> = {
  'http/json': () => require('@opentelemetry/exporter-trace-otlp-http'),
  grpc: () => withGrpc(() => require('@opentelemetry/exporter-trace-otlp-grpc')),
};
const METRIC_PACKAGES: Record<Protocol, () => ExporterModule<'OTLPMetricExporter'>> = {
  'http/protobuf': () => require('@opentelemetry/exporter-metrics-otlp-proto'),
  'http/json': () => require('@opentelemetry/exporter-metrics-otlp-http'),
  grpc: () => withGrpc(() => require('@opentelemetry/exporter-metrics-otlp-grpc')),
};
const LOG_PACKAGES: Record<Protocol, () => ExporterModule<'OTLPLogExporter'>> = {
  'http/protobuf': () => require('@opentelemetry/exporter-logs-otlp-proto'),
  'http/json': () => require('@opentelemetry/exporter-logs-otlp-http'),
  grpc: () => withGrpc(() => require('@opentelemetry/exporter-logs-otlp-grpc')),
};

/** Thrown when the grpc protocol is configured without its optional peer dependency. */
export class MissingPackageError extends Error {}

/** Runs `load` (which needs @grpc/grpc-js), turning a missing peer into a message that says what to install. */
function withGrpc<T>(load: () => T): T {
  try {
    loadApp.resolve('@grpc/grpc-js');
  } catch {
    throw new MissingPackageError(
      'OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs the package @grpc/grpc-js, which is not installed (npm install @grpc/grpc-js), or use http/protobuf',
    );
  }
  return load();
}

function exporterOptions(c: OtlpSignalConfig): Record<string, unknown> {
  const options: Record<string, unknown> = {
    url: c.endpoint,
    timeoutMillis: c.timeoutMillis,
    compression: c.compression,
  };
  if (c.protocol === 'grpc') {
    const { Metadata } = withGrpc(() => loadApp('@grpc/grpc-js') as typeof import('@grpc/grpc-js'));
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

/** @throws MissingPackageError for grpc without @grpc/grpc-js */
export function createOtlpTraceExporter(c: OtlpSignalConfig): SpanExporter {
  if (c.protocol === 'http/protobuf') {
    const options = exporterOptions(c);
    return createProtobufTraceExporterOnFirstExport(() => withUnrefRetries(createProtobufTraceExporter(options)));
  }
  const { OTLPTraceExporter } = TRACE_PACKAGES[c.protocol]();
  return withUnrefRetries(new OTLPTraceExporter(exporterOptions(c)) as SpanExporter);
}

/** @throws MissingPackageError for grpc without @grpc/grpc-js */
export function createOtlpMetricExporter(c: OtlpSignalConfig): PushMetricExporter {
  const { OTLPMetricExporter } = METRIC_PACKAGES[c.protocol]();
  return withUnrefRetries(new OTLPMetricExporter(exporterOptions(c)) as PushMetricExporter);
}

/** @throws MissingPackageError for grpc without @grpc/grpc-js */
export function createOtlpLogExporter(c: OtlpSignalConfig): LogRecordExporter {
  const { OTLPLogExporter } = LOG_PACKAGES[c.protocol]();
  return withUnrefRetries(new OTLPLogExporter(exporterOptions(c)) as LogRecordExporter);
}

/**
 * Wraps a push metric exporter so that a failed export is counted (data points, in
 * `healthspan.exporter.dropped{signal="metrics"}`) and reported through the rate-limited
 * logger instead of the SDK's error handler. With `deadlineMs`, an export that has not
 * answered by then is reported here as failed (once) and acknowledged to the reader, so the
 * reader's own, later timeout never reports the same failure a second time; a late answer
 * of the inner exporter is ignored.
 */
export class CountingMetricExporter implements PushMetricExporter {
  constructor(
    private readonly inner: PushMetricExporter,
    private readonly dropped: DropCounter,
    private readonly log: Logger,
    private readonly destination: string,
    private readonly deadlineMs?: number,
  ) {
    if (inner.selectAggregationTemporality) this.selectAggregationTemporality = inner.selectAggregationTemporality.bind(inner);
    if (inner.selectAggregation) this.selectAggregation = inner.selectAggregation.bind(inner);
  }

  selectAggregationTemporality?: PushMetricExporter['selectAggregationTemporality'];
  selectAggregation?: PushMetricExporter['selectAggregation'];

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (result: ExportResult) => {
      if (answered) return;
      answered = true;
      if (timer) clearTimeout(timer);
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
    if (this.deadlineMs !== undefined && this.deadlineMs > 0) {
      timer = setTimeout(() => done({ code: ExportResultCode.FAILED, error: new Error(`no answer within ${this.deadlineMs} ms`) }), this.deadlineMs);
      timer.unref();
    }
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
