// Cases made from the settings table, one test per env value (named by it): every documented
// example is valid and gives what the same value as a start() option gives; every range
// accepts its bounds and refuses what lies just outside, naming the variable, the value and
// the default used; every setting left unset is its default.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/env.js';
import { formatProblem } from '../../src/config/parse.js';
import { SETTINGS } from '../../src/config/settings.js';
import type { Setting } from '../../src/config/setting.js';
import { INSTRUMENTATION_NAMES } from '../../src/config/values.js';
import { INSTRUMENTATIONS } from '../../src/instrumentations.js';

const ctx = { cwd: '/nonexistent' };
const settings = SETTINGS.filter((s) => s.path !== undefined) as (Setting & { path: string })[];

const valueAt = (obj: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
function optionAt(path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  return keys.reduceRight<unknown>((v, k) => ({ [k]: v }), value) as Record<string, unknown>;
}
const show = (v: unknown) => (Array.isArray(v) ? v.join(',') || 'none' : v === undefined ? 'none (the default)' : String(v));

// A batch may not be larger than its queue: its upper bound is tried with the largest queue.
const companion = (s: Setting): Record<string, string> =>
  s.path?.endsWith('.maxExportBatchSize') ? { [s.env[0].replace('EXPORT_BATCH', 'QUEUE')]: '1000000' } : {};

describe('every documented example', () => {
  const cases = SETTINGS.flatMap((s) => s.env.map((name) => [`${name}=${s.doc.example}`, name, s] as const));
  it.each(cases)('%s', (_title, name, s) => {
    const env = { ...companion(s), [name]: s.doc.example };
    const fromEnv = resolveConfig({}, env, ctx);
    expect(fromEnv.problems.map(formatProblem)).toEqual([]);
    if (s.path === undefined) return;
    // start() takes the same value, typed, at the same path: the same SdkConfig comes out. A
    // shared variable (OTEL_EXPORTER_OTLP_TIMEOUT) sets every signal, so there only this path is compared.
    const fromOptions = resolveConfig(optionAt(s.path, valueAt(fromEnv.config, s.path)), companion(s), ctx);
    expect(fromOptions.problems.map(formatProblem)).toEqual([]);
    if (name === s.env[0]) expect(fromOptions.config).toEqual(fromEnv.config);
    else expect(valueAt(fromOptions.config, s.path)).toEqual(valueAt(resolveConfig({}, { ...companion(s), [s.env[0]]: s.doc.example }, ctx).config, s.path));
  });
});

describe('every range, at and just past its bounds', () => {
  const cases = settings.flatMap((s) => {
    const r = s.kind.range;
    if (!r) return [];
    const below = r.integer ? r.min - 1 : r.min === 0 ? -1 : r.min / 2;
    const values: [number, boolean][] = [
      [r.min, true],
      [r.max, true],
      [below, false],
      [r.max + 1, false],
      ...(r.integer ? [[r.min + 0.5, false] as [number, boolean]] : []),
    ];
    return s.env.flatMap((name) => values.map(([v, ok]) => [`${name}=${v}`, name, String(v), ok, s] as const));
  });
  it.each(cases)('%s', (_title, name, value, ok, s) => {
    const { config, problems } = resolveConfig({}, { ...companion(s), [name]: value }, ctx);
    if (ok) {
      expect(problems).toEqual([]);
      expect(valueAt(config, s.path)).toBe(Number(value));
    } else {
      expect(problems.map(formatProblem)).toEqual([`${name}=${JSON.stringify(value)} is invalid (expected ${s.kind.expected}); using ${show(s.default)}`]);
      expect(valueAt(config, s.path)).toBe(s.default);
    }
  });
});

describe('every setting left unset', () => {
  const literal = settings.filter((s) => typeof s.default !== 'function');
  it.each(literal.map((s) => [`${s.env.join(', ') || s.path} unset`, s] as const))('%s', (_title, s) => {
    expect(valueAt(resolveConfig({}, {}, ctx).config, s.path)).toEqual(s.default);
  });
});

describe('settings that depend on others', () => {
  it('a batch larger than its queue, from start(), is named by its option path', () => {
    const { config, problems } = resolveConfig({ traces: { batch: { maxQueueSize: 10, maxExportBatchSize: 50 } } }, {}, ctx);
    expect(problems.map(formatProblem)).toEqual([
      'options.traces.batch.maxExportBatchSize=50 is invalid (expected at most options.traces.batch.maxQueueSize, which is 10); using 10',
    ]);
    expect(config.traces.batch.maxExportBatchSize).toBe(10);
  });

  it('a bad instrumentations option falls back to the env lists, like any bad option', () => {
    const { config, problems } = resolveConfig(
      { instrumentations: 'http' as never },
      { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,pg,ws', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'ws' },
      ctx,
    );
    expect(problems.map(formatProblem)).toEqual([
      // The env list stands in, and the warning says so (OTEL_NODE_DISABLED_INSTRUMENTATIONS then takes ws off).
      'options.instrumentations="http" is invalid (expected an array of instrumentation names); using http,pg,ws',
    ]);
    expect(config.instrumentations).toEqual(['http', 'pg']);
  });

  it('the disabled list does not trim an instrumentations option', () => {
    const { config } = resolveConfig({ instrumentations: ['@opentelemetry/instrumentation-http', 'ws'] }, { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'ws' }, ctx);
    expect(config.instrumentations).toEqual(['http', 'ws']);
  });
});

describe('instrumentation names', () => {
  it('are the keys of the registry, in the default order', () => {
    expect(Object.keys(INSTRUMENTATIONS)).toEqual([...INSTRUMENTATION_NAMES]);
  });
});
