// The insight part of the summary: the health score, alerts and recommendations the app
// computed from its own spans, read from the admin API it mounts at /_healthspan.
import { setTimeout as sleep } from 'node:timers/promises';
import { bullet, lpad, out, pad } from './output.mjs';

export const ADMIN_PREFIX = '/_healthspan';

async function adminGet(baseUrl, route, token) {
  const res = await fetch(`${baseUrl}${ADMIN_PREFIX}${route}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: text.slice(0, 200) };
  }
  return { status: res.status, body };
}

/**
 * Reads the summary and the analytics with the token (and checks that the API refuses a
 * request without it). Waits until the insight timer has run since the traffic ended, so the
 * alerts the traffic caused are in (`intervalMs`: HEALTHSPAN_INSIGHT_INTERVAL_MS as the app reads it).
 */
export async function readInsight(baseUrl, token, trafficEnded, intervalMs, checks) {
  const failed = (what, err) => checks.push(['fail', `${what} (${err.cause?.message ?? err.message})`]);
  try {
    const anonymous = await adminGet(baseUrl, '/summary');
    checks.push(
      anonymous.status === 401
        ? ['ok', `the admin API refuses a request without the token (401)`]
        : ['fail', `the admin API answered ${anonymous.status}, not 401, to a request without the token`],
    );
  } catch (err) {
    failed(`GET ${ADMIN_PREFIX}/summary`, err);
    return null;
  }
  const wait = trafficEnded + Math.min(intervalMs, 6000) + 200 - Date.now();
  if (wait > 0) await sleep(wait);
  let summary;
  let analytics;
  try {
    summary = await adminGet(baseUrl, '/summary', token);
    analytics = await adminGet(baseUrl, '/analytics', token);
  } catch (err) {
    failed(`GET ${ADMIN_PREFIX}/summary and /analytics with the token`, err);
    return null;
  }
  if (summary.status !== 200) {
    checks.push(['fail', `GET ${ADMIN_PREFIX}/summary with the token answered ${summary.status}: ${summary.body?.error ?? ''}`]);
    return null;
  }
  checks.push([
    'ok',
    `GET ${ADMIN_PREFIX}/summary answered with the token (score ${summary.body.score ?? 'none yet'}, ${summary.body.requests?.count ?? 0} requests in the window)`,
  ]);
  if (analytics.status !== 200) {
    checks.push(['fail', `GET ${ADMIN_PREFIX}/analytics answered ${analytics.status}: ${analytics.body?.error ?? ''}`]);
    return { summary: summary.body };
  }
  const users = (analytics.body.caches ?? []).find((c) => c.name === 'users');
  checks.push(
    users?.lookups > 0
      ? ['ok', `the analytics has the cache "users" (${users.lookups} lookups, ${Math.round(users.hitRate * 100)} % hits)`]
      : ['fail', `the analytics has the cache "users" with lookups > 0 (caches: ${JSON.stringify(analytics.body.caches ?? [])})`],
  );
  const rules = new Set((analytics.body.alerts ?? []).map((a) => a.rule));
  checks.push(
    rules.has('n_plus_one')
      ? ['ok', 'the N+1 route raised an n_plus_one alert']
      : ['warn', `no n_plus_one alert is firing (firing: ${[...rules].join(', ') || 'none'})`],
  );
  return { summary: summary.body, analytics: analytics.body };
}

export function summariseInsight(insight) {
  out(`Insight (GET ${ADMIN_PREFIX}/analytics: computed in the app from its own spans, last ${insight.analytics?.minutes ?? 5} min)`);
  const a = insight.analytics;
  if (!a) {
    out('  (not available: see the checks)');
    return;
  }
  const h = a.health ?? {};
  out(`  health score ${h.score ?? '-'}/100, ${h.status ?? 'unknown'}${h.trend && h.trend !== 'unknown' ? `, ${h.trend}` : ''}`);
  for (const c of h.components ?? []) out(`    ${pad(c.name, 14)}${lpad(c.score ?? '-', 4)}   ${c.detail ?? ''}`);
  const alerts = a.alerts ?? [];
  out('');
  out(`  alerts firing (${alerts.length})`);
  for (const al of alerts) {
    out(`    [${al.severity}] ${pad(al.rule, 13)}${al.message}${al.exemplarTraceId ? `  (trace ${al.exemplarTraceId})` : ''}`);
  }
  const recs = a.recommendations ?? [];
  out('');
  out(`  recommendations (${recs.length})`);
  for (const r of recs) bullet(r);
}
