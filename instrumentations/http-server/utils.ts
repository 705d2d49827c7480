import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { propagation, type Attributes, type Context } from '@opentelemetry/api';
import { LEAN_ROOT_CONTEXT } from '../shared/context.js';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** `http.request.method`: a known method, or `_OTHER` (semantic conventions). */
export function normalizeMethod(method: string | undefined): string {
  if (method === undefined) return 'GET';
  if (KNOWN_METHODS.has(method)) return method;
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

/**
 * The span name of an incoming request: `{method} {http.route}`, or the method alone when
 * the route is unknown (never the path); an unknown method (`_OTHER`) is named `HTTP`.
 */
export function spanName(method: string, route?: string): string {
  const m = method === '_OTHER' ? 'HTTP' : method;
  return route === undefined ? m : `${m} ${route}`;
}

/** Splits a request target into path and query without allocating a URL. */
export function splitTarget(target: string | undefined): { path: string; query: string | undefined } {
  if (!target) return { path: '/', query: undefined };
  const q = target.indexOf('?');
  if (q === -1) return { path: target, query: undefined };
  return { path: target.slice(0, q), query: target.slice(q + 1) };
}

interface HostParts {
  readonly address?: string;
  readonly port?: number;
}

// A server sees the same Host header on almost every request: the last one is remembered.
let lastHost: string | undefined;
let lastHostParts: HostParts = {};

/** `server.address` / `server.port` from the Host header (`host`, `host:port`, `[v6]:port`). */
export function parseHost(host: string | undefined): HostParts {
  if (host === lastHost) return lastHostParts;
  const parts = parseHostUncached(host);
  lastHost = host;
  lastHostParts = parts;
  return parts;
}

function parseHostUncached(host: string | undefined): HostParts {
  if (!host) return {};
  let end = host.length;
  const start = 0;
  if (host[0] === '[') {
    const close = host.indexOf(']');
    if (close === -1) return { address: host };
    const port = host[close + 1] === ':' ? Number(host.slice(close + 2)) : undefined;
    return { address: host.slice(1, close), port: Number.isInteger(port) ? port : undefined };
  }
  const colon = host.lastIndexOf(':');
  if (colon !== -1) {
    const port = Number(host.slice(colon + 1));
    end = colon;
    return { address: host.slice(start, end), port: Number.isInteger(port) && port > 0 ? port : undefined };
  }
  return { address: host };
}

/** `client.address`: the first X-Forwarded-For hop, else the peer. */
export function clientAddress(headers: IncomingHttpHeaders, peer: string | undefined): string | undefined {
  const fwd = headers['x-forwarded-for'];
  if (typeof fwd === 'string' && fwd !== '') {
    const comma = fwd.indexOf(',');
    return (comma === -1 ? fwd : fwd.slice(0, comma)).trim();
  }
  return peer;
}

/**
 * The stable-convention attributes every incoming HTTP request gets (server requests and
 * WebSocket upgrades alike), and its path without the query.
 */
export function incomingRequestAttributes(req: IncomingMessage, scheme: string, method: string): { attributes: Attributes; path: string } {
  const headers = req.headers;
  const { path, query } = splitTarget(req.url);
  const attributes: Attributes = {
    'http.request.method': method,
    'url.scheme': scheme,
    'url.path': path,
    'network.protocol.version': req.httpVersion,
  };
  if (method === '_OTHER' && req.method) attributes['http.request.method_original'] = req.method;
  if (query !== undefined) attributes['url.query'] = query;
  const host = parseHost(headers.host);
  if (host.address !== undefined) attributes['server.address'] = host.address;
  if (host.port !== undefined) attributes['server.port'] = host.port;
  const socket = req.socket;
  const peer = socket?.remoteAddress;
  const client = clientAddress(headers, peer);
  if (client !== undefined) attributes['client.address'] = client;
  // The other end of the connection (a proxy, when X-Forwarded-For names the client).
  if (peer !== undefined) {
    attributes['network.peer.address'] = peer;
    const port = socket.remotePort;
    if (port !== undefined) attributes['network.peer.port'] = port;
  }
  const ua = headers['user-agent'];
  if (ua !== undefined) attributes['user_agent.original'] = ua;
  return { attributes, path };
}

let propagationFields: string[] | undefined;

/**
 * The remote parent from the request headers. Extraction is skipped when no header a
 * propagator reads is present (the common case); the propagators are set before the first
 * request and their header names do not change, so they are looked up once.
 */
export function extractParent(headers: IncomingHttpHeaders): Context {
  const fields = (propagationFields ??= propagation.fields());
  for (let i = 0; i < fields.length; i++) if (headers[fields[i]] !== undefined) return propagation.extract(LEAN_ROOT_CONTEXT, headers);
  return LEAN_ROOT_CONTEXT;
}
