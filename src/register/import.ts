// `node --import healthspan/register app.js` — ESM entry; all logic lives in preload.ts.
// It loads the CommonJS build (load-main.ts) so the app and the preload share one instance.
import { loadMain } from './load-main.js';

await loadMain(import.meta.url).preload('import');
