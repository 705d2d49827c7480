import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { PrometheusConfig } from '../config/types.js';
import type { Logger } from '../log.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

type Serializer = { serialize(resourceMetrics: unknown): string };
const serializers = new WeakMap<PrometheusExporter, Serializer>();

/**
 * The Prometheus pull reader. Its listener (loopback by default) is ours, serving
 * {@link handlerFor}, so a busy port is reported once, in our words, and never reaches the
 * app as an error.
 */
export function createPrometheusReader(c: PrometheusConfig, log: Logger): PrometheusExporter {
  // Required here, not at the top: only apps that use the Prometheus exporter evaluate it.
  const { PrometheusExporter: Exporter, PrometheusSerializer } =
    require('@opentelemetry/exporter-prometheus') as typeof import('@opentelemetry/exporter-prometheus');
  const reader = new Exporter({ host: c.host, port: c.port, endpoint: c.path, preventServerStart: true });
  serializers.set(reader, new PrometheusSerializer());
  if (c.serve) {
    const handler = handlerFor(reader);
    const server: Server = createServer((req, res) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      if ((q < 0 ? url : url.slice(0, q)) === c.path) return handler(req, res);
      res.statusCode = 404;
      res.end();
    });
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) =>
      log.warnOnce(
        `the Prometheus endpoint could not listen on ${c.host}:${c.port} (${err.code ?? err.message}); ` +
          'set HEALTHSPAN_PROMETHEUS_PORT to a free port, or HEALTHSPAN_PROMETHEUS_SERVE=false and mount createPrometheusHandler()',
      ),
    );
    server.listen(c.port, c.host, () => log.debug(`Prometheus endpoint listening on ${prometheusUrl(c)}`));
  }
  return reader;
}

export function prometheusUrl(c: PrometheusConfig): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  return `http://${host}:${c.port}${c.path}`;
}

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * Serves the exposition from `reader`, on any path (so it can be mounted under any route):
 * OpenMetrics 1.0 when the `Accept` header prefers it (Prometheus asks for it first), else
 * the text format 0.0.4. Both pass through {@link promtoolClean}.
 */
export function handlerFor(reader: PrometheusExporter): RequestHandler {
  return (req, res) => {
    const openMetrics = prefersOpenMetrics(req.headers.accept);
    reader.collect().then(
      ({ resourceMetrics }) => {
        const serializer = serializers.get(reader) ?? fallbackSerializer();
        const text = promtoolClean(serializer.serialize(resourceMetrics));
        res.statusCode = 200;
        res.setHeader('content-type', openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE);
        res.end(openMetrics ? toOpenMetrics(text) : text);
      },
      (err: Error) => {
        res.statusCode = 500;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(`# failed to collect metrics: ${err.message}\n`);
      },
    );
  };
}

function fallbackSerializer(): Serializer {
  const { PrometheusSerializer } = require('@opentelemetry/exporter-prometheus') as typeof import('@opentelemetry/exporter-prometheus');
  return new PrometheusSerializer();
}

/** Whether `accept` ranks `application/openmetrics-text` above `text/plain` (an absent type ranks 0). */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let om = 0;
  let text = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part
      .trim()
      .split(';')
      .map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain') text = Math.max(text, q);
  }
  return om > 0 && om >= text;
}

/**
 * Prometheus names for the few semantic-convention metrics whose translated name promtool
 * rejects: a gauge or counter may not end in `_count`, `_sum` or `_bucket` (those suffixes
 * belong to histogram series). `db.client.connection.count` becomes `db_client_connections`;
 * any other such name gets `_value` appended. OTLP keeps the semantic-convention names.
 */
const RENAMES: Record<string, string> = { db_client_connection_count: 'db_client_connections' };
const RESERVED = /_(count|sum|bucket)$/;

/** The exposition with reserved-suffix names of non-histogram metrics renamed (see {@link RENAMES}). */
export function promtoolClean(text: string): string {
  const renames = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m && m[2] !== 'histogram' && m[2] !== 'summary' && RESERVED.test(m[1])) renames.set(m[1], RENAMES[m[1]] ?? `${m[1]}_value`);
  }
  if (renames.size === 0) return text;
  return text
    .split('\n')
    .map((line) => {
      const meta = /^# (HELP|TYPE|UNIT) (\S+)( .*)?$/.exec(line);
      if (meta) {
        const to = renames.get(meta[2]);
        return to === undefined ? line : `# ${meta[1]} ${to}${meta[3] ?? ''}`;
      }
      const end = line.search(/[{ ]/);
      const to = end > 0 ? renames.get(line.slice(0, end)) : undefined;
      return to === undefined ? line : to + line.slice(end);
    })
    .join('\n');
}

/**
 * Text format 0.0.4 (as the OpenTelemetry serializer writes it) → OpenMetrics 1.0: counter
 * families are named without `_total` (their samples keep it), `untyped` is `unknown`,
 * `# UNIT` lines go (OpenMetrics wants the unit as the name's suffix, which the translated
 * names do not have: `http_server_request_duration` is in seconds, see docs/exporters.md),
 * `"` in HELP is escaped, and the exposition ends with `# EOF`.
 */
export function toOpenMetrics(text: string): string {
  const out: string[] = [];
  const counters = new Set<string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) counter$/.exec(line);
    if (t) counters.add(t[1]);
  }
  const family = (name: string) => (counters.has(name) && name.endsWith('_total') ? name.slice(0, -'_total'.length) : name);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# UNIT ')) continue;
    const help = /^# HELP (\S+) ?(.*)$/.exec(line);
    if (help) {
      out.push(`# HELP ${family(help[1])} ${help[2].replace(/"/g, '\\"')}`);
      continue;
    }
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      out.push(`# TYPE ${family(type[1])} ${type[2] === 'untyped' ? 'unknown' : type[2]}`);
      continue;
    }
    out.push(line);
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}
