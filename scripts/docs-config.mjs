// Rewrites the generated tables of docs/configuration.md from the settings table
// (src/config/settings.ts, src/config/thresholds.ts). `npm run docs:config`; with --check it
// only says whether the page is up to date (exit code 1 when not).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
// Next to node_modules, so that the packages left external resolve as they do for src/.
const outDir = join(root, 'node_modules/.cache/healthspan-docs');
mkdirSync(outDir, { recursive: true });
const outFile = join(outDir, 'config-docs.mjs');
await build({
  entryPoints: [join(root, 'src/config/docs.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  outfile: outFile,
  logLevel: 'error',
});
const { CONFIG_PAGE, updateConfigPage } = await import(`${pathToFileURL(outFile).href}?t=${Date.now()}`);

const file = join(root, CONFIG_PAGE);
const page = readFileSync(file, 'utf8');
const next = updateConfigPage(page);
if (process.argv.includes('--check')) {
  console.log(next === page ? `${CONFIG_PAGE} is up to date` : `${CONFIG_PAGE} differs from src/config/: run npm run docs:config`);
  process.exit(next === page ? 0 : 1);
}
if (next === page) console.log(`${CONFIG_PAGE}: unchanged`);
else {
  writeFileSync(file, next);
  console.log(`${CONFIG_PAGE}: tables rewritten from src/config/`);
}
