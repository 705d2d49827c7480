import type { BreakerState } from './breaker.js';
import type { EvictionReason } from './memory-store.js';

/** What `stats()` of a cache made by `createCache()` returns (docs/cache.md#stats). */
export interface CacheStats {
  hits: number;
  misses: number;
  hitRate: number;
  sets: number;
  deletes: number;
  errors: number;
  evictions: Record<EvictionReason, number>;
  expirations: number;
  entries: number;
  l1: { hits: number; misses: number; entries: number; bytes: number };
  l2: { hits: number; misses: number; errors: number; timeouts: number; state: BreakerState | 'none' };
}

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
