export type EvictionReason = 'capacity' | 'expired' | 'invalidated';

export interface MemoryEntry<V = unknown> {
  value: V;
  /** Absolute ms; 0 = never. */
  expiresAt: number;
  /** Until when an expired value may still be served stale (wrap with staleWhileRevalidate). */
  staleUntil: number;
  bytes: number;
  tags?: string[];
}

export interface MemoryStoreOptions {
  /** @default 1000 */
  maxEntries?: number;
  /** Approximate bound on the summed JSON size of values. @default unlimited */
  maxBytes?: number;
  /** How often expired entries are reclaimed without being read. @default 1000 */
  sweepIntervalMs?: number;
  onEvict?: (key: string, reason: EvictionReason) => void;
  now?: () => number;
}

/**
 * The L1 tier: an LRU (a Map in recency order) with per-entry TTL, bounded by entries and
 * optionally bytes. Expired entries are never served and are reclaimed by a periodic sweep
 * (unref'd), not only on read; every eviction is reported with its reason.
 */
export class MemoryStore {
  private readonly map = new Map<string, MemoryEntry>();
  private readonly tagIndex = new Map<string, Set<string>>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  bytes = 0;

  constructor(private readonly o: MemoryStoreOptions = {}) {
    this.maxEntries = o.maxEntries ?? 1000;
    this.maxBytes = o.maxBytes ?? Infinity;
    this.now = o.now ?? Date.now;
    const every = o.sweepIntervalMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref();
    }
  }

  get size(): number {
    return this.map.size;
  }

  /** A fresh entry (moved to most recent), or a stale one still inside its grace period. */
  peek(key: string): { entry: MemoryEntry; stale: boolean } | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    const t = this.now();
    if (entry.expiresAt !== 0 && entry.expiresAt <= t) {
      if (entry.staleUntil > t) return { entry, stale: true };
      this.remove(key, 'expired');
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, entry);
    return { entry, stale: false };
  }

  get<V>(key: string): V | undefined {
    const hit = this.peek(key);
    return hit && !hit.stale ? (hit.entry.value as V) : undefined;
  }

  set(key: string, value: unknown, ttlMs: number, options: { staleMs?: number; tags?: string[]; bytes?: number } = {}): void {
    const bytes = options.bytes ?? sizeOf(value);
    if (bytes > this.maxBytes) {
      // Larger than the whole tier: keeping it would evict everything else.
      this.remove(key, 'capacity');
      return;
    }
    const t = this.now();
    const expiresAt = ttlMs > 0 ? t + ttlMs : 0;
    const staleUntil = expiresAt !== 0 && options.staleMs ? expiresAt + options.staleMs : 0;
    this.removeQuietly(key);
    this.map.set(key, { value, expiresAt, staleUntil, bytes, tags: options.tags });
    this.bytes += bytes;
    for (const tag of options.tags ?? []) {
      let keys = this.tagIndex.get(tag);
      if (!keys) this.tagIndex.set(tag, (keys = new Set()));
      keys.add(key);
    }
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest, 'capacity');
    }
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Removes a key on the app's request (not counted as an eviction). */
  delete(key: string): boolean {
    return this.removeQuietly(key);
  }

  /** Removes every key matching `match`; returns how many. */
  invalidate(match: (key: string) => boolean): number {
    let n = 0;
    for (const key of [...this.map.keys()]) {
      if (match(key)) {
        this.remove(key, 'invalidated');
        n++;
      }
    }
    return n;
  }

  invalidateTags(tags: string[]): number {
    let n = 0;
    for (const tag of tags) {
      for (const key of [...(this.tagIndex.get(tag) ?? [])]) {
        if (this.map.has(key)) {
          this.remove(key, 'invalidated');
          n++;
        }
      }
      this.tagIndex.delete(tag);
    }
    return n;
  }

  clear(): void {
    this.map.clear();
    this.tagIndex.clear();
    this.bytes = 0;
  }

  /** Reclaims expired entries (past their stale grace period). */
  sweep(): number {
    const t = this.now();
    let n = 0;
    for (const [key, e] of this.map) {
      if (e.expiresAt !== 0 && e.expiresAt <= t && e.staleUntil <= t) {
        this.remove(key, 'expired');
        n++;
      }
    }
    return n;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private remove(key: string, reason: EvictionReason): void {
    if (this.removeQuietly(key)) this.o.onEvict?.(key, reason);
  }

  private removeQuietly(key: string): boolean {
    const e = this.map.get(key);
    if (!e) return false;
    this.map.delete(key);
    this.bytes -= e.bytes;
    for (const tag of e.tags ?? []) {
      const keys = this.tagIndex.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.tagIndex.delete(tag);
    }
    return true;
  }
}

/** Approximate size in bytes: the JSON length (what L2 would store). */
export function sizeOf(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value === 'string') return value.length;
  if (Buffer.isBuffer(value)) return value.length;
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}

/** `*`, `?` and `[abc]` glob → a RegExp over the whole key (the Redis MATCH syntax). */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        re += `[${pattern.slice(i + 1, end).replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}
