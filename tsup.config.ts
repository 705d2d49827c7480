import { readFileSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const define = { __HEALTHSPAN_VERSION__: JSON.stringify(version) };

// The implementation ships once, as CommonJS: the ESM entry points re-export it, so an app
// that mixes `import` and `require` (or preloads with --import and imports 'healthspan')
// still shares one SDK instance and one copy of every OpenTelemetry package.
export default defineConfig([
  {
    entry: { index: 'src/index.ts', 'register/require': 'src/register/require.ts' },
    format: ['cjs'],
    target: 'node22',
    platform: 'node',
    shims: true,
    dts: { entry: { index: 'src/index.ts' } },
    define,
    splitting: false,
    sourcemap: true,
    clean: false,
    async onSuccess() {
      writeFileSync('dist/index.js', "export * from './index.cjs';\n");
    },
  },
  {
    entry: { 'register/import': 'src/register/import.ts' },
    format: ['esm'],
    target: 'node22',
    platform: 'node',
    define,
    clean: false,
  },
]);
