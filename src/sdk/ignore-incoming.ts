import type { IncomingMessage } from 'node:http';
import { isAdminPath } from '../admin/registry.js';
import type { SdkConfig } from '../config/types.js';

/**
 * Which incoming requests are ours and get no span and no metric: the admin API (mounted
 * under a registered prefix, or every request on the port of its own server) and the
 * Prometheus scrape on the port of our own listener.
 */
export function ignoreOwnRequests(config: SdkConfig): (req: IncomingMessage) => boolean {
  const m = config.metrics;
  const scrapePort = m.exporters.includes('prometheus') && m.prometheus.serve ? m.prometheus.port : undefined;
  const scrapePath = m.prometheus.path;
  const adminPort = config.admin.port;
  return (req) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (isAdminPath(path)) return true;
    if (scrapePort === undefined && adminPort === undefined) return false;
    const port = req.socket?.localPort ?? -1;
    return port === adminPort || (port === scrapePort && path === scrapePath);
  };
}
