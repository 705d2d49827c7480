// A protobuf writer for the OTLP span encoder (otlp-trace-encoder.ts): one growable buffer,
// minimal varints, length prefixes reserved and fixed up in place, attribute keys from a
// bounded cache of their encodings. Only what OTLP traces need.
import type { HrTime } from '@opentelemetry/api';

// Wire types.
export const VARINT = 0;
export const FIXED64 = 1;
export const LEN = 2;
export const FIXED32 = 5;

// Strings up to this length are copied by a JS loop; longer ones by the native UTF-8 writer.
const SHORT_STRING = 48;
// Attribute keys are a small set of constants in practice; past this many, keys are encoded each time.
export const MAX_CACHED_KEYS = 1024;
const KEYS = new Map<string, Buffer>();

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x61 + i] = HEX[0x41 + i] = 10 + i;

export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A tag whose field number is below 16: one byte. */
  tag(field: number, wire: number): void {
    this.ensure(1);
    this.buf[this.pos++] = (field << 3) | wire;
  }

  /** A tag of field 16 or more (Span.flags): two bytes. */
  tag2(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 127) {
        buf[this.pos++] = (v & 127) | 128;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    // 64-bit, negative as two's complement (ten bytes), as int64 fields are written.
    const abs = Math.abs(value);
    let low = abs >>> 0;
    let high = (abs / 4294967296) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 127) {
      buf[this.pos++] = (low & 127) | 128;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low & 127;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** An HrTime as fixed64 nanoseconds since the epoch (beyond 2^53, so in two halves). */
  time(t: HrTime): void {
    this.ensure(8);
    const seconds = t[0];
    // seconds * 1e9 + nanos = high16 * 1e9 * 2^16 + (low16 * 1e9 + nanos)
    const low = (seconds & 0xffff) * 1e9 + t[1];
    const upper = Math.floor(seconds / 65536) * 1e9;
    const upperLow16 = upper % 65536;
    const sum = upperLow16 * 65536 + low;
    const lo = sum >>> 0;
    const hi = (Math.floor(upper / 65536) + Math.floor(sum / 4294967296)) >>> 0;
    this.buf.writeUInt32LE(lo, this.pos);
    this.buf.writeUInt32LE(hi, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** A hex trace or span id as bytes (length-delimited). */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1;
    this.ensure(n + 1);
    const buf = this.buf;
    buf[this.pos++] = n;
    for (let i = 0; i < n; i++) {
      const hi = HEX[hex.charCodeAt(2 * i) & 127];
      const lo = HEX[hex.charCodeAt(2 * i + 1) & 127];
      buf[this.pos++] = (hi << 4) | lo;
    }
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A string as UTF-8 (length-delimited). */
  string(s: string): void {
    const len = s.length;
    if (len < 128 && len <= SHORT_STRING) {
      // One pass for ASCII: its byte length is its length; anything else starts again below.
      this.ensure(len + 1);
      const buf = this.buf;
      const start = this.pos;
      let p = start + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 127) break;
        buf[p++] = c;
      }
      if (i === len) {
        buf[start] = len;
        this.pos = p;
        return;
      }
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.buf.write(s, this.pos, n, 'utf8');
    this.pos += n;
  }

  /** A KeyValue's key field (tag, length, UTF-8), from a bounded cache of encoded keys. */
  key(k: string): void {
    const encoded = KEYS.get(k);
    if (encoded === undefined) {
      const start = this.pos;
      this.tag(1, LEN);
      this.string(k);
      if (KEYS.size < MAX_CACHED_KEYS) KEYS.set(k, Buffer.from(this.buf.subarray(start, this.pos)));
      return;
    }
    const n = encoded.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = encoded[i]!;
    this.pos = p;
  }

  /** `n` (< 128) bytes of `bytes`, length-delimited: what a cached KeyValue body is written with. */
  shortBytes(bytes: Uint8Array, n: number): void {
    this.ensure(n + 1);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = n;
    for (let i = 0; i < n; i++) buf[p++] = bytes[i]!;
    this.pos = p;
  }

  /** Reserves `reserve` bytes for a length written later by end(). Returns the mark. */
  begin(reserve: number): number {
    this.ensure(reserve);
    const mark = this.pos;
    this.pos += reserve;
    return mark * 8 + reserve;
  }

  /** Writes the length of what followed begin(), moving it when its varint needs other than the reserve. */
  end(marker: number): void {
    const reserve = marker & 7;
    const mark = (marker - reserve) / 8;
    const bodyStart = mark + reserve;
    const length = this.pos - bodyStart;
    const size = length < 128 ? 1 : length < 16384 ? 2 : length < 2097152 ? 3 : length < 268435456 ? 4 : 5;
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copy(this.buf, mark + size, bodyStart, this.pos);
      this.pos += size - reserve;
    }
    let v = length;
    let p = mark;
    const buf = this.buf;
    while (v > 127) {
      buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[p] = v;
  }
}
