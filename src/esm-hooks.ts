// The in-thread ESM hooks of import-in-the-middle, registered for the modules our
// instrumentations patch. import-in-the-middle's own `register-hooks.mjs` does the same, but
// loading it at start-up costs Node an ES module graph of six files compiled without a code
// cache, an ESM facade of node:fs (which loads fs/promises and the fs streams) and both
// WebAssembly lexers, before the app's first line. Its `createHook` is bundled instead
// (tsup.config.ts, `iitmHooksInBundle`): compiled from our code cache, its built-ins by
// require, its lexers loaded by the first ES module it wraps.
//
// Both requires below are literal so that esbuild bundles the files they name.
//
// The wrappers it generates import `lib/register.js` of the installed package, where the
// `Hook()` of @opentelemetry/instrumentation registers: package.json pins import-in-the-middle
// to the version bundled here, so the two halves always match.
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

interface IitmHook {
  applyOptions(options: { include: string[] }): void;
  resolveSync: Parameters<typeof registerHooks>[0]['resolve'];
  loadSync: Parameters<typeof registerHooks>[0]['load'];
}

/** Whether this Node's module.registerHooks is one import-in-the-middle's synchronous hooks work with. */
export function supportsSyncHooks(): boolean {
  const { supportsSyncHooks: supports } = require('import-in-the-middle/supports-sync-hooks.mjs') as { supportsSyncHooks: () => boolean };
  return supports();
}

/** Registers import-in-the-middle's synchronous resolve and load hooks for `include` only. */
export function registerEsmHooks(include: string[]): void {
  const { createHook } = require('import-in-the-middle/create-hook.mjs') as { createHook: (meta: { url: string }) => IitmHook };
  // The installed package's root (its index.js), so that `new URL('lib/register.js', url)`
  // names the installed lib/register.js.
  const installed = require.resolve('import-in-the-middle');
  const hook = createHook({ url: pathToFileURL(installed).href });
  hook.applyOptions({ include });
  registerHooks({ resolve: hook.resolveSync, load: hook.loadSync });
}
