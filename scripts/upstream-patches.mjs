// Build-time patches of bundled upstream code (tsup.config.ts applies them to dist/): each is
// behaviour-preserving, removes a cost on the span path, and is an upstream report. The build
// fails when the code it replaces changed (then drop the patch if upstream fixed it, or redo
// it). test/unit/upstream-patches.test.ts bundles the patched modules and checks that they
// answer as the unpatched ones.
// Types: upstream-patches.d.mts.
import { readFileSync } from 'node:fs';

export const PATCHES = [
  {
    file: /@opentelemetry[\\/]core[\\/]dist[\\/]common[\\/]attributes\.mjs$/,
    edits: [
      {
        // @opentelemetry/core 3.1 `isAnyValue` allocates a WeakSet (for cycle detection) for every
        // attribute value the SDK validates, strings and numbers included: three times per
        // attribute of a span started with attributes. Primitives answer before the WeakSet is made.
        from: 'function isAnyValue(val) {\n\treturn isAnyValueInternal(val, /* @__PURE__ */ new WeakSet());\n}',
        to: 'function isAnyValue(val) {\n\tconst t = typeof val;\n\tif (t === "string" || t === "number" || t === "boolean") return true;\n\treturn isAnyValueInternal(val, /* @__PURE__ */ new WeakSet());\n}',
      },
      {
        // `cleanAttributesInternal` (every span started with attributes) walks
        // `Object.entries(inAttributes)`: an array per attribute and one for the list. The same
        // own enumerable keys, in the same order, read one by one.
        from: '\tfor (const [key, val] of Object.entries(inAttributes)) {\n',
        to: '\tfor (const key of Object.keys(inAttributes)) {\n\t\tconst val = inAttributes[key];\n',
      },
    ],
  },
  {
    file: /@opentelemetry[\\/]sdk-trace[\\/]dist[\\/]Tracer\.mjs$/,
    edits: [
      {
        // @opentelemetry/sdk-trace 2.x `Tracer.startSpan` cleans the attributes twice: without
        // limits for the sampler, then with the span limits after merging what the sampler added.
        // When the sampler added nothing and the limits cannot change anything (no value length
        // limit, no more attributes than the count limit), the second pass would copy the same
        // valid values into a new object: it is skipped.
        from: '\t\tconst attrsData2 = cleanAttributes(Object.assign(attributes, samplingResult.attributes), this._spanLimits);',
        to:
          '\t\tconst attrsData2 = samplingResult.attributes == null && this._spanLimits.attributeValueLengthLimit === Infinity && Object.keys(attributes).length <= this._spanLimits.attributeCountLimit' +
          ' ? { attributes, droppedAttributesCount: 0 } : cleanAttributes(Object.assign(attributes, samplingResult.attributes), this._spanLimits);',
      },
      {
        // The SDK's own span metrics (`otel.sdk.span.started`, `.live`) go to the meter of the
        // TracerProvider's `meterProvider`, the API's no-op meter when none is given (as here).
        // Per span they still build two attribute objects and an end-of-span closure for that
        // no-op meter. With the no-op meter, startSpan does nothing and returns no closure (the
        // span calls it only if there is one).
        from: '\t\tthis._tracerMetrics = new TracerMetrics(meter);',
        to: '\t\tthis._tracerMetrics = meter === api.createNoopMeter() ? { startSpan() {} } : new TracerMetrics(meter);',
      },
    ],
  },
  {
    file: /@opentelemetry[\\/]sdk-trace[\\/]dist[\\/]Span\.mjs$/,
    edits: [
      {
        // The SpanImpl constructor reads the clock three times: Date.now() and performance.now()
        // for the start, then `_getTime(now)` reads performance.now() again only to tell an epoch
        // time from a performance-relative one, which `now` (just read from Date.now()) always is
        // past. Without a start time given, the start is that `now`, in milliseconds, as
        // `_getTime` makes it.
        from: '\t\tthis.startTime = this._getTime(opts.startTime ?? now);',
        to: '\t\tthis.startTime = opts.startTime == null && now > this._performanceStartTime ? millisToHrTime(now) : this._getTime(opts.startTime ?? now);',
      },
    ],
  },
];

/**
 * Node built-ins that bundled upstream modules import at their top level but need only in a
 * function that a default start-up does not call, or calls once: each import is replaced by a
 * module of the same names that loads the built-in on first call. Start-up then does not load
 * `node:crypto` (about 50 internal modules), `node:zlib`, `node:v8` or `fs/promises` for them.
 * `exports` maps each imported name to the code of its lazy stand-in (`load()` is the built-in).
 */
export const LAZY_BUILTINS = [
  {
    // One random UUID, when the serviceinstance detector runs.
    importer: /@opentelemetry[\\/]resources[\\/]dist[\\/]detectors[\\/]platform[\\/]node[\\/]ServiceInstanceIdDetector\.mjs$/,
    builtin: 'crypto',
    exports: { randomUUID: '() => load().randomUUID()' },
  },
  {
    // gzip, only with OTEL_EXPORTER_OTLP_COMPRESSION=gzip.
    importer: /@opentelemetry[\\/]otlp-exporter-base[\\/]dist[\\/]platform[\\/]node[\\/]transport[\\/]http-transport-utils\.mjs$/,
    builtin: 'zlib',
    exports: { createGzip: '(...args) => load().createGzip(...args)' },
  },
  {
    // runtime-node's heap-space figures, read at each metrics collection.
    importer: /@opentelemetry[\\/]instrumentation-runtime-node[\\/]dist[\\/]metrics[\\/]heapSpacesSizeAndUsedCollector\.mjs$/,
    builtin: 'v8',
    exports: { getHeapSpaceStatistics: '() => load().getHeapSpaceStatistics()' },
  },
  {
    // The host detector reads /etc/machine-id once: a synchronous read of a 33-byte file, as a
    // promise, instead of loading fs/promises (and the readline it loads) for it.
    importer: /@opentelemetry[\\/]resources[\\/]dist[\\/]detectors[\\/]platform[\\/]node[\\/]machine-id[\\/]getMachineId-linux\.mjs$/,
    builtin: 'fs',
    exports: { promises: '{ readFile: (path, options) => new Promise((resolve) => resolve(load().readFileSync(path, options))) }' },
  },
];

/**
 * The source of a module whose exports load a module on first call: `load` is the expression
 * that loads it (evaluated once), `exports` maps each name to the code of its stand-in, which
 * calls `load()`.
 */
export function lazyStandIn(load, exports) {
  const lines = ['let m;', `const load = () => (m ??= ${load});`];
  for (const [name, code] of Object.entries(exports)) lines.push(`export const ${name} = ${code};`);
  return lines.join('\n');
}

/** The esbuild plugin that applies {@link PATCHES} (one entry per file, its edits in order) and {@link LAZY_BUILTINS}. */
export const patchUpstream = {
  name: 'healthspan-patch-upstream',
  setup(build) {
    // Rewritten in the importer's source (tsup resolves node: built-ins before any plugin).
    for (const [i, lazy] of LAZY_BUILTINS.entries()) {
      build.onLoad({ filter: lazy.importer }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const from = new RegExp(`from "(node:)?${lazy.builtin}";`, 'g');
        if ((source.match(from) ?? []).length !== 1)
          throw new Error(`scripts/upstream-patches.mjs: ${args.path} no longer imports ${lazy.builtin} once; review LAZY_BUILTINS`);
        return { contents: source.replace(from, `from "healthspan-lazy-builtin:${i}";`), loader: 'js' };
      });
    }
    build.onResolve({ filter: /^healthspan-lazy-builtin:\d+$/ }, (args) => ({ path: args.path, namespace: 'healthspan-lazy-builtin' }));
    build.onLoad({ filter: /.*/, namespace: 'healthspan-lazy-builtin' }, (args) => {
      const lazy = LAZY_BUILTINS[Number(args.path.split(':')[1])];
      return { contents: lazyStandIn(`require(${JSON.stringify(`node:${lazy.builtin}`)})`, lazy.exports), loader: 'js' };
    });
    for (const patch of PATCHES) {
      build.onLoad({ filter: patch.file }, (args) => {
        let source = readFileSync(args.path, 'utf8');
        for (const { from, to } of patch.edits) {
          if (source.split(from).length !== 2)
            throw new Error(`scripts/upstream-patches.mjs: the code a build-time patch replaces is no longer in ${args.path} once; review PATCHES`);
          source = source.replace(from, to);
        }
        return { contents: source, loader: 'js' };
      });
    }
  },
};
