// `node --require healthspan/register app.cjs` — CommonJS entry; all logic lives in preload.ts.
// It loads the package's main build so the app and the preload share one instance.
import { createRequire } from 'node:module';

(createRequire(import.meta.url)('../index.cjs') as typeof import('../index.js')).preloadSync();
