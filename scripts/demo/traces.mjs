// The traces part of the summary: what the OTLP receiver (scripts/dev/otlp-receiver.mjs) got
// from the app, the checks on it, and one trace drawn as a tree.
import { lpad, out } from './output.mjs';

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
/** The OTLP enum value of SpanKind SERVER. */
export const SERVER_KIND = 2;

/** A received span as the summary reads it: kind by name, '' for a root's parent, times in ns. */
const view = (s) => ({
  traceId: s.traceId,
  spanId: s.spanId,
  parentSpanId: s.parentSpanId ?? '',
  name: s.name,
  kind: KINDS[s.kind] ?? String(s.kind),
  start: s.startTimeUnixNano,
  end: s.endTimeUnixNano,
  attributes: s.attributes,
  status: s.status.code,
});

const durationMs = (s) => Number(s.end - s.start) / 1e6;

function spanDetail(s) {
  const a = s.attributes;
  const parts = [];
  const status = a['http.response.status_code'] ?? a['http.status_code'];
  if (s.kind === 'SERVER' && !s.name.includes('/') && a['url.path']) parts.push(a['url.path']);
  if (status !== undefined) parts.push(String(status));
  if (s.kind === 'CLIENT' && (a['url.full'] || a['http.url'])) parts.push(a['url.full'] ?? a['http.url']);
  const sql = a['db.query.summary'] ?? a['db.query.text'] ?? a['db.statement'];
  if (sql) parts.push(String(sql).replace(/\s+/g, ' ').slice(0, 70) + (String(sql).length > 70 ? '…' : ''));
  if (s.status === 2 && status === undefined) parts.push('ERROR');
  return parts.join('  ');
}

function printTree(spans) {
  const byParent = new Map();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) {
    const parent = ids.has(s.parentSpanId) ? s.parentSpanId : '';
    byParent.set(parent, [...(byParent.get(parent) ?? []), s]);
  }
  const walk = (parent, prefix, depth) => {
    const children = (byParent.get(parent) ?? []).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    children.forEach((s, i) => {
      const last = i === children.length - 1;
      const branch = depth === 0 ? '' : last ? '└─ ' : '├─ ';
      out(`    ${prefix}${branch}${s.name}  ${s.kind}  ${durationMs(s).toFixed(1)} ms  ${spanDetail(s)}`.trimEnd());
      walk(s.spanId, depth === 0 ? '' : prefix + (last ? '   ' : '│  '), depth + 1);
    });
  };
  walk('', '', 0);
}

/**
 * Prints what the receiver got and adds the checks on it. `expectedService` is the app's
 * service.name; with `serve`, the app keeps running, so missing spans may be on their way.
 */
export function summariseSpans(receiver, traffic, checks, { expectedService, serve }) {
  const spans = receiver.spans.map(view);
  const totalSpans = receiver.spanCount;
  const dropped = totalSpans - spans.length;
  const traceRequests = receiver.requests.filter((r) => r.path === '/v1/traces');
  const undecodable = receiver.errors.filter((e) => e.startsWith('/v1/traces')).slice(0, 5);
  const notJson = traceRequests.filter((r) => r.protocol !== 'http/json');
  out(`Traces (${totalSpans} spans in ${traceRequests.length} OTLP/JSON requests${dropped ? `, ${dropped} not kept` : ''})`);
  if (undecodable.length) out(`  could not read ${undecodable.length} trace request(s): ${undecodable.join('; ')}`);
  if (undecodable.length || notJson.length) {
    const why = undecodable[0] ?? `${notJson.length} request(s) came as ${notJson[0].contentType || '(no content-type)'}`;
    checks.push(['fail', `trace exports are OTLP/JSON as asked by OTEL_EXPORTER_OTLP_PROTOCOL=http/json (${why})`]);
  }
  if (totalSpans === 0) {
    checks.push(['fail', 'spans were exported to the OTLP receiver']);
    return false;
  }
  checks.push(['ok', `spans were exported to the OTLP receiver (${totalSpans})`]);

  const services = [...new Set(receiver.spans.map((s) => s.resource['service.name']).filter(Boolean))];
  checks.push(
    services.includes(expectedService)
      ? ['ok', `resource service.name = ${services.join(', ')}`]
      : ['warn', `resource service.name is ${services.join(', ') || '(missing)'}, expected ${expectedService}`],
  );

  const names = new Map();
  for (const s of spans) {
    const key = `${s.name}  ${s.kind}`;
    names.set(key, (names.get(key) ?? 0) + 1);
  }
  out('');
  out(`  ${names.size} distinct span names:`);
  for (const [name, n] of [...names].sort((a, b) => b[1] - a[1]).slice(0, 20)) out(`    ${lpad(n, 5)}  ${name}`);
  if (names.size > 20) out(`    … and ${names.size - 20} more`);

  const server = spans.filter((s) => s.kind === 'SERVER');
  const expected = traffic.expectedServerSpans;
  const what = `${traffic.sent - traffic.failed} requests + ${traffic.internalCalls} internal calls`;
  checks.push(
    server.length >= expected
      ? ['ok', `a SERVER span for every request (${server.length} for ${what})`]
      : ['warn', `${server.length} SERVER spans for ${what}${serve ? ' (so far: the app keeps running)' : ''}`],
  );
  const generic = server.filter((s) => /^[A-Z]+$/.test(s.name));
  if (generic.length)
    checks.push([
      'warn',
      `${generic.length} SERVER spans are named by method only (no route), e.g. "${generic[0].name}" for ${generic[0].attributes['url.path'] ?? '?'}`,
    ]);
  const dbSpans = spans.filter((s) => s.attributes['db.system.name'] ?? s.attributes['db.system']);
  checks.push(dbSpans.length ? ['ok', `PostgreSQL spans (${dbSpans.length})`] : ['warn', 'no PostgreSQL spans (db.system.name) were exported']);

  // The example: GET /users/:id/orders, which calls GET /internal/price over fetch.
  const traces = new Map();
  for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
  const isOrders = (s) =>
    s.kind === 'SERVER' &&
    (s.attributes['http.route'] === '/users/:id/orders' || /\/orders$/.test(s.attributes['url.path'] ?? '') || s.name.endsWith('/orders'));
  const nested = [...traces.values()].filter((t) => t.some((s) => isOrders(s) && !s.parentSpanId));
  const complete = nested.filter((t) => {
    const ids = new Map(t.map((s) => [s.spanId, s]));
    return t.some((s) => s.kind === 'SERVER' && ids.get(s.parentSpanId)?.kind === 'CLIENT');
  });
  checks.push(
    complete.length
      ? ['ok', 'fetch is traced and propagates context: SERVER → CLIENT → SERVER in one trace']
      : [
          'warn',
          nested.length
            ? 'GET /users/:id/orders traces do not contain CLIENT → SERVER (fetch span or propagation missing)'
            : 'no trace rooted at GET /users/:id/orders was found',
        ],
  );
  const example = (complete.length ? complete : nested.length ? nested : [...traces.values()]).sort((a, b) => b.length - a.length)[0];
  if (example) {
    out('');
    out(`  Example trace ${example[0].traceId} (${example.length} spans):`);
    printTree(example);
  }
  return true;
}
