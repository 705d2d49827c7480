import type { CacheStats } from './traced-cache.js';

/** What the admin API needs of a live cache. */
export interface LiveCache {
  readonly name: string;
  stats(): CacheStats;
  clear(): Promise<void>;
  invalidate(pattern: string): Promise<number>;
}

/** Caches listed at most; later ones still work but are not listed (counted in {@link untrackedCaches}). */
const MAX_TRACKED = 256;
const live = new Set<LiveCache>();
let untracked = 0;

/** Lists a cache until the returned function is called (on `disconnect()`). */
export function trackCache(cache: LiveCache): () => void {
  if (live.size >= MAX_TRACKED) {
    untracked++;
    return () => {};
  }
  live.add(cache);
  return () => live.delete(cache);
}

/** The caches created by `createCache()` and not disconnected, oldest first. */
export function liveCaches(): LiveCache[] {
  return [...live];
}

export function untrackedCaches(): number {
  return untracked;
}
