import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { decodeTraceResponse } from '../../src/exporters/otlp-trace-response.ts';

const utf8 = (s: string) => [...Buffer.from(s, 'utf8')];
const len = (field: number, bytes: number[]) => [(field << 3) | 2, bytes.length, ...bytes];
// 2^40 + 3 as a varint: six 7-bit groups, the last 2^5 at a shift of 35.
const BIG = [0x83, 0x80, 0x80, 0x80, 0x80, 0x20];

const CASES: [string, number[], unknown][] = [
  ['an empty answer', [], {}],
  [
    'a partial success with both fields',
    len(1, [0x08, 0x05, ...len(2, utf8('2 spans too old: ünicode'))]),
    { partialSuccess: { rejectedSpans: 5, errorMessage: '2 spans too old: ünicode' } },
  ],
  ['an empty partial success', len(1, []), { partialSuccess: {} }],
  ['a count above 2^32', len(1, [0x08, ...BIG]), { partialSuccess: { rejectedSpans: 2 ** 40 + 3 } }],
  [
    'unknown fields and wire types at both levels',
    [0x10, 0x07, ...len(1, [0x1d, 1, 2, 3, 4, 0x08, 0x02, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, ...len(9, [1])]), ...len(3, [9, 9])],
    { partialSuccess: { rejectedSpans: 2 } },
  ],
  ['a field with a wire type it does not have', len(1, [...len(1, [1]), 0x10, 0x01]), { partialSuccess: {} }],
];

describe('decodeTraceResponse (the answer to an OTLP/HTTP protobuf trace export)', () => {
  it.each(CASES)('reads %s as upstream’s ProtobufTraceSerializer does', (_name, bytes, expected) => {
    const data = Uint8Array.from(bytes);
    expect(decodeTraceResponse(data)).toEqual(expected);
    expect(decodeTraceResponse(data)).toEqual(ProtobufTraceSerializer.deserializeResponse(data));
  });

  it.each([
    ['a varint cut short', [0x0a, 0x80]],
    ['a message cut short', [0x0a, 0x05, 0x08]],
    ['a group wire type', [0x0b]],
  ])('throws on %s, as upstream does', (_name, bytes) => {
    const data = Uint8Array.from(bytes);
    expect(() => ProtobufTraceSerializer.deserializeResponse(data)).toThrow();
    expect(() => decodeTraceResponse(data)).toThrow();
  });
});
