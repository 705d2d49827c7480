// Loads one module of src/ compiled the way the build compiles it (esbuild, which tsup runs),
// for benchmarks of internals the package does not export. Packages stay external: they
// resolve from the repository's node_modules.
import Module, { createRequire } from 'node:module';
import path from 'node:path';

export function loadSourceModule(root, file) {
  const load = createRequire(path.join(root, 'package.json'));
  const { buildSync } = load('esbuild');
  const { version } = load('./package.json');
  const entry = path.join(root, file);
  const built = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    packages: 'external',
    minifyWhitespace: true,
    define: { __HEALTHSPAN_VERSION__: JSON.stringify(version) },
    write: false,
    logLevel: 'silent',
  });
  const filename = entry.replace(/\.ts$/, '.bench.cjs');
  const m = new Module(filename);
  m.filename = filename;
  m.paths = Module._nodeModulePaths(path.dirname(entry));
  m._compile(built.outputFiles[0].text, filename);
  return m.exports;
}
