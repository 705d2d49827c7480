// The build-time patches of bundled upstream code (scripts/upstream-patches.mjs) must not change
// what the patched functions answer. Each test bundles the upstream package twice, with and
// without the patches (as tsup does: ESM builds, @opentelemetry/api external), and compares.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { SamplingDecision, SpanKind, context, type Attributes, type TimeInput } from '@opentelemetry/api';
import { PATCHES, patchUpstream } from '../../scripts/upstream-patches.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const outDir = path.join(root, 'node_modules/.cache/healthspan-patch-test');

type SdkTrace = typeof import('@opentelemetry/sdk-trace');
type Core = typeof import('@opentelemetry/core');

async function bundle(pkg: string, patched: boolean): Promise<string> {
  const out = await build({
    stdin: { contents: `export * from ${JSON.stringify(pkg)};`, resolveDir: root, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    mainFields: ['module', 'main'],
    conditions: ['module'],
    external: ['@opentelemetry/api'],
    plugins: patched ? [patchUpstream] : [],
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

async function load<T>(pkg: string, patched: boolean): Promise<{ module: T; source: string }> {
  mkdirSync(outDir, { recursive: true });
  const source = await bundle(pkg, patched);
  const file = path.join(outDir, `${pkg.replace(/\W+/g, '-')}-${patched ? 'patched' : 'plain'}.mjs`);
  writeFileSync(file, source);
  return { module: (await import(pathToFileURL(file).href)) as T, source };
}

/** The package bundled with its patches (whose code the `markers` are) and without. */
async function loadBoth<T>(pkg: string, ...markers: string[]): Promise<{ plain: T; patched: T }> {
  const p = await load<T>(pkg, true);
  for (const marker of markers) expect(p.source).toContain(marker);
  return { patched: p.module, plain: (await load<T>(pkg, false)).module };
}

// Each package bundled once with its patches (each marker is one of them) and once without.
let coreBuilds: { plain: Core; patched: Core };
let traceBuilds: { plain: SdkTrace; patched: SdkTrace };
beforeAll(async () => {
  coreBuilds = await loadBoth<Core>(
    '@opentelemetry/core',
    'if (t === "string" || t === "number" || t === "boolean") return true;',
    'for (const key of Object.keys(inAttributes)) {',
  );
  traceBuilds = await loadBoth<SdkTrace>(
    '@opentelemetry/sdk-trace',
    'samplingResult.attributes == null && this._spanLimits.attributeValueLengthLimit === Infinity',
    'this._tracerMetrics = meter === api.createNoopMeter() ?',
    'opts.startTime == null && now > this._performanceStartTime ? millisToHrTime(now)',
  );
});

describe('the build-time patches', () => {
  it('each replace code that is still in the installed upstream package, exactly once', () => {
    const files = ['node_modules/@opentelemetry/core/dist/common/attributes.mjs', 'node_modules/@opentelemetry/sdk-trace/dist/Tracer.mjs'];
    expect(PATCHES.map((p) => p.edits.length)).toEqual([2, 2, 1]);
    for (const [i, file] of files.entries()) {
      const patch = PATCHES[i]!;
      expect(patch.file.test(path.join(root, file))).toBe(true);
      const source = readFileSync(path.join(root, file), 'utf8');
      for (const edit of patch.edits) expect(source.split(edit.from)).toHaveLength(2);
    }
  });
});

describe('the attribute patches (@opentelemetry/core)', () => {
  it('answers as upstream for every kind of value', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const values: unknown[] = [
      '',
      's',
      0,
      -1.5,
      Number.NaN,
      true,
      false,
      null,
      undefined,
      [],
      [1, 'a'],
      [[1]],
      { a: { b: [1] } },
      new Uint8Array([1]),
      () => 1,
      Symbol('x'),
      10n,
      cyclic,
    ];
    expect(values.map((v) => coreBuilds.patched.isAnyValue(v))).toEqual(values.map((v) => coreBuilds.plain.isAnyValue(v)));
    expect(values.map((v) => coreBuilds.patched.isAttributeValue(v))).toEqual(values.map((v) => coreBuilds.plain.isAttributeValue(v)));
  });

  it('cleans attributes as upstream: the same keys in the same order, values, dropped counts', () => {
    class WithInherited {
      own = 'o';
    }
    Object.defineProperty(WithInherited.prototype, 'inherited', { value: 'i', enumerable: true });
    const hidden = { shown: 1 };
    Object.defineProperty(hidden, 'hidden', { value: 2, enumerable: false });
    const inputs: unknown[] = [
      undefined,
      null,
      'not an object',
      {},
      { b: 'x', a: 1, 2: 'numeric key first', ok: true, list: ['p', 'q'], nested: { k: [1] }, bytes: new Uint8Array([1]) },
      { '': 'empty key', u: undefined, f: () => 1, sym: Symbol('s'), big: 10n, n: null, mixed: [1, 'two'], long: 'abcdefgh' },
      Object.assign(Object.create(null), { x: 1 }),
      new WithInherited(),
      hidden,
      { [Symbol('symbol key')]: 1, s: 's' },
      Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, i])),
    ];
    for (const limits of [
      { attributeCountLimit: Infinity, attributeValueLengthLimit: Infinity },
      { attributeCountLimit: 3, attributeValueLengthLimit: 4 },
    ]) {
      for (const input of inputs) {
        const ours = coreBuilds.patched.cleanAttributes(input as Attributes, limits);
        const theirs = coreBuilds.plain.cleanAttributes(input as Attributes, limits);
        expect(ours).toEqual(theirs);
        expect(Object.keys(ours.attributes ?? {})).toEqual(Object.keys(theirs.attributes ?? {}));
      }
    }
  });
});

describe('the startSpan attributes patch (@opentelemetry/sdk-trace)', () => {
  /** What a span started by each build holds, and what its sampler was given. */
  function started(sdk: SdkTrace, opts: { samplerAdds?: Attributes; spanLimits?: Record<string, number>; attributes: Attributes }) {
    const seen: Attributes[] = [];
    const exporter = new sdk.InMemorySpanExporter();
    const provider = new sdk.TracerProvider({
      sampler: {
        shouldSample: (_c, _t, _n, _k, attributes) => {
          seen.push(attributes);
          return { decision: SamplingDecision.RECORD_AND_SAMPLED, attributes: opts.samplerAdds };
        },
      },
      spanLimits: opts.spanLimits,
      spanProcessors: [new sdk.SimpleSpanProcessor({ exporter })],
    });
    const span = provider.getTracer('t').startSpan('s', { kind: SpanKind.SERVER, attributes: opts.attributes }, context.active());
    span.end();
    const [finished] = exporter.getFinishedSpans();
    return { attributes: finished!.attributes, dropped: finished!.droppedAttributesCount, sameObject: finished!.attributes === seen[0] };
  }

  const cases: { name: string; opts: Parameters<typeof started>[1]; skipsSecondPass: boolean }[] = [
    { name: 'plain attributes, default limits', opts: { attributes: { a: 'x', n: 1, list: ['p', 'q'], ok: true } }, skipsSecondPass: true },
    {
      name: 'invalid values and an empty key',
      opts: { attributes: { a: 'x', bad: { nested: 1 } as never, mixed: [1, 'two'] as never, '': 'empty', u: undefined } },
      skipsSecondPass: true,
    },
    { name: 'attributes the sampler adds', opts: { attributes: { a: 'x' }, samplerAdds: { 'sampler.rule': 'r1', a: 'overridden' } }, skipsSecondPass: false },
    {
      name: 'more attributes than the count limit',
      opts: { attributes: { a: 1, b: 2, c: 3 }, spanLimits: { attributeCountLimit: 2 } },
      skipsSecondPass: false,
    },
    {
      name: 'a value length limit',
      opts: { attributes: { a: 'abcdef', list: ['abcdef', 'xy'] }, spanLimits: { attributeValueLengthLimit: 3 } },
      skipsSecondPass: false,
    },
    { name: 'no attributes', opts: { attributes: {} }, skipsSecondPass: true },
  ];

  for (const c of cases) {
    it(`gives the span the same attributes and dropped count as upstream: ${c.name}`, () => {
      const ours = started(traceBuilds.patched, c.opts);
      const theirs = started(traceBuilds.plain, c.opts);
      expect({ attributes: ours.attributes, dropped: ours.dropped }).toEqual({ attributes: theirs.attributes, dropped: theirs.dropped });
      // The patched build skips the copy only where it cannot change anything.
      expect(ours.sameObject).toBe(c.skipsSecondPass);
      expect(theirs.sameObject).toBe(false);
    });
  }
});

describe('the span metrics patch (@opentelemetry/sdk-trace)', () => {
  /** `otel.sdk.span.*` points after two spans (one sampled, one dropped) and one ended, with a real meter. */
  async function spanMetrics(sdk: SdkTrace) {
    const { MeterProvider, InMemoryMetricExporter, PeriodicExportingMetricReader, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    let call = 0;
    const provider = new sdk.TracerProvider({
      meterProvider,
      sampler: { shouldSample: () => ({ decision: call++ === 0 ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD }) },
    });
    const tracer = provider.getTracer('t');
    const sampled = tracer.startSpan('sampled', {}, context.active());
    tracer.startSpan('dropped', {}, context.active()).end();
    sampled.end();
    await reader.forceFlush();
    const points = exporter
      .getMetrics()
      .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
      .flatMap((m) => m.dataPoints.map((p) => ({ name: m.descriptor.name, attributes: p.attributes, value: p.value })));
    await meterProvider.shutdown();
    return points.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }

  it('records the same span metrics as upstream with a real meter', async () => {
    const ours = await spanMetrics(traceBuilds.patched);
    expect(ours).toEqual(await spanMetrics(traceBuilds.plain));
    expect(ours.find((p) => p.name === 'otel.sdk.span.started' && p.attributes['otel.span.sampling_result'] === 'DROP')?.value).toBe(1);
    expect(ours.find((p) => p.name === 'otel.sdk.span.live')?.value).toBe(0);
  });

  it('with the no-op meter, makes no per-span metrics work and spans end as upstream', () => {
    for (const sdk of [traceBuilds.patched, traceBuilds.plain]) {
      const exporter = new sdk.InMemorySpanExporter();
      const provider = new sdk.TracerProvider({ spanProcessors: [new sdk.SimpleSpanProcessor({ exporter })] });
      const tracer = provider.getTracer('t') as unknown as { _tracerMetrics: { startSpan(p: unknown, d: SamplingDecision): unknown } };
      const end = tracer._tracerMetrics.startSpan(undefined, SamplingDecision.RECORD_AND_SAMPLED);
      expect(typeof end).toBe(sdk === traceBuilds.patched ? 'undefined' : 'function');
      (tracer as unknown as ReturnType<typeof provider.getTracer>).startSpan('s', {}, context.active()).end();
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['s']);
    }
  });
});

describe('the span start time patch (@opentelemetry/sdk-trace)', () => {
  /** A span's start and end times, with the clocks fixed, and how often performance.now() was read. */
  function timed(sdk: SdkTrace, startTime: TimeInput | undefined) {
    const dateNow = vi.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
    let perf = 5_000.25;
    const perfNow = vi.spyOn(performance, 'now').mockImplementation(() => perf);
    try {
      const exporter = new sdk.InMemorySpanExporter();
      const provider = new sdk.TracerProvider({ spanProcessors: [new sdk.SimpleSpanProcessor({ exporter })] });
      const span = provider.getTracer('t').startSpan('s', { startTime }, context.active());
      const reads = perfNow.mock.calls.length;
      perf += 12.5;
      span.end();
      const [finished] = exporter.getFinishedSpans();
      return { startTime: finished!.startTime, endTime: finished!.endTime, readsAtStart: reads };
    } finally {
      dateNow.mockRestore();
      perfNow.mockRestore();
    }
  }

  const starts: [string, TimeInput | undefined][] = [
    ['none', undefined],
    ['epoch milliseconds', 1_765_000_000_001.5],
    ['performance-relative milliseconds', 4_000.75],
    ['a Date', new Date(1_765_000_000_002)],
    ['an HrTime', [1_765_000_000, 3]],
  ];
  for (const [name, startTime] of starts) {
    it(`gives the span the same start and end as upstream: start time ${name}`, () => {
      const ours = timed(traceBuilds.patched, startTime);
      const theirs = timed(traceBuilds.plain, startTime);
      expect({ startTime: ours.startTime, endTime: ours.endTime }).toEqual({ startTime: theirs.startTime, endTime: theirs.endTime });
      // One clock read fewer at the start when no start time is given.
      expect(ours.readsAtStart).toBe(startTime === undefined ? theirs.readsAtStart - 1 : theirs.readsAtStart);
    });
  }
});
