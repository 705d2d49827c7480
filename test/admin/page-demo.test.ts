// The status page of the running demo (`npm run demo -- --serve`) in Debian's chromium: what a
// person sees when they open the URL the demo prints — the demo's own routes, its N+1 alert,
// its cache — with the same figures the admin API reports at that moment.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { freePort, ROOT } from '../preload/child.ts';

declare const document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MISSING = `chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (Debian) or point CHROMIUM_PATH at a Chromium binary`;
const TOKEN = `demo-page-${process.pid}-0123456789`;
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function demoEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OTEL_|HEALTHSPAN_)/.test(k) || ['PORT', 'DEMO_PORT', 'REDIS_URL', 'DATABASE_URL', 'NODE_OPTIONS'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

describe.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')(existsSync(CHROMIUM) ? 'the status page of the running demo, in chromium' : `the status page of the running demo (skipped: ${MISSING})`, () => {
  let demo: ChildProcess | undefined;
  let out = '';
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING);
    const [appPort, metricsPort, deadOtlp] = [await freePort(), await freePort(), await freePort()];
    demo = spawn(process.execPath, ['scripts/demo.mjs', '--serve'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: demoEnv({
        DATABASE_URL,
        DEMO_PORT: String(appPort),
        HEALTHSPAN_PROMETHEUS_PORT: String(metricsPort),
        HEALTHSPAN_ADMIN_TOKEN: TOKEN,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadOtlp}`,
        HEALTHSPAN_INSIGHT_INTERVAL_MS: '500',
      }),
    });
    demo.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    demo.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const deadline = Date.now() + 60_000;
    while (!/^demo: serving http:\/\//m.test(out)) {
      if (demo.exitCode !== null || Date.now() > deadline) throw new Error(`the demo did not start serving:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    base = /^demo: serving (http:\/\/\S+)/m.exec(out)![1];
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      const gone = new Promise((r) => demo!.once('exit', r));
      demo.kill('SIGINT');
      const timer = setTimeout(() => demo!.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }
  });

  it('renders the demo’s live score, routes, N+1 alert and cache as the API reports them', async () => {
    // The demo prints where the page is; with a token of our own it shows a placeholder for it.
    expect(out).toContain(`status page  ${base}/_healthspan/#token=$HEALTHSPAN_ADMIN_TOKEN`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const api = async (path: string): Promise<any> => (await fetch(`${base}/_healthspan/${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/_healthspan/#token=${TOKEN}`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="updated"]')?.getAttribute('data-seq')) > 0, undefined, { timeout: 10_000 });

    const analytics = await api('analytics?minutes=5');
    // The demo's own routes, each a row.
    for (const route of ['GET /users/:id', 'GET /users/:id/orders-n1', 'GET /slow', 'GET /error']) {
      expect(analytics.routes.map((r: { route: string }) => r.route)).toContain(route);
      await expect.poll(() => page.locator(`[data-testid="route"][data-route="${route}"]`).count()).toBe(1);
    }
    // The N+1 route raised its alert, and the page lists it.
    expect(analytics.alerts.some((a: { rule: string }) => a.rule === 'n_plus_one')).toBe(true);
    await expect.poll(() => page.locator('[data-testid="alert"][data-rule="n_plus_one"]').count()).toBeGreaterThan(0);
    // The users cache with the hit rate the API reports (no cache traffic runs now).
    const users = analytics.caches.find((c: { name: string }) => c.name === 'users');
    const shown = await page.locator('[data-testid="cache"][data-cache="users"] [data-testid="hit-rate"]').textContent();
    expect(shown).toBe(`${Math.round(users.hitRate * 100)}%`);
    // The score: the page's equals the API's when it does not move between two reads around a refresh.
    let same = false;
    for (let i = 0; i < 5 && !same; i++) {
      const before = (await api('summary')).score;
      const seq = Number(await page.getByTestId('updated').getAttribute('data-seq'));
      await page.waitForFunction((s) => Number(document.querySelector('[data-testid="updated"]')?.getAttribute('data-seq')) > s, seq, { timeout: 10_000 });
      const after = (await api('summary')).score;
      if (before !== after) continue;
      expect(await page.getByTestId('score').textContent()).toBe(String(after));
      same = true;
    }
    expect(same).toBe(true);
    expect(problems).toEqual([]);
  }, 60_000);
});
