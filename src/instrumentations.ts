import type { IncomingMessage } from 'node:http';
import { context } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { SdkConfig } from './config/types.js';
import type { InstrumentationName } from './config/values.js';
import type { RouteTemplater } from './http/route.js';
import { withExpressNext } from '../instrumentations/express-next/index.js';
import { HttpServerInstrumentation } from '../instrumentations/http-server/index.js';
import { withKoaUseValidation } from '../instrumentations/koa-use/index.js';
import { withMysqlErrorCodes } from '../instrumentations/mysql2-errors/index.js';
import { PgPoolInstrumentation } from '../instrumentations/pg-pool/index.js';
import { withoutPgMetrics } from '../instrumentations/pg-lean/index.js';
import { WsInstrumentation } from '../instrumentations/ws/index.js';
import { publishVendorShared } from './vendor-shared.js';

// Instrumentation packages are required inside their factory: the bundle evaluates one
// only when its instrumentation is created (see InstrumentationLoader), so an app that never
// loads mysql2 never runs the mysql2 instrumentation's code. A plain require() call, so that
// tsup bundles the package into dist/ (users install none of them).

export interface InstrumentationContext {
  config: SdkConfig;
  templater: RouteTemplater;
  /** Incoming requests for which no span is made (our own endpoints). */
  ignoreIncoming: (req: IncomingMessage) => boolean;
  /** Reported once when more pools exist than the pool metrics observe. */
  onPoolLimit: (limit: number) => void;
}

/** Whether the caller suppressed tracing: then the call is ours (or meant to be invisible) and is not recorded at all. */
const suppressed = (): boolean => isTracingSuppressed(context.active());

/**
 * Redis arguments (keys, values) are never exported: `db.query.text` is the command and one
 * `?` per key (`SET ?`, `MGET ? ? ?`, at most 16), from Redis' own command table
 * (`@ioredis/commands`); a command it does not know gets no placeholders.
 */
export function redisStatement(command: string, args: unknown[]): string {
  const name = command.toUpperCase();
  let keys = 0;
  try {
    const commands = loadRedisCommands();
    const lower = command.toLowerCase();
    if (commands.exists(lower)) keys = commands.getKeyIndexes(lower, args as string[]).length;
  } catch {
    keys = 0;
  }
  const n = Math.min(keys, 16);
  return `${name}${' ?'.repeat(n)}${keys > n ? ' …' : ''}`;
}

let redisCommands: { exists(c: string): boolean; getKeyIndexes(c: string, args: string[]): number[] } | undefined;
function loadRedisCommands() {
  return (redisCommands ??= require('@ioredis/commands'));
}

type Factory = (ctx: InstrumentationContext) => Instrumentation | Instrumentation[];

publishVendorShared();

const routerServers = new WeakMap<object, boolean>();

/**
 * Whether the server that took this request hands it to a router: an express app
 * (`app.handle`, `app.set`), koa's `callback()` (`handleRequest`) or fastify's `preRouting`.
 * Decided once per server. A listener we cannot recognise (say, a wrapper around an express
 * app) counts as bare; 404s never get a template either way.
 */
function servedByRouter(req: IncomingMessage | undefined): boolean {
  const server = (req?.socket as { server?: { listeners?: (e: string) => unknown[] } } | undefined)?.server;
  if (!server?.listeners) return true;
  let known = routerServers.get(server);
  if (known === undefined) {
    known = server.listeners('request').some((l) => {
      const f = l as { name?: string; handle?: unknown; set?: unknown };
      return (typeof f.handle === 'function' && typeof f.set === 'function') || f.name === 'handleRequest' || f.name === 'preRouting';
    });
    routerServers.set(server, known);
  }
  return known;
}

/** A router's instrumentation: once the app loads a router, only the router names HTTP routes (see RouteTemplater.routerInUse). */
function router(make: Factory): Factory {
  return (ctx) => {
    ctx.templater.routerInUse = true;
    return make(ctx);
  };
}

/**
 * name → factory. The names are those of OTEL_NODE_ENABLED_INSTRUMENTATIONS /
 * OTEL_NODE_DISABLED_INSTRUMENTATIONS (upstream package name without its prefix), checked
 * against INSTRUMENTATION_NAMES (config/values.ts): a name missing here, or one here that the
 * config does not know, does not compile.
 */
export const INSTRUMENTATIONS: Record<string, Factory> = {
  // Servers: our lean HttpServerInstrumentation (instrumentations/http-server); clients: the
  // official HttpInstrumentation with its server side turned off.
  http: ({ config, templater, ignoreIncoming }) => {
    const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
    const headers = config.http;
    return [
      new HttpServerInstrumentation({
        ignoreIncomingRequest: ignoreIncoming,
        requestHeaders: headers.requestHeaders,
        responseHeaders: headers.responseHeaders,
        // Routers (express, koa, fastify) name the route; a bare node:http server gets a
        // heuristic, capped template so metrics stay low-cardinality (never for a 404, and
        // never on a server whose request listener is a router's: there an unrouted request
        // has no route). A bare server beside an express app keeps its templates.
        routeFallback: (path, _status, req) => (templater.routerInUse && servedByRouter(req) ? undefined : templater.template(path)),
      }),
      new HttpInstrumentation({
        disableIncomingRequestInstrumentation: true,
        // Our own calls (OTLP exports, the alert webhook) run with tracing suppressed; the
        // official instrumentation would still record them in http.client.request.duration.
        ignoreOutgoingRequestHook: suppressed,
        headersToSpanAttributes: { client: { requestHeaders: headers.requestHeaders, responseHeaders: headers.responseHeaders } },
      }),
    ];
  },
  undici: ({ config }) => {
    const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
    return new UndiciInstrumentation({
      ignoreRequestHook: suppressed,
      headersToSpanAttributes: { requestHeaders: config.http.requestHeaders, responseHeaders: config.http.responseHeaders },
    });
  },
  ws: ({ config, templater }) =>
    new WsInstrumentation({
      messageSpans: config.ws.messageSpans,
      messageSpansPerConnection: config.ws.messageSpansPerConnection,
      routeFallback: (path) => templater.template(path),
    }),
  'socket.io': () => {
    const { SocketIoInstrumentation } = require('@opentelemetry/instrumentation-socket.io');
    return new SocketIoInstrumentation();
  },
  // pg: the official instrumentation for query spans, our PgPoolInstrumentation for pool
  // metrics that stay correct with several pools (instrumentations/pg-pool).
  pg: ({ config, onPoolLimit }) => {
    const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg');
    return [
      // Upstream's spans without its metrics, which DbProcessor and PgPoolInstrumentation record (instrumentations/pg-lean).
      new (withoutPgMetrics(PgInstrumentation))({ requireParentSpan: false, ignoreConnectSpans: !config.db.connectSpans }),
      new PgPoolInstrumentation({ onPoolLimit }),
    ];
  },
  // Statements are summarized and sanitized by DbProcessor, the same way for every client.
  mysql2: () => {
    const { MySQL2Instrumentation } = require('@opentelemetry/instrumentation-mysql2');
    // Upstream's, with the server's error number as db.response.status_code (instrumentations/mysql2-errors).
    return new (withMysqlErrorCodes(MySQL2Instrumentation))({ maskStatement: false });
  },
  redis: () => {
    const { RedisInstrumentation } = require('@opentelemetry/instrumentation-redis');
    return new RedisInstrumentation({ dbStatementSerializer: redisStatement });
  },
  ioredis: () => {
    const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis');
    // Like node-redis: commands outside a request (jobs, start-up) are traced too.
    return new IORedisInstrumentation({ dbStatementSerializer: redisStatement, requireParentSpan: false });
  },
  express: router(() => {
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express');
    // Upstream's, with `next === req.next` and the original name/length kept (instrumentations/express-next).
    return new (withExpressNext(ExpressInstrumentation))();
  }),
  fastify: router(() => {
    const { FastifyOtelInstrumentation } = require('@fastify/otel');
    return new FastifyOtelInstrumentation({ registerOnInitialization: true });
  }),
  koa: router(() => {
    const { KoaInstrumentation } = require('@opentelemetry/instrumentation-koa');
    // Upstream's, with koa's own error for `app.use(<not a function>)` (instrumentations/koa-use).
    return new (withKoaUseValidation(KoaInstrumentation))();
  }),
  'runtime-node': () => {
    const { RuntimeNodeInstrumentation } = require('@opentelemetry/instrumentation-runtime-node');
    return new RuntimeNodeInstrumentation({ monitoringPrecision: 10 });
  },
} satisfies Record<InstrumentationName, Factory>;

/** Module names an instrumentation patches (for the ESM hook's include list and reports). */
export function moduleNames(instrumentation: Instrumentation): string[] {
  const defs = (instrumentation as unknown as { getModuleDefinitions?: () => { name: string }[] }).getModuleDefinitions?.() ?? [];
  return defs.map((d) => d.name);
}

export interface PatchedModule {
  name: string;
  version?: string;
}

/** Modules the instrumentation has actually patched so far. */
export function patchedModules(instrumentation: Instrumentation): PatchedModule[] {
  type Def = { name: string; moduleVersion?: string; moduleExports?: unknown; files?: { moduleExports?: unknown }[] };
  const modules = (instrumentation as unknown as { _modules?: Def[] })._modules ?? [];
  // Some instrumentations patch files of the package only (node-redis: @redis/client's).
  const patched = (m: Def) => m.moduleExports !== undefined || (m.files ?? []).some((f) => f.moduleExports !== undefined);
  return modules.filter(patched).map((m) => ({ name: m.name, version: m.moduleVersion }));
}
