import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { encodeTraceRequest } from './otlp-trace-encoder.js';

type HttpOptions = Parameters<typeof convertLegacyHttpOptions>[0];

/**
 * The OTLP http/protobuf span exporter of exporter-trace-otlp-proto (same transport, retries,
 * timeouts and self-observability metrics), with healthspan's one-pass encoder in place of the
 * transformer's serializer (src/exporters/otlp-trace-encoder.ts says why).
 */
export class OTLPTraceExporter extends OTLPExporterBase<Parameters<SpanExporter['export']>[0]> implements SpanExporter {
  constructor(config: HttpOptions = {}) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        { serializeRequest: encodeTraceRequest, deserializeResponse: ProtobufTraceSerializer.deserializeResponse },
        'otlp_http_span_exporter',
        TraceExporterMetricsHelper,
        undefined,
      ),
    );
  }
}
