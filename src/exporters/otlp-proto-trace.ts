import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { encodeTraceRequest } from './otlp-trace-encoder.js';
import { decodeTraceResponse, TRACE_EXPORT_METRICS } from './otlp-trace-response.js';

type OtlpExporterBase = typeof import('@opentelemetry/otlp-exporter-base');
type OtlpNodeHttp = typeof import('@opentelemetry/otlp-exporter-base/node-http');
type HttpOptions = Parameters<OtlpNodeHttp['convertLegacyHttpOptions']>[0];

/**
 * The OTLP http/protobuf span exporter of exporter-trace-otlp-proto (same transport, retries,
 * timeouts and self-observability metrics), with healthspan's one-pass encoder in place of the
 * transformer's serializer (src/exporters/otlp-trace-encoder.ts says why) and its own reader of
 * the answer (otlp-trace-response.ts), so that otlp-transformer is not loaded at all. The packages are
 * required here, on first use: only an app that exports over http/protobuf loads them.
 */
export function createProtobufTraceExporter(config: HttpOptions = {}): SpanExporter {
  const { OTLPExporterBase } = require('@opentelemetry/otlp-exporter-base') as OtlpExporterBase;
  const { convertLegacyHttpOptions, createOtlpHttpExportDelegate } = require('@opentelemetry/otlp-exporter-base/node-http') as OtlpNodeHttp;
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    { serializeRequest: encodeTraceRequest, deserializeResponse: decodeTraceResponse },
    'otlp_http_span_exporter',
    TRACE_EXPORT_METRICS,
    undefined,
  );
  const exporter = new OTLPExporterBase(delegate) as SpanExporter;
  takingEncoded.add(exporter);
  return exporter;
}

/**
 * A {@link createProtobufTraceExporter} made by `make` at its first export, not at start-up:
 * the OTLP transport (dist/vendor/otlp.cjs) then loads after the app served its first requests,
 * when the first batch leaves. A shutdown before any export has nothing to shut down.
 */
export function createProtobufTraceExporterOnFirstExport(make: () => SpanExporter): SpanExporter {
  const exporter = new OnFirstExport(make);
  takingEncoded.add(exporter);
  return exporter;
}

class OnFirstExport implements SpanExporter {
  #exporter: SpanExporter | undefined;
  constructor(private readonly make: () => SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      this.#exporter ??= this.make();
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
      return;
    }
    this.#exporter.export(spans, done);
  }

  shutdown(): Promise<void> {
    return this.#exporter?.shutdown() ?? Promise.resolve();
  }

  forceFlush(): Promise<void> {
    return this.#exporter?.forceFlush?.() ?? Promise.resolve();
  }
}

/** The exporters made here: their serializer also takes spans encoded as they ended. */
const takingEncoded = new WeakSet<SpanExporter>();

/** Whether `exporter` takes spans encoded by `encodeSpan` as well as spans (one made by {@link createProtobufTraceExporter}). */
export function takesEncodedSpans(exporter: SpanExporter): boolean {
  return takingEncoded.has(exporter);
}
