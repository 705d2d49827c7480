import type { ConfigProblem } from '../config/types.js';
import type { PipelineExtensions } from './types.js';

type Key = keyof PipelineExtensions;

/** The methods healthspan calls on each kind of object (what the providers and registerInstrumentations need). */
const SHAPES: Record<Key, { methods: string[]; expected: string }> = {
  spanProcessors: {
    methods: ['onStart', 'onEnd', 'forceFlush', 'shutdown'],
    expected: 'a SpanProcessor: onStart, onEnd, forceFlush, shutdown',
  },
  metricReaders: {
    methods: ['setMetricProducer', 'selectAggregation', 'selectAggregationTemporality', 'selectCardinalityLimit', 'collect', 'forceFlush', 'shutdown'],
    expected: 'a MetricReader: setMetricProducer, selectAggregation, selectAggregationTemporality, selectCardinalityLimit, collect, forceFlush, shutdown',
  },
  extraInstrumentations: {
    methods: ['enable', 'disable', 'getConfig', 'setTracerProvider', 'setMeterProvider'],
    expected: 'an Instrumentation: enable, disable, getConfig, setTracerProvider, setMeterProvider',
  },
};

export interface CheckedExtensions {
  extensions: Required<PipelineExtensions>;
  problems: ConfigProblem[];
}

/**
 * The code-only `start()` options, checked the way settings are: a list that is no array is
 * ignored, an entry without the methods its kind needs is left out, and each is a problem
 * (a warning, or a startup error under `strict`) rather than a failure deep in the SDK.
 */
export function checkExtensions(options: PipelineExtensions): CheckedExtensions {
  const problems: ConfigProblem[] = [];
  const pick = <K extends Key>(key: K): Required<PipelineExtensions>[K] => {
    const list = (options as Record<string, unknown>)[key];
    if (list === undefined) return [];
    if (!Array.isArray(list)) {
      problems.push({ source: `options.${key}`, value: show(list), expected: `an array of objects, each ${SHAPES[key].expected}`, used: 'none' });
      return [];
    }
    return list.filter((item: unknown, i) => {
      const ok = item !== null && typeof item === 'object' && SHAPES[key].methods.every((m) => typeof (item as Record<string, unknown>)[m] === 'function');
      if (!ok) problems.push({ source: `options.${key}[${i}]`, value: show(item), expected: SHAPES[key].expected, used: '', leftOut: true });
      return ok;
    });
  };
  return {
    extensions: { spanProcessors: pick('spanProcessors'), metricReaders: pick('metricReaders'), extraInstrumentations: pick('extraInstrumentations') },
    problems,
  };
}

/** A short form of a bad value: objects by their class, never serialized (they may be large or cyclic). */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return `[function ${v.name || 'anonymous'}]`;
  if (v !== null && typeof v === 'object') return `[object ${(v as object).constructor?.name || 'Object'}]`;
  return String(v);
}
