import http from 'node:http';
import type { AdminHandler } from './handler.js';

export interface AdminServer {
  close(): void;
}

/**
 * The admin API on a listener of its own (HEALTHSPAN_ADMIN_PORT): loopback unless told
 * otherwise, unref'd so it never keeps the process alive, and a listen failure (port taken)
 * is reported, not thrown into the app.
 */
export function startAdminServer(o: {
  port: number;
  host: string;
  handler: AdminHandler;
  onError: (err: Error) => void;
  onListening?: (url: string) => void;
}): AdminServer {
  const server = http.createServer((req, res) => o.handler(req, res));
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('error', (err) => o.onError(err));
  server.listen(o.port, o.host, () => {
    server.unref();
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    o.onListening?.(`http://${host}:${o.port}`);
  });
  server.unref();
  return {
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}
