// The build-time patches of bundled upstream code (scripts/upstream-patches.mjs) must not change
// what the patched functions answer. Each test bundles the upstream package twice, with and
// without the patches (as tsup does: ESM builds, @opentelemetry/api external), and compares.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { SamplingDecision, SpanKind, context, type Attributes } from '@opentelemetry/api';
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

/** The package bundled with its patch (whose code `marker` is) and without. */
async function loadBoth<T>(pkg: string, marker: string): Promise<{ plain: T; patched: T }> {
  const p = await load<T>(pkg, true);
  expect(p.source).toContain(marker);
  return { patched: p.module, plain: (await load<T>(pkg, false)).module };
}

describe('the build-time patches', () => {
  it('each replace code that is still in the installed upstream package, exactly once', () => {
    const files: Record<string, string> = {
      core: 'node_modules/@opentelemetry/core/dist/common/attributes.mjs',
      tracer: 'node_modules/@opentelemetry/sdk-trace/dist/Tracer.mjs',
    };
    expect(PATCHES).toHaveLength(2);
    for (const [i, file] of [files.core, files.tracer].entries()) {
      const patch = PATCHES[i]!;
      expect(patch.file.test(path.join(root, file))).toBe(true);
      expect(readFileSync(path.join(root, file), 'utf8').split(patch.from)).toHaveLength(2);
    }
  });
});

describe('the isAnyValue patch (@opentelemetry/core)', () => {
  let plain: Core;
  let patched: Core;
  beforeAll(async () => {
    ({ plain, patched } = await loadBoth<Core>('@opentelemetry/core', 'if (t === "string" || t === "number" || t === "boolean") return true;'));
  });

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
    expect(values.map((v) => patched.isAnyValue(v))).toEqual(values.map((v) => plain.isAnyValue(v)));
    expect(values.map((v) => patched.isAttributeValue(v))).toEqual(values.map((v) => plain.isAttributeValue(v)));
  });
});

describe('the startSpan attributes patch (@opentelemetry/sdk-trace)', () => {
  let plain: SdkTrace;
  let patched: SdkTrace;
  beforeAll(async () => {
    ({ plain, patched } = await loadBoth<SdkTrace>(
      '@opentelemetry/sdk-trace',
      'samplingResult.attributes == null && this._spanLimits.attributeValueLengthLimit === Infinity',
    ));
  });

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
      const ours = started(patched, c.opts);
      const theirs = started(plain, c.opts);
      expect({ attributes: ours.attributes, dropped: ours.dropped }).toEqual({ attributes: theirs.attributes, dropped: theirs.dropped });
      // The patched build skips the copy only where it cannot change anything.
      expect(ours.sameObject).toBe(c.skipsSecondPass);
      expect(theirs.sameObject).toBe(false);
    });
  }
});
