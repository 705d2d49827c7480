import type { IncomingMessage } from 'node:http';
import { context, diag, metrics, propagation, trace, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator, setGlobalErrorHandler } from '@opentelemetry/core';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import {
  defaultResource,
  detectResources,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';
import { ConsoleLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AggregationType,
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  createAlwaysRecordSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ConfigError, resolveConfig } from './config/env.js';
import { formatProblem } from './config/parse.js';
import type { HealthspanOptions, SdkConfig } from './config/types.js';
import type { Alert, Transition } from './insight/alerts.js';
import { DropCounter } from './exporters/dropped.js';
import { ExportLogRecordProcessor } from './exporters/log-processor.js';
import { CountingMetricExporter, createOtlpLogExporter, createOtlpMetricExporter, createOtlpTraceExporter } from './exporters/otlp.js';
import { createPrometheusReader, handlerFor, prometheusUrl, type RequestHandler } from './exporters/prometheus.js';
import { ExportSpanProcessor } from './exporters/span-processor.js';
import { createQueryRedactor } from './http/redact.js';
import { RouteTemplater } from './http/route.js';
import { INSTRUMENTATIONS } from './instrumentations.js';
import { hookedModules, InstrumentationLoader } from './instrumentation-loader.js';
import { createDiagLogger, DIAG_LEVEL, logger } from './log.js';
import { RedactProcessor } from './processors/redact-processor.js';
import { FINE_DURATION_BUCKETS, HTTP_DURATION_BUCKETS } from '../instrumentations/shared/buckets.js';
import { ConnectionSetupSampler } from './db/connection.js';
import { containerDetector } from './resource/container.js';
import { DbProcessor } from './db/processor.js';
import { buildAdminHandler, type AdminHandler, type AdminHandlerOptions } from './admin/handler.js';
import { isAdminPath } from './admin/registry.js';
import { startAdminServer, type AdminServer } from './admin/server.js';
import type { InsightBounds } from './insight/collectors.js';
import type { QueryStats, RouteStats } from './insight/figures.js';
import { InsightProcessor, type InsightHealth, type InsightThresholds } from './insight/processor.js';
import { WebhookNotifier } from './insight/webhook.js';
import { subscribeAlertLogs } from './insight/alert-log.js';
import { METRIC_EXPORTER_DROPPED, METRIC_HTTP_ROUTES_FOLDED, SCOPE_NAME, VERSION } from './semconv.js';
import { installExitHandlers } from './shutdown.js';
import { unsupportedNodeWarning } from './node-support.js';
import { describeStartup, PatchReport, warnPreloaded } from './startup-report.js';

export interface Healthspan {
  /** The effective configuration. */
  readonly config: SdkConfig;
  /** False when OTEL_SDK_DISABLED (or `disabled: true`) made this a no-op. */
  readonly enabled: boolean;
  /** Spans, data points and log records that never left the process, by signal and reason. */
  readonly dropped: DropCounter;
  /** Enabled instrumentations, by short name (`http` is two: our server side, upstream's client side). */
  readonly instrumentations: ReadonlyMap<string, Instrumentation[]>;
  /** Exports what is buffered, within `shutdownTimeoutMillis`; never rejects. */
  forceFlush(): Promise<void>;
  /** Flushes and stops everything, within `shutdownTimeoutMillis`; never rejects; safe to call twice. */
  shutdown(): Promise<void>;
}

export interface StartContext {
  /** How we were loaded, for the startup report. */
  via?: 'import' | 'require' | 'code';
  env?: Record<string, string | undefined>;
}

let running: RunningSdk | undefined;

/**
 * Starts telemetry: traces, metrics, instrumentations. Options override env settings.
 * A second call warns and returns the running instance unchanged.
 * @throws ConfigError only when `strict` (HEALTHSPAN_STRICT=true) and the configuration has problems.
 */
export function start(options: HealthspanOptions = {}, ctx: StartContext = {}): Healthspan {
  if (running) {
    logger.warnOnce('start() was called again; returning the running instance (its configuration is unchanged)');
    return running;
  }
  const { config, problems } = resolveConfig(options, ctx.env ?? process.env);
  logger.configure(config.logLevel, config.warnIntervalMillis);
  const oldNode = config.disabled ? undefined : unsupportedNodeWarning();
  if (oldNode) logger.warnOnce(oldNode);
  if (problems.length > 0 && config.strict) {
    const err = new ConfigError(problems);
    // Under the preload the app must not run, and a stack trace would bury the list.
    if (ctx.via === 'import' || ctx.via === 'require') {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  for (const p of problems) logger.warnOnce(formatProblem(p));
  try {
    running = new RunningSdk(config, ctx.via ?? 'code');
  } catch (err) {
    // A fault of ours (or of the environment) while assembling the SDK: the app runs on without
    // telemetry rather than not at all. Whatever was registered globally is taken back.
    logger.error(`healthspan could not start (${(err as Error)?.message ?? String(err)}); the app runs without telemetry`);
    for (const api of [trace, metrics, propagation, context]) {
      try {
        api.disable();
      } catch {
        // nothing registered yet
      }
    }
    running = new RunningSdk({ ...config, disabled: true }, ctx.via ?? 'code');
  }
  return running;
}

/** Stops the running instance, if any (see {@link Healthspan.shutdown}). */
export async function shutdown(): Promise<void> {
  await running?.shutdown();
}

/** The health report (0–100 score, components, trend, recommendations), or undefined when insight is off. */
export function getHealth(): InsightHealth | undefined {
  return running?.insight?.read.health();
}

/**
 * The performance API and status page as a `(req, res, next?)` handler to mount on the app's
 * own server: node:http (`if (admin.matches(req)) return admin(req, res)`), express
 * (`app.use('/_healthspan', admin)`), fastify (see docs/admin.md). Reads the running
 * instance's state at each request, so it may be created before `start()`.
 */
export function createAdminHandler(options: AdminHandlerOptions = {}): AdminHandler {
  return buildAdminHandler(
    {
      insight: () => running?.insight?.read,
      service: () => running?.config.serviceName ?? 'unknown_service:node',
      token: () => running?.config.admin.token,
      setThresholds,
      resolveAlert: (id) => running?.insight?.resolveAlert(id),
    },
    options,
  );
}

/** Every route in the window: counts, latency quantiles, error rate and where its time goes. */
export function getRoutes(): RouteStats[] {
  return running?.insight?.read.routes() ?? [];
}

/** Every statement in the window: counts, latency quantiles and error rate. */
export function getQueries(): QueryStats[] {
  return running?.insight?.read.queries() ?? [];
}

/** How full insight's bounded maps are and what they folded or forgot; undefined when insight is off. */
export function getInsightStats(): InsightBounds | undefined {
  return running?.insight?.read.bounds();
}

/** Firing alerts, or resolved ones (newest first). */
export function getAlerts(options: { state?: 'firing' | 'resolved' } = {}): Alert[] {
  return running?.insight?.read.alerts(options.state) ?? [];
}

/** Calls `listener` on every alert transition; returns a function that stops it. */
export function onAlert(listener: (alert: Alert, transition: Transition) => void): () => void {
  return running?.insight?.onAlert(listener) ?? (() => {});
}

/**
 * Changes alert thresholds at once. Throws a TypeError naming the field for a value that is
 * not a positive number (or, for errorRate, a share from 0 to 1).
 */
export function setThresholds(changes: Partial<InsightThresholds>): InsightThresholds | undefined {
  const insight = running?.insight;
  if (!insight) return undefined;
  const positive = (field: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 3_600_000) throw new TypeError(`setThresholds: ${field} must be a number of milliseconds from 0 to 3600000 (got ${JSON.stringify(v)})`);
  };
  for (const f of ['requestMs', 'queryMs', 'eventLoopP99Ms'] as const) if (changes[f] !== undefined) positive(f, changes[f]);
  for (const [route, v] of Object.entries(changes.routes ?? {})) positive(`routes[${JSON.stringify(route)}]`, v);
  for (const f of ['errorRate', 'heapRatio', 'rssRatio'] as const) {
    const v = changes[f];
    if (v !== undefined && (typeof v !== 'number' || !(v > 0 && v <= 1))) throw new TypeError(`setThresholds: ${f} must be a share from 0 to 1 (got ${JSON.stringify(v)})`);
  }
  if (changes.errorMinSamples !== undefined && (!Number.isInteger(changes.errorMinSamples) || changes.errorMinSamples < 1)) {
    throw new TypeError(`setThresholds: errorMinSamples must be a positive integer (got ${JSON.stringify(changes.errorMinSamples)})`);
  }
  insight.setThresholds(changes);
  return { ...insight.thresholds };
}

/** The running instance, if `start()` was called. */
export function getSdk(): Healthspan | undefined {
  return running;
}

/**
 * A `(req, res)` handler that serves the Prometheus exposition text, to mount on the app's
 * own server (set HEALTHSPAN_PROMETHEUS_SERVE=false to skip our listener). Answers 503
 * until healthspan runs with the `prometheus` metrics exporter.
 */
export function createPrometheusHandler(): RequestHandler {
  return (req, res) => {
    const handler = running?.prometheusHandler;
    if (handler) return handler(req, res);
    res.statusCode = 503;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('healthspan is not running with OTEL_METRICS_EXPORTER=prometheus\n');
  };
}

class RunningSdk implements Healthspan {
  readonly enabled: boolean;
  readonly dropped = new DropCounter();
  readonly instrumentations = new Map<string, Instrumentation[]>();
  prometheusHandler: RequestHandler | undefined;
  insight: InsightProcessor | undefined;
  private tracerProvider: TracerProvider | undefined;
  private meterProvider: MeterProvider | undefined;
  /** Alert log records only; never the global LoggerProvider (other libraries' logs are not ours to capture). */
  private loggerProvider: LoggerProvider | undefined;
  private disableInstrumentations: (() => void) | undefined;
  private loader: InstrumentationLoader | undefined;
  private removeExitHandlers: (() => void) | undefined;
  private shutdownPromise: Promise<void> | undefined;

  constructor(
    readonly config: SdkConfig,
    via: 'import' | 'require' | 'code',
  ) {
    this.enabled = !config.disabled;
    if (!this.enabled) {
      logger.debug('OTEL_SDK_DISABLED=true: healthspan is a no-op');
      return;
    }
    diag.setLogger(createDiagLogger(logger), { logLevel: DIAG_LEVEL[config.logLevel], suppressOverrideMessage: true });
    setGlobalErrorHandler((err) => logger.error(`[otel] ${err instanceof Error ? err.message : String(err)}`, 'otel-global-error'));

    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const propagators: TextMapPropagator[] = [];
    if (config.propagators.includes('tracecontext')) propagators.push(new W3CTraceContextPropagator());
    if (config.propagators.includes('baggage')) propagators.push(new W3CBaggagePropagator());
    propagation.setGlobalPropagator(new CompositePropagator({ propagators }));

    const resource = buildResource(config);
    const ignoredPorts = new Set<number>();
    this.meterProvider = this.buildMeterProvider(resource, ignoredPorts);
    this.tracerProvider = this.buildTracerProvider(resource);
    if (this.tracerProvider) trace.setGlobalTracerProvider(this.tracerProvider);

    const templater = new RouteTemplater(config.http.routeTemplateLimit, (limit) =>
      logger.warnOnce(
        `more than ${limit} distinct route templates were derived from raw paths; further ones are reported as http.route="_other". ` +
          'Use a router (express, fastify, koa) or raise HEALTHSPAN_HTTP_ROUTE_LIMIT',
      ),
    );
    const onPoolLimit = (limit: number) =>
      logger.warnOnce(`more than ${limit} pg pools are alive at once; the pool metrics observe the first ${limit} only`);
    const promPath = config.metrics.prometheus.path;
    const adminPorts = this.adminPorts;
    // Our own endpoints make no span and no metric: the Prometheus scrape, the admin API
    // (mounted under a registered prefix, or on its own server).
    const ignoreIncoming = (req: IncomingMessage) => {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      if (isAdminPath(path)) return true;
      if (ignoredPorts.size === 0 && adminPorts.size === 0) return false;
      const port = req.socket?.localPort ?? -1;
      return adminPorts.has(port) || (ignoredPorts.has(port) && path === promPath);
    };
    const tracerProvider = this.tracerProvider ?? trace.getTracerProvider();
    const meterProvider = this.meterProvider ?? metrics.getMeterProvider();
    const disablers: (() => void)[] = [];
    this.disableInstrumentations = () => {
      this.loader?.stop();
      for (const disable of disablers) disable();
    };
    // Each instrumentation is created when the app first loads a module it patches (see
    // InstrumentationLoader); http, undici and runtime-node at once.
    const patches = new PatchReport(logger);
    this.loader = new InstrumentationLoader({
      names: config.instrumentations,
      create: (name) => {
        let made: Instrumentation[];
        try {
          const m = INSTRUMENTATIONS[name]({ config, templater, ignoreIncoming, onPoolLimit });
          made = Array.isArray(m) ? m : [m];
        } catch (err) {
          logger.warnOnce(`instrumentation ${name} could not be loaded (${(err as Error).message}); it is skipped`);
          return;
        }
        this.instrumentations.set(name, made);
        patches.watch(name, made);
        disablers.push(registerInstrumentations({ instrumentations: made, tracerProvider, meterProvider }));
      },
    });
    this.loader.start();
    warnPreloaded(this.instrumentations, logger);
    this.registerOwnMetrics(templater);

    if (config.admin.port !== undefined) this.startAdminServer(config.admin.port, config.admin.host);
    logger.info(describeStartup(config, via, config.instrumentations));
    patches.start();
    this.removeExitHandlers = installExitHandlers(this, logger, { exitFlushTimeoutMillis: config.exitFlushTimeoutMillis });
  }

  /** Ports of our own admin server: every request on them is ours. */
  readonly adminPorts = new Set<number>();
  private adminServer: AdminServer | undefined;

  private startAdminServer(port: number, host: string): void {
    this.adminPorts.add(port);
    this.adminServer = startAdminServer({
      port,
      host,
      handler: createAdminHandler({ prefix: '' }),
      onError: (err) => logger.warnOnce(`the admin server could not listen on ${host}:${port} (${err.message}); the admin API is not served (HEALTHSPAN_ADMIN_PORT)`),
      onListening: (url) => logger.info(`admin API and status page on ${url}/${this.config.admin.token ? '' : ' (no HEALTHSPAN_ADMIN_TOKEN: reads from loopback only, changes refused)'}`),
    });
  }

  /** Module names to hook in the ESM loader. */
  hookedModules(): string[] {
    return hookedModules(this.config.instrumentations);
  }

  async forceFlush(timeoutMillis = this.config.shutdownTimeoutMillis): Promise<void> {
    if (!this.enabled) return;
    await withTimeout(
      // The providers' own flush timers are ref'd: they get the same bound.
      Promise.allSettled([this.tracerProvider?.forceFlush({ timeoutMillis }), this.meterProvider?.forceFlush({ timeoutMillis }), this.loggerProvider?.forceFlush({ timeoutMillis })]),
      timeoutMillis,
    );
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      if (!this.enabled) {
        running = undefined;
        return;
      }
      this.removeExitHandlers?.();
      this.adminServer?.close();
      const done = await withTimeout(
        Promise.allSettled([this.tracerProvider?.shutdown(), this.meterProvider?.shutdown(), this.loggerProvider?.shutdown()]),
        this.config.shutdownTimeoutMillis,
      );
      if (done === 'timeout') logger.warnOnce(`shutdown did not finish within ${this.config.shutdownTimeoutMillis} ms (HEALTHSPAN_SHUTDOWN_TIMEOUT); unsent telemetry is lost`);
      this.disableInstrumentations?.();
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
      if (running === this) running = undefined;
    })();
    return this.shutdownPromise;
  }

  private buildTracerProvider(resource: Resource): TracerProvider | undefined {
    const c = this.config.traces;
    const meter = this.meterProvider?.getMeter(SCOPE_NAME, VERSION);
    const processors: SpanProcessor[] = [
      new DbProcessor({ sanitize: this.config.db.sanitize, meter }),
      new RedactProcessor(createQueryRedactor(this.config.http.redactQueryParams)),
    ];
    const i = this.config.insight;
    if (i.enabled) {
      // After DbProcessor: it reads the summaries DbProcessor sets at onEnding.
      this.insight = new InsightProcessor({
        thresholds: { requestMs: i.slowRequestMs, queryMs: i.slowQueryMs, errorRate: i.errorRate },
        evaluateIntervalMs: i.intervalMs,
        warmupMs: i.warmupMs,
        memoryLimitBytes: i.memoryLimitMb !== undefined ? i.memoryLimitMb * 2 ** 20 : undefined,
        health: { weights: i.healthWeights, requestThresholdMs: i.apdexMs },
        meter,
        warn: (line) => logger.warn(line, line),
      });
      processors.push(this.insight);
      if (i.webhookUrl) {
        const hook = new WebhookNotifier({
          url: i.webhookUrl,
          onDrop: (reason) => logger.warn(`an alert notification to the webhook was given up (${reason}); see docs/alerts.md`, 'alert-webhook'),
        });
        this.insight.onAlert((alert, transition) => hook.notify(alert, transition));
      }
      this.loggerProvider = this.buildLoggerProvider(resource);
      if (this.loggerProvider) subscribeAlertLogs(this.insight, this.loggerProvider.getLogger(SCOPE_NAME, VERSION));
    }
    const exporter = c.exporter === 'otlp' ? optionalExporter('trace', () => createOtlpTraceExporter(c.otlp)) : undefined;
    if (exporter) {
      processors.push(
        new ExportSpanProcessor({
          ...c.batch,
          exporter,
          dropped: this.dropped,
          log: logger,
          destination: c.otlp.endpoint,
        }),
      );
    } else if (c.exporter === 'console') {
      processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
    }
    // Spans the sampler drops are still recorded (not exported): metrics derived from spans,
    // such as db.client.operation.duration, must not depend on the sampling rate.
    // Connection set-up with no parent (a client connecting at start-up) is not a trace of its own.
    const sampler = createAlwaysRecordSampler(new ConnectionSetupSampler(buildSampler(c.sampler, c.samplerArg), this.config.db.connectSpans));
    return new TracerProvider({ resource, sampler, spanProcessors: processors });
  }

  /**
   * The LoggerProvider of the alert log records, or undefined with OTEL_LOGS_EXPORTER=none.
   * Held privately: setting it as the global one would let other libraries' log bridges
   * send the app's logs through it, which healthspan does not offer to do.
   */
  private buildLoggerProvider(resource: Resource): LoggerProvider | undefined {
    const c = this.config.logs;
    let processor: LogRecordProcessor;
    if (c.exporter === 'otlp') {
      // Alert log records are an extra channel: without them, traces and metrics still run.
      const exporter = optionalExporter('log', () => createOtlpLogExporter(c.otlp), 'alert log records are off');
      if (!exporter) return undefined;
      processor = new ExportLogRecordProcessor({ ...c.batch, exporter, dropped: this.dropped, log: logger, destination: c.otlp.endpoint });
    } else if (c.exporter === 'console') {
      processor = new SimpleLogRecordProcessor({ exporter: new ConsoleLogRecordExporter() });
    } else {
      return undefined;
    }
    return new LoggerProvider({ resource, processors: [processor] });
  }

  private buildMeterProvider(resource: Resource, ignoredPorts: Set<number>): MeterProvider | undefined {
    const c = this.config.metrics;
    const readers: IMetricReader[] = [];
    for (const name of c.exporters) {
      if (name === 'prometheus') {
        const reader = createPrometheusReader(c.prometheus, logger);
        this.prometheusHandler = handlerFor(reader);
        if (c.prometheus.serve) ignoredPorts.add(c.prometheus.port);
        readers.push(reader);
      } else if (name === 'otlp' || name === 'console') {
        const otlp = name === 'otlp' ? optionalExporter('metric', () => createOtlpMetricExporter(c.otlp)) : undefined;
        if (name === 'otlp' && !otlp) continue;
        // Our deadline ends a hanging export before the reader's timeout (the interval), so one
        // failure is reported once: by us, with its count, not again as "export timed out".
        const deadline = Math.min(c.exportTimeoutMillis, Math.floor(c.exportIntervalMillis * 0.9));
        const exporter = otlp ? new CountingMetricExporter(otlp, this.dropped, logger, c.otlp.endpoint, deadline) : new ConsoleMetricExporter();
        readers.push(
          new PeriodicExportingMetricReader({
            exporter,
            exportIntervalMillis: c.exportIntervalMillis,
            exportTimeoutMillis: otlp ? c.exportIntervalMillis : Math.min(c.exportTimeoutMillis, c.exportIntervalMillis),
          }),
        );
      }
    }
    if (readers.length === 0) return undefined;
    const provider = new MeterProvider({ resource, readers, views: buildViews(this.config.metrics.durationBuckets) });
    metrics.setGlobalMeterProvider(provider);
    return provider;
  }

  private registerOwnMetrics(templater: RouteTemplater): void {
    if (!this.meterProvider) return;
    const meter = this.meterProvider.getMeter(SCOPE_NAME, VERSION);
    meter
      .createObservableCounter(METRIC_EXPORTER_DROPPED, {
        unit: '{item}',
        description: 'Spans, metric data points and log records that were dropped before reaching the exporter, by signal and reason.',
      })
      .addCallback((result) => {
        for (const e of this.dropped.entries()) result.observe(e.value, { signal: e.signal, reason: e.reason });
      });
    meter
      .createObservableCounter(METRIC_HTTP_ROUTES_FOLDED, {
        unit: '{request}',
        description: 'Requests whose derived route template was reported as _other because the template limit was reached.',
      })
      .addCallback((result) => result.observe(templater.folded));
  }
}

/**
 * Our own histograms carry the semantic conventions' advisory buckets; these views cover what
 * the official instrumentations record, and with `fine` (HEALTHSPAN_METRICS_DURATION_BUCKETS)
 * give every semantic-convention duration histogram healthspan's finer buckets. One view per
 * instrument name, so that no instrument is matched twice (which would export it twice).
 */
function buildViews(buckets: SdkConfig['metrics']['durationBuckets']): ViewOptions[] {
  const fine = buckets === 'fine';
  const histogram = (boundaries: number[]) => ({ type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM as const, options: { boundaries } });
  return [
    // DbProcessor records db.client.operation.duration for every client, with db.query.summary;
    // PgPoolInstrumentation the pool metrics. The official instrumentations' own copies go.
    ...['@opentelemetry/instrumentation-pg', '@opentelemetry/instrumentation-mysql2', '@opentelemetry/instrumentation-redis', '@opentelemetry/instrumentation-ioredis'].map(
      (meterName) => ({ meterName, instrumentName: 'db.client.*', aggregation: { type: AggregationType.DROP as const } }),
    ),
    {
      // http and undici both record this metric, with different descriptions; one
      // description avoids a conflict warning on every start.
      instrumentName: 'http.client.request.duration',
      description: 'Duration of HTTP client requests.',
      aggregation: histogram(fine ? FINE_DURATION_BUCKETS : HTTP_DURATION_BUCKETS),
    },
    ...(fine
      ? [
          { meterName: 'healthspan-http-server', instrumentName: 'http.server.request.duration', aggregation: histogram(FINE_DURATION_BUCKETS) },
          { meterName: SCOPE_NAME, instrumentName: 'db.client.operation.duration', aggregation: histogram(FINE_DURATION_BUCKETS) },
          { meterName: 'healthspan-pg-pool', instrumentName: 'db.client.connection.wait_time', aggregation: histogram(FINE_DURATION_BUCKETS) },
        ]
      : []),
  ];
}

function buildResource(config: SdkConfig): Resource {
  const detectors: ResourceDetector[] = [];
  for (const name of config.resourceDetectors) {
    if (name === 'host') detectors.push(hostDetector);
    else if (name === 'os') detectors.push(osDetector);
    else if (name === 'process') detectors.push(processDetector);
    else if (name === 'serviceinstance') detectors.push(serviceInstanceIdDetector);
    else if (name === 'container') detectors.push(containerDetector);
    // 'env': OTEL_RESOURCE_ATTRIBUTES is already parsed into config.resourceAttributes.
  }
  const resource = defaultResource()
    .merge(detectors.length > 0 ? detectResources({ detectors }) : null)
    .merge(
      resourceFromAttributes({
        ...config.resourceAttributes,
        'service.name': config.serviceName,
        'telemetry.distro.name': 'healthspan',
        'telemetry.distro.version': VERSION,
      }),
    );
  // Asynchronous detector results (host.id) are merged only once someone waits for them;
  // start that now so a scrape a few milliseconds after start-up sees a settled resource.
  resource.waitForAsyncAttributes?.().catch(() => {});
  return resource;
}

/** An OTLP exporter, or undefined (said once) when its package cannot be loaded: the app runs on without that signal. */
function optionalExporter<T>(signal: string, create: () => T, consequence = `${signal}s are not exported`): T | undefined {
  try {
    return create();
  } catch (err) {
    logger.warnOnce(`the OTLP ${signal} exporter could not be loaded: ${(err as Error).message}; ${consequence}`);
    return undefined;
  }
}

function buildSampler(name: SdkConfig['traces']['sampler'], ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * Its timer is ref'd on purpose: a flush or shutdown in progress keeps the process alive
 * until it ends or `ms` passed (the exporters' sockets and retry timers never do).
 */
function withTimeout(p: Promise<unknown>, ms: number): Promise<void | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([p.then(() => undefined, () => undefined), timeout]).finally(() => clearTimeout(timer));
}

export { prometheusUrl };
