import { readFileSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const define = { __HEALTHSPAN_VERSION__: JSON.stringify(pkg.version) };

// What a user installs is `dependencies` (the OpenTelemetry API the app shares with us, the two
// module-hook libraries, keyv) and, when asked for, the optional peers (@grpc/grpc-js, redis).
// Everything else — the OpenTelemetry SDK, exporters and contrib instrumentations — is bundled
// here from our locked, de-duplicated tree: one copy of each, whatever else the app installs.
// tsup keeps `dependencies` and `peerDependencies` external by default; these are the extras.
const external = [
  ...Object.keys(pkg.dependencies),
  ...Object.keys(pkg.peerDependencies),
  // Only @datadog/sketches-js's protobuf serialisation needs it, which we never call.
  'protobufjs',
];

// The implementation ships once, as CommonJS: the ESM entry points re-export it, so an app
// that mixes `import` and `require` (or preloads with --import and imports 'healthspan')
// still shares one SDK instance.
export default defineConfig([
  {
    entry: { index: 'src/index.ts', 'register/require': 'src/register/require.ts' },
    format: ['cjs'],
    target: 'node22',
    platform: 'node',
    shims: true,
    external,
    define,
    splitting: false,
    sourcemap: false,
    clean: false,
    esbuildOptions(options) {
      // Prefer the ESM builds of bundled packages: esbuild can drop what we never import
      // (most of semantic-conventions) and evaluates each module only when first needed.
      options.mainFields = ['module', 'main'];
      options.conditions = ['import', 'module', 'require', 'default'];
      options.legalComments = 'none';
    },
    async onSuccess() {
      // Declarations: scripts/build-types.mjs (run after tsup by `npm run build`).
      writeFileSync('dist/index.js', "export * from './index.cjs';\n");
    },
  },
  {
    entry: { 'register/import': 'src/register/import.ts' },
    format: ['esm'],
    target: 'node22',
    platform: 'node',
    external,
    define,
    clean: false,
  },
]);
