// The status page of the running demo (`npm run demo -- --serve`) in Debian's chromium: what a
// person sees when they open the URL the demo prints — the demo's own routes, its N+1 alert,
// its cache — with the same figures the admin API reports at that moment.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { DEMO_DATABASE_URL, serveDemo, type ServedDemo } from '../helpers/demo.ts';
import { freePort } from '../preload/child.ts';

declare const document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MISSING = `chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (Debian) or point CHROMIUM_PATH at a Chromium binary`;
const TOKEN = `demo-page-${process.pid}-0123456789`;
describe.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')(
  existsSync(CHROMIUM) ? 'the status page of the running demo, in chromium' : `the status page of the running demo (skipped: ${MISSING})`,
  () => {
    let demo: ServedDemo | undefined;
    let base: string;
    let browser: Browser;

    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) throw new Error(MISSING);
      const [appPort, metricsPort, deadOtlp] = [await freePort(), await freePort(), await freePort()];
      demo = await serveDemo({
        DATABASE_URL: DEMO_DATABASE_URL,
        DEMO_PORT: String(appPort),
        HEALTHSPAN_PROMETHEUS_PORT: String(metricsPort),
        HEALTHSPAN_ADMIN_TOKEN: TOKEN,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadOtlp}`,
        HEALTHSPAN_INSIGHT_INTERVAL_MS: '500',
      });
      base = demo.base;
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await demo?.stop();
    });

    it('renders the demo’s live score, routes, N+1 alert and cache as the API reports them', async () => {
      // The demo prints where the page is; with a token of our own it shows a placeholder for it.
      expect(demo!.output()).toContain(`status page  ${base}/_healthspan/#token=$HEALTHSPAN_ADMIN_TOKEN`);
      // biome-ignore lint/suspicious/noExplicitAny: the admin API's JSON, read field by field below
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
  },
);
