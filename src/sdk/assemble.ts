import { metrics, trace } from '@opentelemetry/api';
import type { LoggerProvider } from '@opentelemetry/sdk-logs';
import type { AdminHandler } from '../admin/handler.js';
import { startAdminServer, type AdminServer } from '../admin/server.js';
import type { SdkConfig } from '../config/types.js';
import { DropCounter } from '../exporters/dropped.js';
import { RouteTemplater } from '../http/route.js';
import { subscribeAlertLogs } from '../insight/alert-log.js';
import { SCOPE_NAME, VERSION } from '../semconv.js';
import { describeStartup, warnPreloaded } from '../startup-report.js';
import type { CheckedExtensions } from './extensions.js';
import { installGlobals } from './globals.js';
import { ignoreOwnRequests } from './ignore-incoming.js';
import { buildInsight } from './insight.js';
import { setUpInstrumentations } from './instrumentation-setup.js';
import { buildLoggerProvider } from './logs.js';
import { buildMeterProvider, registerOwnMetrics } from './metrics.js';
import { buildResource } from './resource.js';
import { RunningSdk, type RunningOptions } from './running-sdk.js';
import { buildFinishingProcessors, buildTracerProvider } from './tracing.js';

export interface AssembleOptions extends RunningOptions {
  /** How we were loaded, for the startup report. */
  via: 'import' | 'require' | 'code';
  extensions: CheckedExtensions['extensions'];
  /** The admin API for the server of its own (HEALTHSPAN_ADMIN_PORT), served at its root. */
  adminHandler: () => AdminHandler;
}

/**
 * The composition root: registers the globals, calls the builders in order and hands their
 * products to a {@link RunningSdk}. A disabled configuration builds nothing. May throw
 * half-way (the facade then takes the globals back and runs without telemetry).
 */
export function assemble(config: SdkConfig, o: AssembleOptions): RunningSdk {
  const { log } = o;
  if (config.disabled) {
    log.debug('OTEL_SDK_DISABLED=true: healthspan is a no-op');
    return new RunningSdk(config, {}, o);
  }
  installGlobals(config, log);
  const dropped = new DropCounter();
  const resource = buildResource(config);

  const { provider: meterProvider, prometheusHandler } = buildMeterProvider(config.metrics, resource, { dropped, log, added: o.extensions.metricReaders });
  if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);
  const meter = meterProvider?.getMeter(SCOPE_NAME, VERSION);
  const own = buildFinishingProcessors(config, meter);
  let loggerProvider: LoggerProvider | undefined;
  const insight = config.insight.enabled ? buildInsight(config.insight, meter, log) : undefined;
  if (insight) {
    own.push(insight);
    loggerProvider = buildLoggerProvider(config.logs, resource, { dropped, log });
    if (loggerProvider) subscribeAlertLogs(insight, loggerProvider.getLogger(SCOPE_NAME, VERSION));
  }
  const tracerProvider = buildTracerProvider(config, resource, { own, dropped, log, added: o.extensions.spanProcessors });
  trace.setGlobalTracerProvider(tracerProvider);

  const templater = new RouteTemplater(config.http.routeTemplateLimit, (limit) =>
    log.warnOnce(
      `more than ${limit} distinct route templates were derived from raw paths; further ones are reported as http.route="_other". ` +
        'Use a router (express, fastify, koa) or raise HEALTHSPAN_HTTP_ROUTE_LIMIT',
    ),
  );
  // runtime-node records metrics only: with no metrics exported it would be work for nothing.
  const names = meterProvider ? config.instrumentations : config.instrumentations.filter((n) => n !== 'runtime-node');
  const instrumentation = setUpInstrumentations({
    config,
    names,
    templater,
    ignoreIncoming: ignoreOwnRequests(config),
    tracerProvider,
    meterProvider: meterProvider ?? metrics.getMeterProvider(),
    log,
    added: o.extensions.extraInstrumentations,
  });
  warnPreloaded(instrumentation.instrumentations, log);
  if (meterProvider) registerOwnMetrics(meterProvider.getMeter(SCOPE_NAME, VERSION), dropped, templater);

  let adminServer: AdminServer | undefined;
  const a = config.admin;
  if (a.port !== undefined) {
    const { port, host } = a;
    adminServer = startAdminServer({
      port,
      host,
      handler: o.adminHandler(),
      onError: (err) =>
        log.warnOnce(`the admin server could not listen on ${host}:${port} (${err.message}); the admin API is not served (HEALTHSPAN_ADMIN_PORT)`),
      onListening: (url) =>
        log.info(`admin API and status page on ${url}/${a.token ? '' : ' (no HEALTHSPAN_ADMIN_TOKEN: reads from loopback only, changes refused)'}`),
    });
  }
  const added = o.extensions.extraInstrumentations.map((i) => i.instrumentationName);
  log.info(describeStartup(config, o.via, [...names, ...added]));
  instrumentation.patches.start();
  return new RunningSdk(
    config,
    {
      dropped,
      instrumentations: instrumentation.instrumentations,
      tracerProvider,
      meterProvider,
      loggerProvider,
      insight,
      prometheusHandler,
      adminServer,
      stopInstrumentations: instrumentation.stop,
    },
    o,
  );
}
