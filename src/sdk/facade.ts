import { ConfigError, resolveConfig } from '../config/env.js';
import { formatProblem } from '../config/parse.js';
import { checkThresholds } from '../config/thresholds.js';
import type { Alert, Transition } from '../insight/alerts.js';
import type { RequestHandler } from '../exporters/prometheus.js';
import { logger } from '../log.js';
import { buildAdminHandler, type AdminHandler, type AdminHandlerOptions } from '../admin/handler.js';
import type { InsightBounds } from '../insight/collectors.js';
import type { QueryStats, RouteStats } from '../insight/figures.js';
import type { InsightHealth, InsightThresholds } from '../insight/processor.js';
import { unsupportedNodeWarning } from '../node-support.js';
import { assemble } from './assemble.js';
import { checkExtensions } from './extensions.js';
import { disableGlobals } from './globals.js';
import type { RunningSdk } from './running-sdk.js';
import type { Healthspan, StartContext, StartOptions } from './types.js';

// The public face of the SDK: the one running instance, and the functions that read it.
// Assembly is in assemble.ts, the instance in running-sdk.ts; neither imports this file.
let running: RunningSdk | undefined;

/** The running instance tells us it has shut down: a later start() builds a new one. */
const forget = (sdk: RunningSdk) => {
  if (running === sdk) running = undefined;
};

/**
 * Starts telemetry: traces, metrics, instrumentations. Options override env settings.
 * A second call warns and returns the running instance unchanged.
 * @throws ConfigError only when `strict` (HEALTHSPAN_STRICT=true) and the configuration has problems.
 */
export function start(options: StartOptions = {}, ctx: StartContext = {}): Healthspan {
  if (running) {
    logger.warnOnce('start() was called again; returning the running instance (its configuration is unchanged)');
    return running;
  }
  const resolved = resolveConfig(options, ctx.env ?? process.env);
  const { config } = resolved;
  const { extensions, problems: extensionProblems } = checkExtensions(options ?? {});
  const problems = [...resolved.problems, ...extensionProblems];
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
  const via = ctx.via ?? 'code';
  const assembly = { via, extensions, log: logger, onShutdown: forget, adminHandler: () => createAdminHandler({ prefix: '' }) };
  try {
    running = assemble(config, assembly);
  } catch (err) {
    // A fault of ours (or of the environment) while assembling the SDK: the app runs on without
    // telemetry rather than not at all. Whatever was registered globally is taken back.
    logger.error(`healthspan could not start (${(err as Error)?.message ?? String(err)}); the app runs without telemetry`);
    disableGlobals();
    running = assemble({ ...config, disabled: true }, assembly);
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
 * Changes alert thresholds at once. Throws a TypeError naming the field, the bad value and the
 * allowed range (the rules of config/thresholds.ts, as for the env vars); nothing is applied then.
 */
export function setThresholds(changes: Partial<InsightThresholds>): InsightThresholds | undefined {
  const insight = running?.insight;
  if (!insight) return undefined;
  const checked = checkThresholds(changes);
  if (checked.problem !== undefined) throw new TypeError(`setThresholds: ${checked.problem}`);
  insight.setThresholds(checked.thresholds);
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
