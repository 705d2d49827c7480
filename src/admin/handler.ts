import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { liveCaches, untrackedCaches } from '../cache/registry.js';
import type { InsightThresholds } from '../insight/options.js';
import { HttpError } from './http-error.js';
import { renderStatusPage } from './page.js';
import { registerAdminPrefix } from './registry.js';
import { alerts, analytics, needInsight, rawMetrics, resolveAlert, summary, type AdminSource } from './views.js';

export type { AdminSource } from './views.js';

export interface AdminHandlerOptions {
  /**
   * Path the API is mounted under when the handler sees whole URLs (node:http). Under express's
   * `app.use(prefix, handler)` the prefix is taken from `req.baseUrl`. `''` serves at the root
   * (the standalone server). @default '/_healthspan'
   */
  prefix?: string;
  /** Bearer token required on every route; overrides HEALTHSPAN_ADMIN_TOKEN. */
  token?: string;
}

export type AdminHandler = ((req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void) & {
  /** Whether a request is for this handler (its path is under the prefix). */
  matches(req: IncomingMessage): boolean;
  readonly prefix: string;
};

/** Request bodies larger than this are refused (413). */
const MAX_BODY = 16 * 1024;
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

type Req = IncomingMessage & { baseUrl?: string; originalUrl?: string };
type Route = (ctx: { req: Req; query: URLSearchParams; params: string[]; body: () => Promise<unknown> }) => unknown | Promise<unknown>;

/**
 * The performance API and status page as one framework-agnostic `(req, res, next?)` handler.
 * Requests run with tracing suppressed; the mount prefix is registered so the HTTP server
 * instrumentation makes no span or metric for them (see docs/admin.md).
 */
export function buildAdminHandler(source: AdminSource, options: AdminHandlerOptions = {}): AdminHandler {
  const prefix = normalisePrefix(options.prefix ?? '/_healthspan');
  registerAdminPrefix(prefix);
  const expectedToken = () => options.token ?? source.token();

  const routes: { method: string; pattern: RegExp; run: Route; mutates?: boolean }[] = [
    { method: 'GET', pattern: /^\/summary$/, run: () => summary(source) },
    { method: 'GET', pattern: /^\/analytics$/, run: ({ query }) => analytics(source, query) },
    { method: 'GET', pattern: /^\/metrics$/, run: () => rawMetrics(source) },
    { method: 'GET', pattern: /^\/alerts$/, run: ({ query }) => alerts(source, query) },
    { method: 'POST', pattern: /^\/alerts\/([^/]+)\/resolve$/, mutates: true, run: ({ params }) => resolveAlert(source, params[0]) },
    { method: 'GET', pattern: /^\/thresholds$/, run: () => thresholds(source) },
    { method: 'PUT', pattern: /^\/thresholds$/, mutates: true, run: async ({ body }) => putThresholds(source, await body()) },
    {
      method: 'GET',
      pattern: /^\/cache\/stats$/,
      run: () => ({ caches: liveCaches().map((c) => ({ name: c.name, ...c.stats() })), untracked: untrackedCaches() }),
    },
    { method: 'POST', pattern: /^\/cache\/clear$/, mutates: true, run: async ({ body }) => clearCaches(await body()) },
  ];

  const locate = (req: Req): { sub: string; base: string; query: string } | undefined => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (typeof req.baseUrl === 'string' && req.baseUrl !== '') {
      // express stripped its mount path: remember it so its requests are not traced either.
      registerAdminPrefix(req.baseUrl);
      return { sub: path, base: req.baseUrl, query };
    }
    if (prefix === '') return { sub: path, base: '', query };
    if (path === prefix) return { sub: '', base: prefix, query };
    if (path.startsWith(`${prefix}/`)) return { sub: path.slice(prefix.length), base: prefix, query };
    return undefined;
  };

  const handle = async (req: Req, res: ServerResponse, where: { sub: string; base: string; query: string }) => {
    const method = req.method ?? 'GET';
    const sub = where.sub === '' ? '' : where.sub.replace(/\/+$/, '') || '/';
    if (sub === '' || (sub === '/' && (req.originalUrl ?? req.url ?? '').split('?')[0].endsWith(where.base) && where.base !== '')) {
      // The page uses relative URLs: it must be served from `<prefix>/`.
      res.writeHead(308, { location: `${where.base}/${where.query ? `?${where.query}` : ''}`, 'content-length': '0' });
      res.end();
      return;
    }
    if (sub === '/') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} is not allowed here; use GET`, { allow: 'GET, HEAD' });
      // The page holds no data (it fetches it with the token), so it is served to anyone who can reach the API.
      const html = renderStatusPage();
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': String(Buffer.byteLength(html)),
        'content-security-policy': CSP,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      res.end(method === 'HEAD' ? undefined : html);
      return;
    }
    const candidates = routes.filter((r) => r.pattern.test(sub));
    if (candidates.length === 0) throw new HttpError(404, `no admin route ${sub}; see docs/admin.md`);
    const route = candidates.find((r) => r.method === method);
    if (!route)
      throw new HttpError(405, `${method} is not allowed on ${sub}; use ${candidates.map((r) => r.method).join(' or ')}`, {
        allow: candidates.map((r) => r.method).join(', '),
      });
    authorise(req, expectedToken(), route.mutates === true);
    const params = (route.pattern.exec(sub) ?? []).slice(1).map((p) => safeDecode(p));
    const result = await route.run({ req, query: new URLSearchParams(where.query), params, body: () => readJson(req) });
    sendJson(res, 200, result);
  };

  const handler = ((req: Req, res: ServerResponse, next?: (err?: unknown) => void) => {
    const where = locate(req);
    if (!where) {
      if (next) next();
      else sendJson(res, 404, { error: `not under ${prefix}` });
      return;
    }
    context.with(suppressTracing(context.active()), () => {
      handle(req, res, where).catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof HttpError) sendJson(res, err.status, { error: err.message }, err.headers);
        else sendJson(res, 500, { error: `admin API failure: ${err instanceof Error ? err.message : String(err)}` });
      });
    });
  }) as AdminHandler;
  handler.matches = (req) => locate(req as Req) !== undefined;
  Object.defineProperty(handler, 'prefix', { value: prefix, enumerable: true });
  return handler;
}

function normalisePrefix(p: string): string {
  if (typeof p !== 'string') throw new TypeError('createAdminHandler: prefix must be a string such as "/_healthspan"');
  const trimmed = p.trim().replace(/\/+$/, '');
  if (trimmed !== '' && !/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed))
    throw new TypeError(`createAdminHandler: prefix ${JSON.stringify(p)} must be a path such as "/_healthspan"`);
  return trimmed;
}

// ---- auth ---------------------------------------------------------------------------------

/**
 * Constant-time comparison: both sides are hashed first, so neither length nor content leaks.
 * `node:crypto` is loaded by the first request that carries a token, not at start-up.
 */
function tokenMatches(given: string, expected: string): boolean {
  const { createHash, timingSafeEqual } = require('node:crypto') as typeof import('node:crypto');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function authorise(req: IncomingMessage, token: string | undefined, mutates: boolean): void {
  if (token) {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!m || !tokenMatches(m[1], token)) {
      throw new HttpError(401, header ? 'the bearer token is not the admin token' : 'this route needs Authorization: Bearer <HEALTHSPAN_ADMIN_TOKEN>', {
        'www-authenticate': 'Bearer realm="healthspan"',
      });
    }
    return;
  }
  if (mutates) throw new HttpError(403, 'changing anything through the admin API needs a token: set HEALTHSPAN_ADMIN_TOKEN (or createAdminHandler({ token }))');
  if (!isLoopback(req.socket?.remoteAddress)) {
    throw new HttpError(403, 'without HEALTHSPAN_ADMIN_TOKEN the admin API answers only requests from this machine (loopback)');
  }
}

// ---- bodies and answers -------------------------------------------------------------------

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in ${JSON.stringify(s)}`);
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const type = req.headers['content-type'] ?? '';
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_BODY) {
        failed = true;
        reject(new HttpError(413, `the request body is larger than ${MAX_BODY} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve(undefined);
      if (type && !/^application\/json\b/i.test(type)) return reject(new HttpError(415, `the body must be JSON (content-type: application/json), not ${type}`));
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`));
      }
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(payload);
}

// ---- routes -------------------------------------------------------------------------------

function thresholds(source: AdminSource) {
  return { thresholds: needInsight(source).thresholds() };
}

function putThresholds(source: AdminSource, body: unknown) {
  needInsight(source);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'the body must be a JSON object of thresholds, e.g. {"requestMs": 500}');
  // setThresholds() checks the body by the rules of the env vars (config/thresholds.ts) and
  // throws a TypeError naming the field, the value and the range: that is the 400.
  try {
    return { thresholds: source.setThresholds(body as Partial<InsightThresholds>) };
  } catch (err) {
    if (err instanceof TypeError) throw new HttpError(400, err.message.replace(/^setThresholds: /, ''));
    throw err;
  }
}

async function clearCaches(body: unknown) {
  let pattern: string | undefined;
  let only: string | undefined;
  if (body !== undefined) {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new HttpError(400, 'the body must be a JSON object, e.g. {"pattern": "users:*"}');
    for (const field of Object.keys(body)) {
      if (field !== 'pattern' && field !== 'cache') throw new HttpError(400, `unknown field ${JSON.stringify(field)}; use pattern and/or cache`);
    }
    const b = body as { pattern?: unknown; cache?: unknown };
    if (b.pattern !== undefined) {
      if (typeof b.pattern !== 'string' || b.pattern.trim() === '') throw new HttpError(400, 'pattern must be a non-empty glob such as "users:*"');
      if (b.pattern.length > 512) throw new HttpError(400, 'pattern must be at most 512 characters');
      pattern = b.pattern;
    }
    if (b.cache !== undefined) {
      if (typeof b.cache !== 'string' || b.cache === '') throw new HttpError(400, 'cache must be the name of a cache');
      only = b.cache;
    }
  }
  const caches = liveCaches().filter((c) => only === undefined || c.name === only);
  if (only !== undefined && caches.length === 0) throw new HttpError(404, `no cache named ${JSON.stringify(only)}`);
  const cleared: { name: string; removed?: number }[] = [];
  for (const c of caches) {
    if (pattern === undefined) {
      await c.clear();
      cleared.push({ name: c.name });
    } else {
      cleared.push({ name: c.name, removed: await c.invalidate(pattern) });
    }
  }
  return { cleared, ...(pattern !== undefined ? { pattern } : {}) };
}
