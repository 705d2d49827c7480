// The metrics part of the summary: the app's /metrics, scraped once after the traffic and
// parsed by scripts/dev/prometheus.mjs, as tables per route, statement, cache and WebSocket.
import { setTimeout as sleep } from 'node:timers/promises';
import { scrape } from '../dev/prometheus.mjs';
import { isShuttingDown } from '../dev/supervisor.mjs';
import { cell, lpad, mb, ms, nameWidth, out, pad, wrapList } from './output.mjs';

/** The samples of `url`, retried for ~3 s while the exporter starts up. */
export async function scrapeSamples(url) {
  let lastError;
  for (let attempt = 0; attempt < 10 && !isShuttingDown(); attempt++) {
    try {
      const { status, samples } = await scrape(url, { signal: AbortSignal.timeout(5000) });
      if (status < 200 || status > 299) throw new Error(`HTTP ${status}`);
      return samples;
    } catch (err) {
      lastError = err;
      await sleep(300);
    }
  }
  throw new Error(lastError?.cause?.message ?? lastError?.message ?? 'stopped');
}

/** Histogram series named `base`_bucket/_sum/_count, summed over all labels but `keyOf`. */
function histogramsBy(samples, base, keyOf) {
  const groups = new Map();
  const get = (labels) => {
    const key = keyOf(labels);
    if (!groups.has(key)) groups.set(key, { key, buckets: new Map(), sum: 0, count: 0, byLabel: new Map() });
    return groups.get(key);
  };
  for (const s of samples) {
    if (s.name === `${base}_bucket`) {
      const g = get(s.labels);
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      g.buckets.set(le, (g.buckets.get(le) ?? 0) + s.value);
    } else if (s.name === `${base}_sum`) {
      get(s.labels).sum += s.value;
    } else if (s.name === `${base}_count`) {
      const g = get(s.labels);
      g.count += s.value;
      g.series = [...(g.series ?? []), s];
    }
  }
  return [...groups.values()];
}

/**
 * Like PromQL histogram_quantile: linear interpolation inside the bucket holding the rank.
 * Returns a display string; inside the lowest bucket (or past the highest bound) an
 * interpolated number would be made up, so it says "< bound" (or "> bound") instead.
 */
function quantile(q, group) {
  const bounds = [...group.buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = bounds.at(-1)?.[1] ?? 0;
  if (total === 0) return '-';
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [i, [le, count]] of bounds.entries()) {
    if (count >= rank) {
      if (le === Infinity) return `> ${ms(prevLe)}`;
      if (i === 0) return `< ${ms(le)}`;
      return ms(prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(count - prevCount, 1e-9));
    }
    prevLe = le;
    prevCount = count;
  }
  return `> ${ms(prevLe)}`;
}

function findName(samples, pattern) {
  return samples.find((s) => pattern.test(s.name))?.name;
}
function sumOf(samples, name, filter = () => true) {
  const matching = samples.filter((s) => s.name === name && filter(s.labels));
  return matching.length ? matching.reduce((a, s) => a + s.value, 0) : undefined;
}

export function summariseMetrics(samples, checks) {
  const families = new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count|total|created)$/, '')));
  out(`Metrics (${families.size} metric families, ${samples.length} samples)`);

  // HTTP server: RED per route
  const httpBase = findName(samples, /^http_server_request_duration(_seconds)?_bucket$/)?.replace(/_bucket$/, '');
  const httpGroups = httpBase ? histogramsBy(samples, httpBase, (l) => `${l.http_request_method ?? '?'} ${l.http_route ?? '(no http_route)'}`) : [];
  if (httpGroups.length === 0) {
    checks.push(['fail', 'http.server.request.duration is on /metrics']);
  } else {
    checks.push(['ok', `http.server.request.duration is on /metrics (${httpBase})`]);
    const noRoute = httpGroups.filter((g) => g.key.endsWith('(no http_route)'));
    if (noRoute.length) checks.push(['warn', `some HTTP server series have no http_route label (${noRoute.map((g) => g.key).join(', ')})`]);
    out('');
    out(`  HTTP server requests (${httpBase}; percentiles estimated from its buckets)`);
    const w = nameWidth(httpGroups.map((g) => g.key));
    out(`    ${pad('route', w)}${lpad('count', 6)}${lpad('2xx', 5)}${lpad('4xx', 5)}${lpad('5xx', 5)}${lpad('p50', 11)}${lpad('p95', 11)}${lpad('avg', 10)}`);
    for (const g of httpGroups.sort((a, b) => b.count - a.count)) {
      const byClass = { 2: 0, 4: 0, 5: 0 };
      for (const s of g.series ?? []) {
        const c = String(s.labels.http_response_status_code ?? '')[0];
        if (c in byClass) byClass[c] += s.value;
      }
      out(
        `    ${cell(g.key, w)}${lpad(g.count, 6)}${lpad(byClass[2], 5)}${lpad(byClass[4], 5)}${lpad(byClass[5], 5)}` +
          `${lpad(quantile(0.5, g), 11)}${lpad(quantile(0.95, g), 11)}${lpad(ms(g.sum / g.count), 10)}`,
      );
    }
    const client = findName(samples, /^http_client_request_duration(_seconds)?_count$/);
    if (client) out(`    (outgoing: ${sumOf(samples, client)} client requests in http.client.request.duration)`);
  }

  // Database
  const dbBase = findName(samples, /^db_client_operation_duration(_seconds)?_bucket$/)?.replace(/_bucket$/, '');
  if (!dbBase) {
    checks.push(['warn', 'db.client.operation.duration is on /metrics']);
  } else {
    checks.push(['ok', `db.client.operation.duration is on /metrics (${dbBase})`]);
    // db.query.summary (`SELECT users`) is the low-cardinality statement name healthspan records.
    const groups = histogramsBy(samples, dbBase, (l) =>
      `${l.db_system_name ?? l.db_system ?? ''} ${l.db_query_summary ?? l.db_operation_name ?? '(no operation)'}`.trim(),
    );
    out('');
    out(`  Database statements (${dbBase}, by db.query.summary)`);
    const w = nameWidth(groups.map((g) => g.key));
    out(`    ${pad('statement', w)}${lpad('count', 6)}${lpad('errors', 7)}${lpad('p50', 13)}${lpad('p95', 11)}${lpad('avg', 10)}`);
    for (const g of groups.sort((a, b) => b.count - a.count)) {
      const errors = (g.series ?? []).filter((s) => s.labels.error_type).reduce((a, s) => a + s.value, 0);
      out(
        `    ${cell(g.key, w)}${lpad(g.count, 6)}${lpad(errors, 7)}${lpad(quantile(0.5, g), 13)}${lpad(quantile(0.95, g), 11)}${lpad(ms(g.sum / g.count), 10)}`,
      );
    }
    const conn = findName(samples, /^db_client_connections$/);
    if (conn) {
      const used = sumOf(samples, conn, (l) => l.db_client_connection_state === 'used');
      const idle = sumOf(samples, conn, (l) => l.db_client_connection_state === 'idle');
      out(`    pool connections: ${used ?? 0} used, ${idle ?? 0} idle`);
    }
  }

  // Cache: the app's createCache({ name: 'users' })
  const cacheName = findName(samples, /^healthspan_cache_requests(_total)?$/);
  if (cacheName) {
    out('');
    out(`  Cache reads (${cacheName}, by cache.name)`);
    const byCache = new Map();
    for (const s of samples.filter((x) => x.name === cacheName)) {
      const c = byCache.get(s.labels.cache_name) ?? { hit: 0, miss: 0, error: 0 };
      c[s.labels.cache_result] = (c[s.labels.cache_result] ?? 0) + s.value;
      byCache.set(s.labels.cache_name, c);
    }
    for (const [name, c] of byCache) {
      const ratio = c.hit + c.miss > 0 ? `${Math.round((100 * c.hit) / (c.hit + c.miss))} % hits` : '-';
      out(`    ${pad(name, 26)}${lpad(c.hit, 6)} hits${lpad(c.miss, 6)} misses${lpad(c.error, 4)} errors   ${ratio}`);
    }
  }

  // WebSocket: the app's ws server on /ws
  const wsName = findName(samples, /^healthspan_ws_messages(_total)?$/);
  const wsMessages = wsName ? sumOf(samples, wsName) : 0;
  checks.push(
    wsMessages > 0
      ? ['ok', `WebSocket messages are on /metrics (${wsName}: ${wsMessages})`]
      : ['fail', 'WebSocket messages are on /metrics (healthspan_ws_messages_total > 0)'],
  );
  if (wsName) {
    out('');
    out(`  WebSocket (${wsName}, by http.route)`);
    const routes = [...new Set(samples.filter((x) => x.name === wsName).map((x) => x.labels.http_route))];
    const closed = findName(samples, /^healthspan_ws_connection_duration(_seconds)?_count$/);
    for (const r of routes) {
      const dir = (d) => sumOf(samples, wsName, (l) => l.http_route === r && l.network_io_direction === d) ?? 0;
      const conns = closed ? (sumOf(samples, closed, (l) => l.http_route === r) ?? 0) : '?';
      out(`    ${pad(r, 26)}${lpad(dir('receive'), 6)} received${lpad(dir('transmit'), 6)} sent   ${conns} connections closed`);
    }
  }

  // Runtime
  const runtime = [];
  const value = (pattern, reduce = 'first') => {
    const name = findName(samples, pattern);
    if (!name) return undefined;
    return reduce === 'sum' ? sumOf(samples, name) : samples.find((s) => s.name === name).value;
  };
  const p50 = value(/^nodejs_eventloop_delay_p50(_seconds)?$/);
  const p99 = value(/^nodejs_eventloop_delay_p99(_seconds)?$/);
  const max = value(/^nodejs_eventloop_delay_max(_seconds)?$/);
  const min = value(/^nodejs_eventloop_delay_min(_seconds)?$/);
  if (p50 !== undefined || p99 !== undefined) {
    runtime.push(`event-loop delay p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(max)}`);
    // perf_hooks.monitorEventLoopDelay counts its own sampling interval in every value.
    if (min !== undefined) runtime.push(`  (min ${ms(min)}: Node's measure includes its sampling interval; near the min = not blocked)`);
  }
  const elu = value(/^nodejs_eventloop_utilization(_ratio)?$/);
  if (elu !== undefined) runtime.push(`event-loop utilization ${(elu * 100).toFixed(1)} %`);
  const heapUsed = value(/^v8js_memory_heap_used(_bytes)?$/, 'sum');
  const heapLimit = value(/^v8js_memory_heap_limit(_bytes)?$/, 'sum');
  if (heapUsed !== undefined) runtime.push(`heap used ${mb(heapUsed)}${heapLimit ? ` of ${mb(heapLimit)} limit` : ''}`);
  const gcCount = value(/^v8js_gc_duration(_seconds)?_count$/, 'sum');
  const gcSum = value(/^v8js_gc_duration(_seconds)?_sum$/, 'sum');
  if (gcCount !== undefined) runtime.push(`GC: ${gcCount} pauses, ${ms(gcSum)} in total`);
  if (runtime.length === 0) {
    checks.push(['warn', 'runtime metrics (nodejs_eventloop_*, v8js_*) are on /metrics']);
  } else {
    checks.push(['ok', 'runtime metrics (nodejs_eventloop_*, v8js_*) are on /metrics']);
    out('');
    out('  Runtime');
    for (const r of runtime) out(`    ${r}`);
  }

  const own = [...families].filter((f) => f.startsWith('healthspan_'));
  if (own.length) {
    out('');
    out(`  healthspan's own metrics:`);
    wrapList(own);
    const score = findName(samples, /^healthspan_health_score/);
    if (score) out(`    health score at the scrape: ${samples.find((s) => s.name === score).value} (healthspan_health_score; the insight below is read later)`);
  }
  return httpGroups.length > 0;
}
