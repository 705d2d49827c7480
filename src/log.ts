import { DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import type { LogLevel } from './config/types.js';

const RANK: Record<LogLevel, number> = { none: 0, error: 1, warn: 2, info: 3, debug: 4, verbose: 5, all: 6 };

export const DIAG_LEVEL: Record<LogLevel, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** Distinct warning keys remembered for rate limiting; past this the oldest is forgotten. */
const MAX_KEYS = 256;

/**
 * healthspan's own stderr logger. Every line starts with `healthspan:`. Warnings and
 * errors are rate-limited per key: a failing collector produces one line per interval
 * (with the number of repeats held back), never one line per failure.
 */
export class Logger {
  private readonly lastByKey = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private level: LogLevel = 'info',
    private intervalMillis = 60_000,
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    private readonly now: () => number = Date.now,
  ) {}

  configure(level: LogLevel, intervalMillis: number): void {
    this.level = level;
    this.intervalMillis = intervalMillis;
  }

  enabled(level: LogLevel): boolean {
    return RANK[this.level] >= RANK[level];
  }

  info(msg: string): void {
    if (this.enabled('info')) this.emit(msg);
  }

  debug(msg: string): void {
    if (this.enabled('debug')) this.emit(msg);
  }

  /** Always-on warning (subject to the level) without rate limiting: for one-off startup facts. */
  warnOnce(msg: string): void {
    if (this.enabled('warn')) this.emit(`warning: ${msg}`);
  }

  /** Rate-limited per `key` (defaults to the message itself). */
  warn(msg: string, key: string = msg): void {
    if (this.enabled('warn')) this.limited('warning', msg, key);
  }

  error(msg: string, key: string = msg): void {
    if (this.enabled('error')) this.limited('error', msg, key);
  }

  private limited(kind: string, msg: string, key: string): void {
    const t = this.now();
    const seen = this.lastByKey.get(key);
    if (seen && t - seen.at < this.intervalMillis) {
      seen.suppressed++;
      return;
    }
    const repeats = seen?.suppressed ? ` (${seen.suppressed} more since the last report)` : '';
    if (!seen && this.lastByKey.size >= MAX_KEYS) {
      const oldest = this.lastByKey.keys().next().value;
      if (oldest !== undefined) this.lastByKey.delete(oldest);
    }
    this.lastByKey.set(key, { at: t, suppressed: 0 });
    this.emit(`${kind}: ${msg}${repeats}`);
  }

  private emit(msg: string): void {
    try {
      this.write(`healthspan: ${msg}`);
    } catch {
      // stderr closed: nothing sensible left to do, and the app must not notice.
    }
  }
}

export const logger = new Logger();

/**
 * Routes OpenTelemetry's internal diagnostics through {@link logger}, so their errors get
 * the same prefix and rate limit (the OTLP exporter otherwise logs every failed export).
 */
export function createDiagLogger(log: Logger): DiagLogger {
  const text = (message: string, args: unknown[]) =>
    [message, ...args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : safeJson(a)))].join(' ');
  // Key on the message without digits so "retrying in 123ms" variants share one budget.
  const key = (m: string) => m.replace(/\d+/g, '#').slice(0, 200);
  return {
    error: (m, ...a) => log.error(`[otel] ${text(m, a)}`, key(m)),
    warn: (m, ...a) => log.warn(`[otel] ${text(m, a)}`, key(m)),
    info: (m, ...a) => log.debug(`[otel] ${text(m, a)}`),
    debug: (m, ...a) => log.debug(`[otel] ${text(m, a)}`),
    verbose: (m, ...a) => log.debug(`[otel] ${text(m, a)}`),
  };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
