import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { SdkConfig } from './config/types.js';
import type { RouteTemplater } from './http/route.js';
import { HttpServerInstrumentation } from '../instrumentations/http-server/index.js';

// Instrumentation packages load only when enabled, so a disabled one costs nothing.
const load = createRequire(import.meta.url);

export interface InstrumentationContext {
  config: SdkConfig;
  templater: RouteTemplater;
  /** Incoming requests for which no span is made (our own endpoints). */
  ignoreIncoming: (req: IncomingMessage) => boolean;
}

type Factory = (ctx: InstrumentationContext) => Instrumentation | Instrumentation[];

/**
 * name → factory. The names are those of OTEL_NODE_ENABLED_INSTRUMENTATIONS /
 * OTEL_NODE_DISABLED_INSTRUMENTATIONS (upstream package name without its prefix).
 */
export const INSTRUMENTATIONS: Record<string, Factory> = {
  // Servers: our lean HttpServerInstrumentation (instrumentations/http-server); clients: the
  // official HttpInstrumentation with its server side turned off.
  http: ({ config, templater, ignoreIncoming }) => {
    const { HttpInstrumentation } = load('@opentelemetry/instrumentation-http');
    const headers = config.http;
    return [
      new HttpServerInstrumentation({
        ignoreIncomingRequest: ignoreIncoming,
        requestHeaders: headers.requestHeaders,
        responseHeaders: headers.responseHeaders,
        // Routers (express, koa, fastify) name the route; a bare node:http server gets a
        // heuristic, capped template so metrics stay low-cardinality.
        routeFallback: (path) => templater.template(path),
      }),
      new HttpInstrumentation({
        disableIncomingRequestInstrumentation: true,
        headersToSpanAttributes: { client: { requestHeaders: headers.requestHeaders, responseHeaders: headers.responseHeaders } },
      }),
    ];
  },
  undici: ({ config }) => {
    const { UndiciInstrumentation } = load('@opentelemetry/instrumentation-undici');
    return new UndiciInstrumentation({
      headersToSpanAttributes: { requestHeaders: config.http.requestHeaders, responseHeaders: config.http.responseHeaders },
    });
  },
  pg: () => {
    const { PgInstrumentation } = load('@opentelemetry/instrumentation-pg');
    // Connect spans double the spans of a pooled query for little insight; pool metrics cover waits.
    return new PgInstrumentation({ requireParentSpan: false, ignoreConnectSpans: true });
  },
  express: () => {
    const { ExpressInstrumentation } = load('@opentelemetry/instrumentation-express');
    return new ExpressInstrumentation();
  },
  fastify: () => {
    const { FastifyOtelInstrumentation } = load('@fastify/otel');
    return new FastifyOtelInstrumentation({ registerOnInitialization: true });
  },
  koa: () => {
    const { KoaInstrumentation } = load('@opentelemetry/instrumentation-koa');
    return new KoaInstrumentation();
  },
  'runtime-node': () => {
    const { RuntimeNodeInstrumentation } = load('@opentelemetry/instrumentation-runtime-node');
    return new RuntimeNodeInstrumentation({ monitoringPrecision: 10 });
  },
};

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
  const modules = (instrumentation as unknown as { _modules?: { name: string; moduleVersion?: string; moduleExports?: unknown }[] })._modules ?? [];
  return modules.filter((m) => m.moduleExports !== undefined).map((m) => ({ name: m.name, version: m.moduleVersion }));
}
