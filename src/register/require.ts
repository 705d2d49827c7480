// `node --require healthspan/register app.cjs` — CommonJS entry; all logic lives in preload.ts.
// It loads the package's main build (load-main.ts) so the app and the preload share one instance.
import { loadMain } from './load-main.js';

loadMain(import.meta.url).preloadSync();
