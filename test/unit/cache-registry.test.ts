import { describe, expect, it } from 'vitest';
import { liveCaches, trackCache, untrackedCaches } from '../../src/cache/registry.js';

const fake = (name: string) => ({ name, stats: () => ({}) as never, clear: async () => {}, invalidate: async () => 0 });

describe('the live-cache registry the admin API lists', () => {
  it('lists at most 256 caches, counts the ones past it, and forgets a cache on untrack', () => {
    const before = liveCaches().length;
    const untracks = Array.from({ length: 300 }, (_, i) => trackCache(fake(`c${i}`)));
    expect(liveCaches()).toHaveLength(256);
    expect(untrackedCaches()).toBe(300 - (256 - before));
    untracks[0]();
    expect(liveCaches().some((c) => c.name === 'c0')).toBe(false);
    for (const u of untracks) u();
    expect(liveCaches()).toHaveLength(before);
  });
});
