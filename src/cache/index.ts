export { createCache, TracedCache, type CacheOptions, type CacheStats, type SetOptions, type WrapOptions } from './traced-cache.js';
export { MemoryStore, globToRegExp, type EvictionReason } from './memory-store.js';
export { CircuitBreaker, type BreakerState } from './breaker.js';
