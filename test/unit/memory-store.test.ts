import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/cache/breaker.js';
import { MemoryStore, globToRegExp, type EvictionReason } from '../../src/cache/memory-store.js';

function store(options: { maxEntries?: number; maxBytes?: number } = {}) {
  let now = 1000;
  const evicted: [string, EvictionReason][] = [];
  const s = new MemoryStore({ ...options, sweepIntervalMs: 0, now: () => now, onEvict: (k, r) => evicted.push([k, r]) });
  return { s, evicted, tick: (ms: number) => (now += ms) };
}

describe('MemoryStore', () => {
  it('evicts the least recently used entry past maxEntries and says why', () => {
    const { s, evicted } = store({ maxEntries: 2 });
    s.set('a', 1, 0);
    s.set('b', 2, 0);
    expect(s.get('a')).toBe(1); // a is now the most recent
    s.set('c', 3, 0);
    expect(evicted).toEqual([['b', 'capacity']]);
    expect([s.get('a'), s.get('b'), s.get('c')]).toEqual([1, undefined, 3]);
  });

  it('keeps the summed size under maxBytes and refuses a value larger than the whole tier', () => {
    const { s, evicted } = store({ maxBytes: 10 });
    s.set('a', 'xxxx', 0);
    s.set('b', 'yyyy', 0);
    s.set('c', 'zzzz', 0);
    expect(s.bytes).toBe(8);
    expect(evicted).toEqual([['a', 'capacity']]);
    s.set('big', 'x'.repeat(11), 0);
    expect(s.get('big')).toBeUndefined();
    expect(s.size).toBe(2);
  });

  it('never serves an expired entry and reclaims it on sweep without a read', () => {
    const { s, evicted, tick } = store();
    s.set('a', 1, 50);
    s.set('b', 2, 500);
    tick(60);
    expect(s.size).toBe(2);
    expect(s.sweep()).toBe(1);
    expect(s.size).toBe(1);
    expect(evicted).toEqual([['a', 'expired']]);
    expect(s.get('b')).toBe(2);
  });

  it('serves an expired entry as stale only within its grace period', () => {
    const { s, tick } = store();
    s.set('a', 1, 50, { staleMs: 100 });
    tick(60);
    expect(s.get('a')).toBeUndefined();
    expect(s.peek('a')).toMatchObject({ stale: true, entry: { value: 1 } });
    tick(100);
    expect(s.peek('a')).toBeUndefined();
  });

  it('invalidates by predicate and by tag, counted as invalidated', () => {
    const { s, evicted } = store();
    s.set('users:1', 1, 0, { tags: ['org:a'] });
    s.set('users:2', 2, 0, { tags: ['org:b'] });
    s.set('orders:1', 3, 0, { tags: ['org:a'] });
    const re = globToRegExp('users:*');
    expect(s.invalidate((k) => re.test(k))).toBe(2);
    expect(s.invalidateTags(['org:a'])).toBe(1);
    expect(evicted.map(([k, r]) => `${k}:${r}`)).toEqual(['users:1:invalidated', 'users:2:invalidated', 'orders:1:invalidated']);
    expect(s.size).toBe(0);
  });
});

describe('globToRegExp', () => {
  it.each([
    ['users:*', 'users:1', true],
    ['users:*', 'user:1', false],
    ['u?er', 'user', true],
    ['[ab]c', 'bc', true],
    ['[ab]c', 'cc', false],
    ['a.b', 'axb', false],
    ['a\\*', 'a*', true],
    ['a\\*', 'ab', false],
  ])('%s matches %s: %s', (pattern, key, want) => {
    expect(globToRegExp(pattern).test(key)).toBe(want);
  });
});

describe('CircuitBreaker', () => {
  it('opens after N failures in a row, lets one probe through after openMs, and closes on its success', () => {
    let now = 0;
    const states: string[] = [];
    const b = new CircuitBreaker({ failures: 3, openMs: 100, now: () => now, onChange: (s) => states.push(s) });
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    now = 100;
    expect(b.allow()).toBe(true); // the probe
    expect(b.allow()).toBe(false); // only one
    b.failure();
    expect(b.state).toBe('open');
    now = 200;
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });
});
