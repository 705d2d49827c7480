// Builds dist/index.d.cts: our declarations with the types of the bundled OpenTelemetry
// packages inlined (a consumer has @opentelemetry/api installed and nothing else of ours).
// tsup's own dts step cannot follow the `.cjs` specifiers inside those packages' .d.cts files.
import { writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const shared = new Set(['@opentelemetry/api', 'keyv', 'import-in-the-middle', 'require-in-the-middle']);
const bundle = await rollup({
  input: 'src/index.ts',
  // Everything else is inlined; a bare import left in the output would name a package the
  // consumer does not have (test/package/types.test.ts type-checks a consumer without them).
  external: (id) => id.startsWith('node:') || builtinModules.includes(id) || shared.has(id) || id.startsWith('@datadog/'),
  plugins: [
    dts({
      respectExternal: true,
      tsconfig: 'tsconfig.json',
      compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, allowImportingTsExtensions: true },
    }),
  ],
  onwarn(warning, warn) {
    if (warning.code === 'UNUSED_EXTERNAL_IMPORT') return;
    warn(warning);
  },
});
await bundle.write({ file: 'dist/index.d.cts', format: 'es' });
writeFileSync('dist/index.d.ts', "export * from './index.cjs';\n");
writeFileSync('dist/register/index.d.ts', 'export {};\n');
