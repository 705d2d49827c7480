import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { PrometheusConfig } from '../config/types.js';
import type { Logger } from '../log.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The Prometheus pull reader. Its own listener (loopback by default) is started here so a
 * busy port is reported once, in our words, and never reaches the app as an error.
 */
export function createPrometheusReader(c: PrometheusConfig, log: Logger): PrometheusExporter {
  // Required here, not at the top: only apps that use the Prometheus exporter evaluate it.
  const { PrometheusExporter: Exporter } = require('@opentelemetry/exporter-prometheus') as typeof import('@opentelemetry/exporter-prometheus');
  const reader = new Exporter({ host: c.host, port: c.port, endpoint: c.path, preventServerStart: true });
  if (c.serve) {
    reader.startServer().then(
      () => log.debug(`Prometheus endpoint listening on ${prometheusUrl(c)}`),
      (err: NodeJS.ErrnoException) =>
        log.warnOnce(
          `the Prometheus endpoint could not listen on ${c.host}:${c.port} (${err.code ?? err.message}); ` +
            'set HEALTHSPAN_PROMETHEUS_PORT to a free port, or HEALTHSPAN_PROMETHEUS_SERVE=false and mount createPrometheusHandler()',
        ),
    );
  }
  return reader;
}

export function prometheusUrl(c: PrometheusConfig): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  return `http://${host}:${c.port}${c.path}`;
}

/** Serves the exposition text from `reader`; any path, so it can be mounted under any route. */
export function handlerFor(reader: PrometheusExporter): RequestHandler {
  return (req, res) => reader.getMetricsRequestHandler(req, res);
}
