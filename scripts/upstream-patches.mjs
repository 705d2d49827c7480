// Build-time patches of bundled upstream code (tsup.config.ts applies them to dist/): each is
// behaviour-preserving, removes a cost on the span path, and is an upstream report. The build
// fails when the code it replaces changed (then drop the patch if upstream fixed it, or redo
// it). test/unit/upstream-patches.test.ts bundles the patched modules and checks that they
// answer as the unpatched ones.
// Types: upstream-patches.d.mts.
import { readFileSync } from 'node:fs';

export const PATCHES = [
  {
    // @opentelemetry/core 3.1 `isAnyValue` allocates a WeakSet (for cycle detection) for every
    // attribute value the SDK validates, strings and numbers included: three times per
    // attribute of a span started with attributes. Primitives answer before the WeakSet is made.
    file: /@opentelemetry[\\/]core[\\/]dist[\\/]common[\\/]attributes\.mjs$/,
    from: 'function isAnyValue(val) {\n\treturn isAnyValueInternal(val, /* @__PURE__ */ new WeakSet());\n}',
    to: 'function isAnyValue(val) {\n\tconst t = typeof val;\n\tif (t === "string" || t === "number" || t === "boolean") return true;\n\treturn isAnyValueInternal(val, /* @__PURE__ */ new WeakSet());\n}',
  },
  {
    // @opentelemetry/sdk-trace 2.x `Tracer.startSpan` cleans the attributes twice: without
    // limits for the sampler, then with the span limits after merging what the sampler added.
    // When the sampler added nothing and the limits cannot change anything (no value length
    // limit, no more attributes than the count limit), the second pass would copy the same
    // valid values into a new object: it is skipped.
    file: /@opentelemetry[\\/]sdk-trace[\\/]dist[\\/]Tracer\.mjs$/,
    from: '\t\tconst attrsData2 = cleanAttributes(Object.assign(attributes, samplingResult.attributes), this._spanLimits);',
    to:
      '\t\tconst attrsData2 = samplingResult.attributes == null && this._spanLimits.attributeValueLengthLimit === Infinity && Object.keys(attributes).length <= this._spanLimits.attributeCountLimit' +
      ' ? { attributes, droppedAttributesCount: 0 } : cleanAttributes(Object.assign(attributes, samplingResult.attributes), this._spanLimits);',
  },
];

/** The esbuild plugin that applies {@link PATCHES} (one per file). */
export const patchUpstream = {
  name: 'healthspan-patch-upstream',
  setup(build) {
    for (const patch of PATCHES) {
      build.onLoad({ filter: patch.file }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes(patch.from))
          throw new Error(`scripts/upstream-patches.mjs: the code a build-time patch replaces is no longer in ${args.path}; review PATCHES`);
        return { contents: source.replace(patch.from, patch.to), loader: 'js' };
      });
    }
  },
};
