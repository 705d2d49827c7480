import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defineConfig, type Options } from 'tsup';
import { lazyStandIn, patchUpstream } from './scripts/upstream-patches.mjs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const define = { __HEALTHSPAN_VERSION__: JSON.stringify(pkg.version) };

// What a user installs is `dependencies` (the OpenTelemetry API the app shares with us,
// import-in-the-middle, whose lib/register.js the wrappers of its ESM hook import by URL and
// whose off-thread hook.mjs Node loads by name, and keyv) and, when asked for, the optional
// peers (@grpc/grpc-js, redis). Everything else — the OpenTelemetry SDK, exporters and
// contrib instrumentations — is bundled here from our locked, de-duplicated tree: one copy of
// each, whatever else the app installs. (tsup keeps those external by default too.)
const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)];

// @datadog/sketches-js (insight's latency quantiles) carries generated protobuf code for its
// toProto/fromProto, which we never call: 33 kB that every start would parse, and protobufjs
// with it. Its requires of that code get a stand-in that says so if it is ever reached.
const sketchesWithoutProto: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'healthspan-sketches-without-proto',
  setup(build) {
    build.onResolve({ filter: /\/proto\/compiled$/ }, (args) =>
      /[\\/]@datadog[\\/]sketches-js[\\/]/.test(args.importer) ? { path: 'compiled', namespace: 'healthspan-no-proto' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'healthspan-no-proto' }, () => ({
      loader: 'js',
      contents:
        'module.exports = new Proxy({}, { get() { throw new Error("healthspan does not bundle the protobuf serialisation of @datadog/sketches-js"); } });',
    }));
  },
};

// Instrumentation packages needed only once the app loads the module they patch: each goes to
// dist/vendor/<file>.cjs, so the main bundle (compiled at every start) stays small and an app
// without mysql2 never compiles the mysql2 instrumentation. src/ requires them by package name;
// the main build rewrites those requires to the vendor files.
export const VENDORED: Record<string, string> = {
  '@opentelemetry/instrumentation-pg': 'instrumentation-pg',
  '@opentelemetry/instrumentation-mysql2': 'instrumentation-mysql2',
  '@opentelemetry/instrumentation-redis': 'instrumentation-redis',
  '@opentelemetry/instrumentation-ioredis': 'instrumentation-ioredis',
  '@opentelemetry/instrumentation-express': 'instrumentation-express',
  '@opentelemetry/instrumentation-koa': 'instrumentation-koa',
  '@opentelemetry/instrumentation-socket.io': 'instrumentation-socket.io',
  '@fastify/otel': 'fastify-otel',
  '@ioredis/commands': 'ioredis-commands',
};
// Upstream packages that a start-up may not need at all: the metrics SDK and its exporters
// (OTEL_METRICS_EXPORTER=none), the logs SDK (OTEL_LOGS_EXPORTER=none), the OTLP transport and
// transformer (until the first export), the gRPC exporters (only with the grpc protocol). Each
// group goes to dist/vendor/<chunk>.cjs, which every start would otherwise parse as part of the
// main bundle: src/ requires the packages by name, where it needs them, and the build rewrites
// those requires to the chunk, which evaluates a package on its first require. A chunk takes a
// package of another chunk from that chunk (one instance of each), and SHARED from the main bundle.
// src/register/load-main.ts gives chunks the same code cache as the main bundle.
export const CHUNKS: Record<string, string[]> = {
  otlp: [
    '@opentelemetry/otlp-exporter-base',
    '@opentelemetry/otlp-exporter-base/node-http',
    '@opentelemetry/otlp-transformer',
    '@opentelemetry/exporter-trace-otlp-http',
  ],
  metrics: [
    '@opentelemetry/sdk-metrics',
    '@opentelemetry/exporter-prometheus',
    '@opentelemetry/exporter-metrics-otlp-http',
    '@opentelemetry/exporter-metrics-otlp-proto',
    '@opentelemetry/instrumentation-runtime-node',
  ],
  logs: ['@opentelemetry/sdk-logs', '@opentelemetry/exporter-logs-otlp-http', '@opentelemetry/exporter-logs-otlp-proto'],
  'otlp-grpc': ['@opentelemetry/exporter-trace-otlp-grpc', '@opentelemetry/exporter-metrics-otlp-grpc', '@opentelemetry/exporter-logs-otlp-grpc'],
};
const chunkOf = new Map(Object.entries(CHUNKS).flatMap(([chunk, names]) => names.map((name) => [name, chunk] as const)));

// Packages with process-wide state (the require hook singleton, the global error handler) that
// the vendor files must share with the main bundle instead of carrying a copy: the main bundle
// publishes them under this symbol before it requires a vendor file (src/vendor-shared.ts).
const SHARED = ['@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/instrumentation', '@opentelemetry/resources'];
export const SHARED_SYMBOL = 'healthspan.vendor.shared';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const exact = (names: string[]) => new RegExp(`^(${names.map(escapeRegExp).join('|')})$`);

const toVendorFiles: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'healthspan-vendor-requires',
  setup(build) {
    build.onResolve({ filter: exact(Object.keys(VENDORED)) }, (args) => ({ path: `./vendor/${VENDORED[args.path]}.cjs`, external: true }));
  },
};
/** Requires of a chunk's packages, from `from` (the main bundle's folder or dist/vendor/), go to the chunk file. */
function toChunks(from: 'main' | 'vendor', own?: string): NonNullable<Options['esbuildPlugins']>[number] {
  return {
    name: 'healthspan-to-chunks',
    setup(build) {
      build.onResolve({ filter: exact([...chunkOf.keys()]) }, (args) => {
        const chunk = chunkOf.get(args.path);
        if (chunk === own) return undefined;
        return { path: args.path, namespace: 'healthspan-chunk', pluginData: { chunk } };
      });
      build.onLoad({ filter: /.*/, namespace: 'healthspan-chunk' }, (args) => {
        const file = `${from === 'main' ? './vendor/' : './'}${args.pluginData.chunk}.cjs`;
        return { contents: `module.exports = require(${JSON.stringify(file)})(${JSON.stringify(args.path)});`, loader: 'js' };
      });
      build.onResolve({ filter: /^\.\/.*\.cjs$/, namespace: 'healthspan-chunk' }, (args) => ({ path: args.path, external: true }));
    },
  };
}
// A SHARED package in a vendor file is an ES module of named constants, copied from the main
// bundle's instance when the vendor file loads: the vendor file's code then reads them as plain
// variables. (A CommonJS `module.exports = <instance>` would be read through esbuild's
// namespace getters, one closure per name sharing one megamorphic `from[key]`: 2 % of the CPU
// the pg instrumentation's file used per query.) Their exports are bindings that never change.
const fromMainBundle: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'healthspan-shared-from-main',
  setup(build) {
    build.onResolve({ filter: exact(SHARED) }, (args) => ({ path: args.path, namespace: 'healthspan-shared' }));
    build.onLoad({ filter: /.*/, namespace: 'healthspan-shared' }, async (args) => {
      const names = Object.keys(await import(args.path)).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
      const lines = [`const m = globalThis[Symbol.for(${JSON.stringify(SHARED_SYMBOL)})][${JSON.stringify(args.path)}];`];
      for (const n of names) lines.push(`export const ${n} = m.${n};`);
      lines.push('export default m;');
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};

// Packages reached through require() (the lazy requires in src/, CommonJS packages such as
// @fastify/otel) resolve to their ESM builds too: the CommonJS build of semantic-conventions
// alone is 170 kB, of which we use a few names.
const preferEsm: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'healthspan-prefer-esm',
  setup(build) {
    build.onResolve({ filter: /^@opentelemetry\// }, async (args) => {
      if (args.kind !== 'require-call' || args.pluginData?.preferEsm || args.path === '@opentelemetry/api') return undefined;
      const r = await build.resolve(args.path, {
        kind: 'import-statement',
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: { preferEsm: true },
      });
      return r.errors.length ? undefined : { path: r.path, external: r.external, sideEffects: r.sideEffects };
    });
  },
};

// import-in-the-middle's in-thread hook (src/esm-hooks.ts) is bundled: its create-hook.mjs and
// supports-sync-hooks.mjs with what they import, but for its two WebAssembly lexers, which are
// loaded from the installed package's own dependencies by the first call that needs one. The
// rest of the package (index.js, lib/register.js, the off-thread hook.mjs) stays external: the
// wrappers the hook generates import the installed lib/register.js by its URL, and package.json
// pins the version so that bundled and installed halves match.
const iitmDir = path.dirname(createRequire(import.meta.url).resolve('import-in-the-middle'));
const iitmHooksInBundle: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'healthspan-iitm-hooks-in-bundle',
  setup(build) {
    build.onResolve({ filter: /^import-in-the-middle\/(create-hook|supports-sync-hooks)\.mjs$/ }, (args) => ({
      path: path.join(iitmDir, args.path.slice('import-in-the-middle/'.length)),
    }));
    build.onResolve({ filter: /^(es|cjs)-module-lexer$/ }, (args) =>
      args.importer.startsWith(iitmDir + path.sep) ? { path: args.path, namespace: 'healthspan-iitm-lexer' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'healthspan-iitm-lexer' }, (args) => ({
      contents: lazyStandIn(`require("node:module").createRequire(require.resolve("import-in-the-middle"))(${JSON.stringify(args.path)})`, {
        parse: '(...a) => load().parse(...a)',
        init: '(...a) => load().init(...a)',
        ...(args.path === 'cjs-module-lexer' ? { initSync: '(...a) => load().initSync(...a)' } : {}),
      }),
      loader: 'js',
    }));
  },
};

// @opentelemetry/api is the app's (a dependency: one global registry for the app's and our
// calls), but loading it costs Node 53 files resolved, read and compiled at every start. The
// main bundle carries a copy of the version we build with and uses it when the installed API
// is that same version (the same code, and either copy registers into and reads the one
// global registry); any other version is required as installed. Vendor files take the main
// bundle's choice (SHARED).
const apiPackage = path.join(path.dirname(createRequire(import.meta.url).resolve('@opentelemetry/api')), '..', 'package.json');
const sharedApi: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'healthspan-shared-api',
  setup(build) {
    const apiDir = path.dirname(apiPackage);
    const { version } = JSON.parse(readFileSync(apiPackage, 'utf8')) as { version: string };
    build.onResolve({ filter: /^@opentelemetry\/api$/ }, (args) =>
      args.namespace === 'healthspan-api' ? { path: args.path, external: true } : { path: 'api', namespace: 'healthspan-api' },
    );
    build.onLoad({ filter: /.*/, namespace: 'healthspan-api' }, () => ({
      resolveDir: apiDir,
      loader: 'js',
      contents: [
        'let api;',
        'try {',
        '  const { readFileSync } = require("node:fs");',
        '  const { dirname, join } = require("node:path");',
        '  const installed = join(dirname(require.resolve("@opentelemetry/api")), "..", "package.json");',
        // Plain properties, as the installed CommonJS build has: esbuild's namespace of an ES
        // module is all getters, and the importers' own namespaces would be getters on getters.
        `  if (JSON.parse(readFileSync(installed, "utf8")).version === ${JSON.stringify(version)}) api = { ...require(${JSON.stringify(path.join(apiDir, 'dist/index.mjs'))}) };`,
        '} catch {}',
        'module.exports = api ?? require("@opentelemetry/api");',
      ].join('\n'),
    }));
  },
};

/**
 * esbuild gives each of the ~90 bundled modules that import the API its own namespace object:
 * `__toESM(require_api(),1)` copies every export of the API onto a new object as a getter,
 * about 4,000 property definitions and closures at every start. They all read the same
 * module, so one namespace, made on first use, serves them all, with the values themselves.
 */
function shareApiNamespace(file: string): void {
  const each = '__toESM(require_api(),1)';
  const helpers = 'var __toCommonJS=';
  let code = readFileSync(file, 'utf8');
  if (code.split(each).length < 3 || code.split(helpers).length !== 2)
    throw new Error(`tsup.config.ts: ${file} no longer has esbuild's ${each} / ${helpers}; review shareApiNamespace`);
  code = code.replaceAll(each, '__healthspanApi()');
  // Plain properties (the API's exports never change), not __toESM's getters: one closure per
  // name that all share one megamorphic `from[key]`, on every `context.active()` and `trace.getSpan()`.
  code = code.replace(helpers, `var __healthspanApiNs;var __healthspanApi=()=>__healthspanApiNs??=((m)=>({...m,default:m}))(require_api());${helpers}`);
  writeFileSync(file, code);
}

// Build-time patches of bundled upstream code: scripts/upstream-patches.mjs.

// Entry files of the vendor bundles, one re-export each (generated: nothing to keep in git).
const entryDir = 'node_modules/.cache/healthspan-vendor';
mkdirSync(entryDir, { recursive: true });
const vendorEntries: Record<string, string> = {};
for (const [name, file] of Object.entries(VENDORED)) {
  // An ESM re-export, so that esbuild takes the packages' ESM builds and drops the parts of
  // semantic-conventions they do not use.
  const entry = path.join(entryDir, `${file}.mjs`);
  writeFileSync(entry, `export * from ${JSON.stringify(name)};\n`);
  vendorEntries[`vendor/${file}`] = entry;
}
// A chunk's entry: a function that evaluates one of its packages, by name, on first call.
const chunkEntries = Object.entries(CHUNKS).map(([chunk, names]) => {
  const entry = path.join(entryDir, `chunk-${chunk}.cjs`);
  const cases = names.map((name) => `  ${JSON.stringify(name)}: () => require(${JSON.stringify(name)}),`);
  writeFileSync(entry, ['const load = {', ...cases, '};', 'module.exports = (name) => load[name]();', ''].join('\n'));
  return { chunk, entry };
});

const common: Options = {
  target: 'node22',
  platform: 'node',
  external,
  define,
  clean: false,
  esbuildOptions(options) {
    // Prefer the ESM builds of bundled packages: esbuild can drop what we never import
    // (most of semantic-conventions) and evaluates each module only when first needed.
    options.mainFields = ['module', 'main'];
    options.conditions = ['module'];
    options.legalComments = 'none';
    // require-in-the-middle is bundled; its trace logging (`debug`) is not (scripts/stubs/debug.cjs).
    options.alias = { ...options.alias, debug: './scripts/stubs/debug.cjs' };
    // Less to parse at every start. Only whitespace: syntax minification drops the names of
    // function expressions (a patched method's `name` is user-visible, test/equivalence), and
    // `keepNames` to restore them runs __name() on every closure the hot paths create.
    options.minifyWhitespace = true;
  },
};

// The OTLP exporters `await import('http')`: as a require, so that the bundle and the chunks also
// run from a vm.Script (src/register/load-main.ts), where import() needs an experimental hook.
const requiresForImports: Options['esbuildOptions'] = (options, context) => {
  common.esbuildOptions?.(options, context);
  options.supported = { ...options.supported, 'dynamic-import': false };
};

// The implementation ships once, as CommonJS: the ESM entry points re-export it, so an app
// that mixes `import` and `require` (or preloads with --import and imports 'healthspan')
// still shares one SDK instance.
export default defineConfig([
  {
    ...common,
    entry: { index: 'src/index.ts', 'register/require': 'src/register/require.ts' },
    format: ['cjs'],
    shims: true,
    splitting: false,
    sourcemap: false,
    esbuildPlugins: [toVendorFiles, toChunks('main'), iitmHooksInBundle, sharedApi, sketchesWithoutProto, preferEsm, patchUpstream],
    noExternal: ['@opentelemetry/api', /^import-in-the-middle\/(create-hook|supports-sync-hooks)\.mjs$/],
    esbuildOptions: requiresForImports,
    async onSuccess() {
      // Declarations: scripts/build-types.mjs (run after tsup by `npm run build`).
      writeFileSync('dist/index.js', "export * from './index.cjs';\n");
      shareApiNamespace('dist/index.cjs');
    },
  },
  {
    ...common,
    entry: vendorEntries,
    format: ['cjs'],
    splitting: false,
    sourcemap: false,
    esbuildPlugins: [fromMainBundle, preferEsm],
    noExternal: ['@opentelemetry/api'],
  },
  ...chunkEntries.map(
    ({ chunk, entry }): Options => ({
      ...common,
      entry: { [`vendor/${chunk}`]: entry },
      format: ['cjs'],
      // import.meta.url (the gRPC exporters' createRequire) as the chunk's own file URL.
      shims: true,
      splitting: false,
      sourcemap: false,
      esbuildPlugins: [fromMainBundle, toChunks('vendor', chunk), preferEsm, patchUpstream],
      noExternal: ['@opentelemetry/api'],
      esbuildOptions: requiresForImports,
    }),
  ),
  {
    ...common,
    entry: { 'register/import': 'src/register/import.ts' },
    format: ['esm'],
  },
]);
