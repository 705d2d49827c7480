import { createRequire, register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { registerEsmHooks, supportsSyncHooks } from './esm-hooks.js';
import { hookedModules } from './instrumentation-loader.js';
import { logger } from './log.js';
import { start } from './sdk/facade.js';

const load = createRequire(import.meta.url);

/**
 * What `--import healthspan/register` and `--require healthspan/register` run. Worker
 * threads are skipped (the main thread's SDK covers the process). With `--import`, the
 * ESM loader hook is registered for exactly the modules our instrumentations patch, and
 * this resolves only once the loader has them, so the app's first import is hooked.
 */
export async function preload(via: 'import' | 'require'): Promise<void> {
  if (!isMainThread) return;
  if (via === 'require') {
    start({}, { via });
    return;
  }
  if (supportsSyncHooks()) {
    // In-thread hooks (module.registerHooks): no loader thread, no round trip per import.
    const sdk = start({}, { via });
    if (!sdk.enabled) return;
    registerEsmHooks(hookedModules(sdk.config.instrumentations));
    return;
  }
  // Off-thread loader (module.register), on Node versions whose registerHooks the synchronous
  // hooks cannot use: each instrumentation's Hook() sends its module names to the loader, and
  // we wait for the acknowledgement.
  const iitm = load('import-in-the-middle') as typeof import('import-in-the-middle');
  const { registerOptions, waitForAllMessagesAcknowledged } = iitm.createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  const sdk = start({}, { via });
  if (!sdk.enabled) return;
  await waitForAllMessagesAcknowledged();
}

/** For the --require entry, which cannot await. */
export function preloadSync(): void {
  preload('require').catch((err: unknown) => logger.error(`preload failed: ${(err as Error).message}`));
}
