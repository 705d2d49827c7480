// The status page in a real browser (Debian's chromium, driven by playwright-core) against the
// real admin handler in a real app: the figures it draws are the live ones the API reports,
// the token travels in the fragment and leaves the address bar, a wrong token asks for
// another, user data (route names) is rendered as text, and polling pauses in hidden tabs.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { fixture, startApp, type App } from '../preload/child.ts';

// The callbacks given to page.evaluate run in the browser; the project has no DOM lib, so the
// little they touch is declared here (module-scoped).
interface BrowserElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): BrowserElement | null;
}
declare const document: {
  hidden: boolean;
  querySelector(s: string): BrowserElement | null;
  querySelectorAll(s: string): Iterable<BrowserElement>;
  dispatchEvent(e: Event): boolean;
};
declare const location: { hash: string };
declare const window: { __xss?: number };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MISSING = `chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (Debian) or point CHROMIUM_PATH at a Chromium binary`;
const TOKEN = `page-test-${process.pid}-0123456789abcdef`;
const PREFIX = '/_healthspan';
// A route name that is HTML: node:http accepts it raw on the request line, and the route
// heuristic keeps it as it is (no digit-only segment). If the page used innerHTML with it, an
// <img> would appear and its onerror (allowed: script-src 'unsafe-inline') would set the flag.
const EVIL_PATH = '/<img/src="x"/onerror="window.__xss=1">';
const EVIL_ROUTE = `GET ${EVIL_PATH}`;

interface Summary {
  score: number | null;
  status: string;
  alerts: { firing: number };
}
interface Analytics {
  routes: { route: string; p95Ms: number }[];
  queries: { query: string }[];
  caches: { name: string; hitRate: number; lookups: number }[];
  alerts: { rule: string; key: string; message: string; exemplarTraceId?: string }[];
  recommendations: string[];
}

if (!existsSync(CHROMIUM)) {
  describe('status page in chromium', () => {
    it('needs chromium', (ctx) => {
      if (process.env.CI === 'true') throw new Error(MISSING);
      console.warn(`skipping the status-page browser test: ${MISSING}`);
      ctx.skip(MISSING);
    });
  });
} else {
  describe('status page in chromium', () => {
    let app: App;
    let browser: Browser;

    const api = async <T>(path: string, token: string | undefined = TOKEN): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${app.url}${PREFIX}/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: res.status, body: (await res.json()) as T };
    };
    const hit = async (path: string) => {
      const res = await fetch(app.url + path);
      await res.arrayBuffer();
      return res.status;
    };
    /** A request line fetch would percent-encode: written raw on a socket. */
    const rawGet = (path: string) =>
      new Promise<string>((resolve, reject) => {
        let out = '';
        const sock = net.connect(app.port, '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
        sock
          .on('data', (d) => (out += d))
          .on('end', () => resolve(out.split('\r\n')[0]))
          .on('error', reject);
      });
    const seqOf = (page: Page) => page.getByTestId('updated').getAttribute('data-seq').then(Number);
    const waitForUpdateAfter = (page: Page, seq: number, timeout = 8000) =>
      page.waitForFunction((s) => Number(document.querySelector('[data-testid="updated"]')?.getAttribute('data-seq')) > s, seq, { timeout });

    beforeAll(async () => {
      [app, browser] = await Promise.all([
        startApp(['--import', 'healthspan/register'], fixture('admin-page-app.mjs'), {
          ADMIN_TOKEN: TOKEN,
          OTEL_TRACES_EXPORTER: 'none',
          OTEL_SERVICE_NAME: 'page-fixture',
          HEALTHSPAN_SLOW_REQUEST_MS: '100',
          HEALTHSPAN_INSIGHT_INTERVAL_MS: '200',
          HEALTHSPAN_INSIGHT_WARMUP_MS: '0',
        }),
        chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] }),
      ]);
      // Traffic: slow, fast, database, failing, and a cache with misses then hits.
      const codes = await Promise.all([
        ...Array.from({ length: 20 }, () => hit('/slow')), // a rule judges a p95 from 20 requests on
        ...Array.from({ length: 30 }, () => hit('/fast')),
        ...Array.from({ length: 25 }, (_, i) => hit(`/users/${i + 1}`)),
        ...Array.from({ length: 5 }, () => hit('/fail')),
      ]);
      expect(codes.filter((c) => c === 500)).toHaveLength(5);
      for (let pass = 0; pass < 4; pass++) await Promise.all([1, 2, 3, 4, 5, 6].map((k) => hit(`/cached/${k}`)));
      expect(await rawGet(EVIL_PATH)).toBe('HTTP/1.1 200 OK');
      // The alert engine runs every 200 ms here: wait for the slow route to be firing.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { body } = await api<Analytics>('analytics?minutes=5');
        if (body.alerts.some((a) => a.rule === 'slow_request' && a.key === 'GET /slow')) break;
        if (Date.now() > deadline) throw new Error(`no slow_request alert for GET /slow: ${JSON.stringify(body.alerts)}\n${app.stderr()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    afterAll(async () => {
      await browser?.close();
      await app?.stop();
    });

    it('shows the live figures of the API, takes the token out of the address bar, and logs no error', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
      });

      const nav = await page.goto(`${app.url}${PREFIX}/#token=${TOKEN}`);
      expect(nav?.status()).toBe(200);
      expect(nav?.headers()['content-security-policy']).toContain("default-src 'none'");
      await waitForUpdateAfter(page, 0);

      // The token left the address bar (and history), and stays for this tab only.
      expect(page.url()).toBe(`${app.url}${PREFIX}/`);
      expect(await page.evaluate(() => location.hash)).toBe('');
      expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(TOKEN);

      // The score: the page's equals the API's once both are read around one page update with
      // the same answer before and after (the resources component moves with the heap).
      let compared = false;
      for (let i = 0; i < 4 && !compared; i++) {
        const before = (await api<Summary>('summary')).body;
        await waitForUpdateAfter(page, await seqOf(page));
        const shown = await page.getByTestId('score').textContent();
        const status = await page.getByTestId('status').textContent();
        const after = (await api<Summary>('summary')).body;
        if (before.score !== after.score || before.status !== after.status) continue;
        expect(after.score).not.toBeNull();
        expect(shown).toBe(String(after.score));
        expect(status).toBe(after.status);
        compared = true;
      }
      expect(compared, 'the score kept moving between two reads of the API').toBe(true);
      expect(['improving', 'stable', 'degrading', 'unknown']).toContain(await page.getByTestId('trend').getAttribute('data-trend'));

      const { body: a } = await api<Analytics>('analytics?minutes=5');

      // The firing alert, with its message and exemplar trace.
      const apiAlert = a.alerts.find((x) => x.rule === 'slow_request' && x.key === 'GET /slow')!;
      const alertRow = page.locator('[data-testid="alert"][data-rule="slow_request"][data-key="GET /slow"]');
      await expect.poll(() => alertRow.count()).toBe(1);
      expect(await alertRow.textContent()).toContain('slow route GET /slow');
      if (apiAlert.exemplarTraceId) expect(await alertRow.getByTestId('trace-id').textContent()).toBe(apiAlert.exemplarTraceId);

      // The slow route's p95, in ms, at or above the 150 ms it sleeps (well, ≥ 100).
      const slowRow = page.locator('[data-testid="route"][data-route="GET /slow"]');
      const p95Text = (await slowRow.getByTestId('p95').textContent()) ?? '';
      expect(p95Text).toMatch(/^[\d,.]+ ms$/);
      expect(Number(p95Text.replace(/[^\d.]/g, ''))).toBeGreaterThanOrEqual(100);
      // Where its time goes, for the routes with child operations: the database share of
      // GET /users/:id and the cache share of GET /cached/:id as the API has them (rounded).
      const shareShown = async (route: string, label: string) => {
        const title = (await page.locator(`[data-testid="route"][data-route="${route}"] [data-testid="split"]`).getAttribute('title')) ?? '';
        const m = new RegExp(`${label} ([\\d.]+)%`).exec(title);
        expect(m, title).not.toBeNull();
        return Number(m![1]) / 100;
      };
      const split = (route: string) => (a.routes.find((r) => r.route === route) as { split?: Record<string, number> }).split!;
      expect(Math.abs((await shareShown('GET /users/:id', 'database')) - split('GET /users/:id').db)).toBeLessThanOrEqual(0.0051);
      expect(Math.abs((await shareShown('GET /cached/:id', 'cache')) - split('GET /cached/:id').cache)).toBeLessThanOrEqual(0.0051);
      expect(await page.locator('[data-testid="route"][data-route="GET /cached/:id"] [data-testid="split"]').textContent()).toMatch(/cache [\d.]+%/);

      // The statement and the cache, with the hit rate the API reports (18 hits of 24: 75%).
      expect(a.queries.map((q) => q.query)).toContain('postgresql SELECT $1::int AS id');
      expect(await page.locator('[data-testid="query"][data-query="postgresql SELECT $1::int AS id"]').count()).toBe(1);
      const users = a.caches.find((c) => c.name === 'users')!;
      expect(users).toMatchObject({ lookups: 24, hitRate: 0.75 });
      expect(await page.locator('[data-testid="cache"][data-cache="users"] [data-testid="hit-rate"]').textContent()).toBe(
        `${Math.round(users.hitRate * 100)}%`,
      );

      // Recommendations, memory and event-loop figures, last update.
      expect(a.recommendations.length).toBeGreaterThan(0);
      expect(await page.getByTestId('recommendations').locator('li').allTextContents()).toEqual(a.recommendations);
      const figures = (await page.locator('#figures').textContent()) ?? '';
      expect(figures).toMatch(/Heap\d[\d,]* MB of [\d,]+ MB/);
      expect(figures).toMatch(/Event-loop p99[\d.,]+ ms/);
      expect(await page.getByTestId('updated').textContent()).toMatch(/^Updated \S/);

      // The HTML-looking route name is text: no element was made of it, no handler ran.
      expect(a.routes.map((r) => r.route)).toContain(EVIL_ROUTE);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.evaluate(() => window.__xss)).toBeUndefined();
      const evil = await page.evaluate(
        (route) =>
          [...document.querySelectorAll('[data-testid="route"]')]
            .filter((tr) => tr.getAttribute('data-route') === route)
            .map((tr) => tr.querySelector('td')?.textContent),
        EVIL_ROUTE,
      );
      expect(evil).toEqual([EVIL_ROUTE]);

      expect(problems).toEqual([]);
      await context.close();
    });

    // The layout at a phone's width and a desktop's: tables scroll inside their section rather
    // than squeezing a column to one letter per line, no word (a route, a statement) is broken
    // across lines, and the page does not grow sideways or to thousands of pixels.
    it.each([
      ['a phone', 390, 844],
      ['a desktop', 1280, 900],
    ])('fits %s (%i px wide): no cell narrower than its longest word, no sideways page, bounded height', async (_, width, height) => {
      const context = await browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      await page.goto(`${app.url}${PREFIX}/#token=${TOKEN}`);
      await waitForUpdateAfter(page, 0);
      const layout = (await page.evaluate(`(() => {
        // Each word measured on one line inside its own cell, so it has the cell's font.
        const squeezed = [];
        for (const cell of document.querySelectorAll('td, th')) {
          const cs = getComputedStyle(cell);
          const room = cell.getBoundingClientRect().width - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - parseFloat(cs.borderLeftWidth) - parseFloat(cs.borderRightWidth);
          const probe = document.createElement('span');
          probe.style.cssText = 'position:absolute;visibility:hidden;white-space:pre';
          cell.appendChild(probe);
          for (const word of (cell.textContent || '').split(/\\s+/).filter(Boolean)) {
            probe.textContent = word;
            const w = probe.getBoundingClientRect().width;
            if (w > room + 0.5) squeezed.push(word + ' (' + w.toFixed(1) + ' px) in ' + room.toFixed(1) + ' px');
          }
          probe.remove();
        }
        const sections = [...document.querySelectorAll('section')].filter((s) => s.getBoundingClientRect().right > innerWidth + 0.5).length;
        return { squeezed, pageWidth: document.documentElement.scrollWidth, pageHeight: document.documentElement.scrollHeight, sections };
      })()`)) as { squeezed: string[]; pageWidth: number; pageHeight: number; sections: number };
      expect(layout.squeezed).toEqual([]);
      expect(layout.pageWidth).toBeLessThanOrEqual(width);
      expect(layout.sections).toBe(0);
      // The fixture's ~12 routes, 2 queries, 1 cache, a few alerts: well under this, and far
      // under the 7,000 px a one-letter-wide route column made of it.
      expect(layout.pageHeight).toBeLessThan(3500);
      await context.close();
    });

    it('asks for a token when there is none or it is refused, and recovers when given the right one', async () => {
      const context = await browser.newContext();
      let page = await context.newPage();
      // The only errors the console may show are the refused API calls themselves.
      const problems: string[] = [];
      const watch = (p: Page) => {
        p.on('console', (m) => {
          if ((m.type() === 'error' || m.type() === 'warning') && !/status of 401/.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
        });
        p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      };
      watch(page);
      await page.goto(`${app.url}${PREFIX}/`);
      await page.getByTestId('auth').waitFor({ state: 'visible' });
      expect(await page.getByTestId('auth').textContent()).toMatch(/needs the admin token \(HTTP 401\)/);

      // (A new tab: on the same one, adding a fragment would not load the page again.)
      page = await context.newPage();
      watch(page);
      await page.goto(`${app.url}${PREFIX}/#token=not-the-token-0123456789`);
      await page.getByTestId('auth').waitFor({ state: 'visible' });
      expect(await page.getByTestId('auth').textContent()).toMatch(/token was refused \(HTTP 401\)/);
      expect(page.url()).toBe(`${app.url}${PREFIX}/`);
      expect(await page.getByTestId('score').textContent()).toBe('\u2014');
      expect(await seqOf(page)).toBe(0);

      await page.locator('#token').fill(TOKEN);
      await page.locator('#auth-form button').click();
      await waitForUpdateAfter(page, 0);
      expect(await page.getByTestId('auth').isHidden()).toBe(true);
      expect(await page.getByTestId('score').textContent()).toMatch(/^\d+$/);
      expect(page.url()).toBe(`${app.url}${PREFIX}/`);
      expect(problems).toEqual([]);
      await context.close();
    });

    it('stops polling while the tab is hidden and refreshes at once when it is shown again', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      let calls = 0;
      page.on('request', (r) => {
        if (/\/(summary|analytics)/.test(r.url())) calls++;
      });
      await page.goto(`${app.url}${PREFIX}/#token=${TOKEN}`);
      await waitForUpdateAfter(page, 0);
      const setHidden = (hidden: boolean) =>
        page.evaluate((h) => {
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
          document.dispatchEvent(new Event('visibilitychange'));
        }, hidden);
      await setHidden(true);
      const seq = await seqOf(page);
      const before = calls;
      await page.waitForTimeout(5_600); // past one 5 s interval
      expect(calls).toBe(before);
      expect(await seqOf(page)).toBe(seq);
      // No timer runs while hidden: an update at all shows the visibilitychange refresh.
      await setHidden(false);
      await waitForUpdateAfter(page, seq);
      await context.close();
    });
  });
}
