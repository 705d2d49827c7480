// `node --import healthspan/register app.js` — ESM entry; all logic lives in preload.ts.
// It loads the CommonJS build so the app and the preload share one instance of healthspan.
import { createRequire } from 'node:module';

const { preload } = createRequire(import.meta.url)('../index.cjs') as typeof import('../index.js');
await preload('import');
