import { describe, expect, it } from 'vitest';
import { randomUuid, serviceInstanceDetector } from '../../src/resource/service-instance.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('service.instance.id', () => {
  it('is a version 4, variant 10 UUID made of the random words, all distinct over many draws', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(randomUuid());
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(V4);
    // Every bit but the version and variant ones comes from the random source.
    expect(randomUuid(() => 0)).toBe('00000000-0000-4000-8000-000000000000');
    expect(randomUuid(() => 0.9999999999)).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    let n = 0;
    const words = [0x01234567, 0x89abcdef, 0xfedcba98, 0x76543210];
    expect(randomUuid(() => words[n++]! / 0x1_0000_0000)).toBe('01234567-89ab-4def-bedc-ba9876543210');
  });

  it('is detected once per process: the same id every time', async () => {
    const a = await serviceInstanceDetector.detect();
    const b = await serviceInstanceDetector.detect();
    expect(a.attributes?.['service.instance.id']).toMatch(V4);
    expect(b.attributes?.['service.instance.id']).toBe(a.attributes?.['service.instance.id']);
  });
});
