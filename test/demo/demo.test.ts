// `npm run demo` end to end (scripts/demo.mjs, without --serve): the example app under the
// preload against the suite's PostgreSQL (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/test), its traffic, and its self-checks — the demo exits
// non-zero when any ✗ check fails (no spans or metrics, the admin API not answering with the
// token, no `users` cache lookups in the analytics, no healthspan_ws_messages_total). Here we
// also read what it prints for a user: the insight section and where to look.
// test/prometheus/scrape.test.ts runs the same demo with --serve under a real Prometheus.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEMO_DATABASE_URL, demoEnv } from '../helpers/demo.ts';
import { freePort, ROOT } from '../preload/child.ts';

const DATABASE_URL = DEMO_DATABASE_URL;

function runDemo(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/demo.mjs'], { cwd: ROOT, env: demoEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGINT'), 50_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('npm run demo (scripts/demo.mjs)', () => {
  it('runs, passes its own checks, and prints the insight, the status page URL with a random token, and the Prometheus URL', async () => {
    const [appPort, metricsPort] = [await freePort(), await freePort()];
    const { code, out } = await runDemo({ DATABASE_URL, DEMO_PORT: String(appPort), HEALTHSPAN_PROMETHEUS_PORT: String(metricsPort) });
    expect(code, out).toBe(0);
    expect(out).not.toMatch(/^ {2}✗ /m);

    // Its self-checks, as printed.
    for (const check of [
      /✓ spans were exported to the OTLP receiver \(\d+\)/,
      /✓ http\.server\.request\.duration is on \/metrics/,
      /✓ WebSocket messages are on \/metrics \(healthspan_ws_messages_total: [1-9]\d*\)/,
      /✓ the admin API refuses a request without the token \(401\)/,
      /✓ GET \/_healthspan\/summary answered with the token/,
      /✓ the analytics has the cache "users" \([1-9]\d* lookups/,
    ]) {
      expect(out).toMatch(check);
    }

    // The traffic: cached reads, the N+1 route, WebSocket messages.
    expect(out).toMatch(/GET \/users\/:id\/orders-n1 \d+×200/);
    expect(out).toMatch(/WebSocket ws:\/\/127\.0\.0\.1:\d+\/ws: 3 of 3 connections opened, 18 of 18 messages answered/);
    expect(out).toMatch(/^ {4}users +\d+ hits +\d+ misses/m);

    // Insight from GET /_healthspan/analytics: a score, the N+1 alert and its recommendation.
    expect(out).toMatch(/^ {2}health score \d+\/100, (healthy|degraded|unhealthy)/m);
    expect(out).toMatch(/\[\w+\] n_plus_one +N\+1: \d+ sequential "SELECT orders" queries/);
    expect(out).toMatch(/- N\+1 pattern: \d+ sequential "SELECT orders" queries/);

    // Where to look: the status page with the generated token in the fragment, and the rest.
    const token = /^ {2}token {8}(\S+) {2}\(random for this run/m.exec(out)?.[1];
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/); // 24 random bytes, base64url
    const base = `http://127.0.0.1:${appPort}`;
    expect(out).toContain(`  status page  ${base}/_healthspan/#token=${token}`);
    expect(out).toContain(`  admin API    ${base}/_healthspan`);
    expect(out).toContain(`  curl         curl -H "Authorization: Bearer ${token}" ${base}/_healthspan/analytics`);
    expect(out).toContain(`  Prometheus   http://127.0.0.1:${metricsPort}/metrics`);

    // The route and statement tables keep their columns under their headers, whatever the
    // length of the names (the name column is as wide as the longest, up to a cap).
    for (const [title, header] of [
      ['HTTP server requests', 'route'],
      ['Database statements', 'statement'],
    ]) {
      const lines = out.split('\n');
      const at = lines.findIndex((l) => l.startsWith(`  ${title} (`));
      expect(at, title).toBeGreaterThan(0);
      const head = lines[at + 1];
      expect(head.trimStart().startsWith(header), head).toBe(true);
      const countEnd = head.indexOf('count') + 'count'.length;
      const rest = lines.slice(at + 2);
      const rows = rest.slice(
        0,
        rest.findIndex((l) => !/^ {4}[^ (]/.test(l) || l.startsWith('    pool connections')),
      );
      expect(rows.length, title).toBeGreaterThan(3);
      // Each row's count ends right under the header's "count".
      for (const row of rows) expect([row.slice(0, countEnd), row[countEnd]], row).toEqual([expect.stringMatching(/ \d+$/), ' ']);
    }
    // No build output: a build, when needed, is one line (its output only if it fails).
    expect(out).not.toMatch(/^(CLI|ESM|CJS|DTS) /m);
  }, 60_000);
});
