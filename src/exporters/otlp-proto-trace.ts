import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { encodeTraceRequest } from './otlp-trace-encoder.js';

type OtlpExporterBase = typeof import('@opentelemetry/otlp-exporter-base');
type OtlpNodeHttp = typeof import('@opentelemetry/otlp-exporter-base/node-http');
type OtlpTransformer = typeof import('@opentelemetry/otlp-transformer');
type HttpOptions = Parameters<OtlpNodeHttp['convertLegacyHttpOptions']>[0];

/**
 * The OTLP http/protobuf span exporter of exporter-trace-otlp-proto (same transport, retries,
 * timeouts and self-observability metrics), with healthspan's one-pass encoder in place of the
 * transformer's serializer (src/exporters/otlp-trace-encoder.ts says why). The packages are
 * required here, on first use: only an app that exports over http/protobuf loads them.
 */
export function createProtobufTraceExporter(config: HttpOptions = {}): SpanExporter {
  const { OTLPExporterBase } = require('@opentelemetry/otlp-exporter-base') as OtlpExporterBase;
  const { convertLegacyHttpOptions, createOtlpHttpExportDelegate } = require('@opentelemetry/otlp-exporter-base/node-http') as OtlpNodeHttp;
  const { ProtobufTraceSerializer, TraceExporterMetricsHelper } = require('@opentelemetry/otlp-transformer') as OtlpTransformer;
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    { serializeRequest: encodeTraceRequest, deserializeResponse: ProtobufTraceSerializer.deserializeResponse },
    'otlp_http_span_exporter',
    TraceExporterMetricsHelper,
    undefined,
  );
  const exporter = new OTLPExporterBase(delegate) as SpanExporter;
  takingEncoded.add(exporter);
  return exporter;
}

/** The exporters made here: their serializer also takes spans encoded as they ended. */
const takingEncoded = new WeakSet<SpanExporter>();

/** Whether `exporter` takes spans encoded by `encodeSpan` as well as spans (one made by {@link createProtobufTraceExporter}). */
export function takesEncodedSpans(exporter: SpanExporter): boolean {
  return takingEncoded.has(exporter);
}
