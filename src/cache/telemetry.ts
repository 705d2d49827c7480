import type { createHash } from 'node:crypto';
import { metrics, trace, type Attributes, type Counter, type Histogram, type MeterProvider, type Tracer } from '@opentelemetry/api';
import { DURATION_BUCKETS } from '../../instrumentations/shared/buckets.js';
import { VERSION } from '../../instrumentations/shared/version.js';

export const CACHE_SCOPE = 'healthspan-cache';

export type KeyAttribute = 'none' | 'hashed' | 'raw';

export interface CacheInstruments {
  requests: Counter;
  duration: Histogram;
  evictions: Counter;
}

/** Observed values of one cache, read at collection time. */
export interface CacheGauges {
  name: string;
  entries(): number;
  l2State(): number | undefined;
}

const gauges = new Set<CacheGauges>();
let bound: { provider: MeterProvider; instruments: CacheInstruments } | undefined;

/**
 * The cache's instruments on the current global MeterProvider. The metrics API has no proxy
 * meter, so a cache created before the SDK started would otherwise record into a no-op meter
 * forever: instruments are rebuilt when the global provider changes.
 */
export function instruments(): CacheInstruments {
  const provider = metrics.getMeterProvider();
  if (bound?.provider === provider) return bound.instruments;
  const meter = provider.getMeter(CACHE_SCOPE, VERSION);
  const made: CacheInstruments = {
    requests: meter.createCounter('healthspan.cache.requests', { unit: '{request}', description: 'Cache operations by tier and result.' }),
    duration: meter.createHistogram('healthspan.cache.operation.duration', {
      unit: 's',
      description: 'Duration of cache operations.',
      advice: { explicitBucketBoundaries: [0.00001, 0.0001, ...DURATION_BUCKETS] },
    }),
    evictions: meter.createCounter('healthspan.cache.evictions', { unit: '{entry}', description: 'Entries evicted from L1, by reason.' }),
  };
  const entries = meter.createObservableGauge('healthspan.cache.entries', { unit: '{entry}', description: 'Entries in the L1 tier.' });
  const state = meter.createObservableGauge('healthspan.cache.l2.state', {
    unit: '1',
    description: 'State of the L2 circuit breaker: 0 closed, 1 open, 2 half-open.',
  });
  meter.addBatchObservableCallback(
    (result) => {
      for (const g of gauges) {
        const attrs = { 'cache.name': g.name };
        result.observe(entries, g.entries(), attrs);
        const s = g.l2State();
        if (s !== undefined) result.observe(state, s, attrs);
      }
    },
    [entries, state],
  );
  bound = { provider, instruments: made };
  return made;
}

export function registerGauges(g: CacheGauges): () => void {
  gauges.add(g);
  return () => gauges.delete(g);
}

let cachedTracer: { provider: unknown; tracer: Tracer } | undefined;

/** The cache tracer, looked up again only when the global provider changes. */
export function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (cachedTracer?.provider !== provider) cachedTracer = { provider, tracer: provider.getTracer(CACHE_SCOPE, VERSION) };
  return cachedTracer.tracer;
}

// node:crypto is loaded with the first hashed key, not at start-up.
let makeHash: typeof createHash | undefined;

export function keyAttributes(mode: KeyAttribute, key: string): Attributes {
  if (mode === 'raw') return { 'cache.key': key };
  if (mode === 'hashed')
    return { 'cache.key': (makeHash ??= require('node:crypto').createHash as typeof createHash)('sha256').update(key).digest('hex').slice(0, 16) };
  return {};
}
