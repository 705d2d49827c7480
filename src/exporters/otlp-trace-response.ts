// The answer of an OTLP/HTTP protobuf trace export: ExportTraceServiceResponse, whose only field
// is partial_success (1) { rejected_spans (1, int64), error_message (2, string) }. The exporter
// base logs a partial success. Read here rather than with otlp-transformer's reader, because
// that package's entry also loads the metrics and logs serializers and the metrics SDK, which
// an app that exports only traces never needs (tsup.config.ts CHUNKS).
// Same result as otlp-transformer's ProtobufTraceSerializer.deserializeResponse (tested).

export interface TraceExportResponse {
  partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
}

/** What a span exporter's delegate counts as exported items (otlp-transformer's TraceExporterMetricsHelper). */
export const TRACE_EXPORT_METRICS = { name: 'span', countItems: (request: readonly unknown[]) => request.length } as const;

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    while (this.pos < this.buf.length) {
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error('Truncated buffer: unexpected end of data while reading varint');
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.buf.length)
      throw new Error(`Truncated buffer: expected ${len} bytes at position ${this.pos}, but only ${this.buf.length - this.pos} available`);
    this.pos += len;
    return this.buf.subarray(this.pos - len, this.pos);
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`Unknown wire type ${wire}, cannot safely skip`);
  }

  /** Calls `field` with each field number and wire type; `field` reads the value or returns false to skip it. */
  fields(field: (n: number, wire: number) => boolean): void {
    while (!this.done) {
      const tag = this.varint();
      if (!field(tag >>> 3, tag & 7)) this.skip(tag & 7);
    }
  }
}

/** Decodes an ExportTraceServiceResponse. Throws on a truncated message, as the exporter base expects of a serializer. */
export function decodeTraceResponse(data: Uint8Array): TraceExportResponse {
  const response: TraceExportResponse = {};
  const r = new Reader(data);
  r.fields((n, wire) => {
    if (n !== 1 || wire !== 2) return false;
    const partial: NonNullable<TraceExportResponse['partialSuccess']> = {};
    const p = new Reader(r.bytes());
    p.fields((m, w) => {
      if (m === 1 && w === 0) partial.rejectedSpans = p.varint();
      else if (m === 2 && w === 2) partial.errorMessage = new TextDecoder().decode(p.bytes());
      else return false;
      return true;
    });
    response.partialSuccess = partial;
    return true;
  });
  return response;
}
