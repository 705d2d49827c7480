import { SpanKind, SpanStatusCode, type Attributes, type Histogram, type Meter } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { DURATION_BUCKETS } from '../../instrumentations/shared/buckets.js';
import { sanitizeSql } from './sanitize.js';
import { summarizeSql } from './summary.js';

/** `db.system.name` values whose `db.query.text` is SQL, with the lexer dialect to use. */
const SQL_DIALECTS: Record<string, 'postgresql' | 'mysql' | 'other'> = {
  postgresql: 'postgresql',
  mysql: 'mysql',
  mariadb: 'mysql',
  sqlite: 'other',
  'microsoft.sql_server': 'other',
  oracle: 'other',
};

/** Attributes copied from the span to `db.client.operation.duration` (all low-cardinality). */
const METRIC_ATTRIBUTES = [
  'db.system.name',
  'db.namespace',
  'db.operation.name',
  'db.collection.name',
  'db.query.summary',
  'db.response.status_code',
  'server.address',
  'server.port',
  'error.type',
] as const;

export interface DbProcessorOptions {
  /** Replace literals in `db.query.text` (see {@link sanitizeSql}). @default true */
  sanitize?: boolean;
  /** Where `db.client.operation.duration` is recorded; none when undefined. */
  meter?: Meter;
}

/**
 * Makes every database CLIENT span, whichever instrumentation made it, safe and readable
 * before it ends (`onEnding`): `db.query.text` sanitized, `db.query.summary` /
 * `db.operation.name` / `db.collection.name` derived once, the span named by the summary
 * (`SELECT users`). At `onEnd` it records `db.client.operation.duration` with the summary
 * as the only statement-derived attribute, so raw text never reaches a metric.
 */
export class DbProcessor implements SpanProcessor {
  private readonly sanitize: boolean;
  private readonly duration: Histogram | undefined;

  constructor(options: DbProcessorOptions = {}) {
    this.sanitize = options.sanitize ?? true;
    this.duration = options.meter?.createHistogram('db.client.operation.duration', {
      unit: 's',
      description: 'Duration of database client operations.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  }

  onStart(): void {}

  onEnding(span: Span): void {
    if (span.kind !== SpanKind.CLIENT) return;
    const attrs = span.attributes;
    const system = attrs['db.system.name'] ?? attrs['db.system'];
    if (typeof system !== 'string') return;
    if (span.status.code === SpanStatusCode.ERROR) {
      if (attrs['error.type'] === undefined) span.setAttribute('error.type', errorTypeOf(span));
      // Server messages quote values: `Duplicate entry 'bob@x' …`, `… near 'WHERE pw = 's3cr3t'' …`.
      const message = span.status.message;
      if (this.sanitize && message) span.setStatus({ code: SpanStatusCode.ERROR, message: scrubQuoted(message) });
    }
    try {
      const text = attrs['db.query.text'] ?? attrs['db.statement'];
      const dialect = SQL_DIALECTS[system];
      if (dialect !== undefined && typeof text === 'string') {
        const s = summarizeSql(text, { dialect });
        span.setAttribute('db.query.summary', s.summary);
        if (s.operation !== undefined && attrs['db.operation.name'] === undefined) span.setAttribute('db.operation.name', s.operation);
        if (s.collection !== undefined && attrs['db.collection.name'] === undefined) span.setAttribute('db.collection.name', s.collection);
        span.updateName(s.summary);
        if (this.sanitize) {
          const key = attrs['db.query.text'] !== undefined ? 'db.query.text' : 'db.statement';
          span.setAttribute(key, sanitizeSql(text, { dialect }));
        }
      } else if (attrs['db.query.summary'] === undefined) {
        // Key-value stores (redis): the command is the summary, in upper case whichever
        // client sent it, so GET from node-redis and ioredis share one metric series.
        const op = attrs['db.operation.name'];
        if (typeof op === 'string' && op !== '') {
          const summary = op.toUpperCase();
          span.setAttribute('db.operation.name', summary);
          span.setAttribute('db.query.summary', summary);
          span.updateName(summary);
        }
      }
    } catch {
      // A span we cannot read must still end; its text is dropped rather than exported raw.
      if (this.sanitize) span.setAttribute('db.query.text', '?');
    }
  }

  onEnd(span: ReadableSpan): void {
    if (this.duration === undefined || span.kind !== SpanKind.CLIENT) return;
    const attrs = span.attributes;
    if (attrs['db.system.name'] === undefined) return;
    const metricAttributes: Attributes = {};
    for (const key of METRIC_ATTRIBUTES) {
      const v = attrs[key];
      if (v !== undefined) metricAttributes[key] = v;
    }
    const [s, ns] = span.duration;
    this.duration.record(s + ns / 1e9, metricAttributes);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * `error.type` for a failed query: the driver's code as recorded on the exception event
 * (`recordException` stores `err.code` — mysql2's `ER_…` — as `exception.type`; the pg
 * instrumentation puts the SQLSTATE in its exception message), else `_OTHER` as the
 * semantic conventions ask.
 */
function errorTypeOf(span: Span): string {
  for (let i = span.events.length - 1; i >= 0; i--) {
    const e = span.events[i];
    if (e.name !== 'exception') continue;
    const type = e.attributes?.['exception.type'];
    if (typeof type === 'string' && type !== '') return type;
    // instrumentation-pg records "PostgreSQL error of type 'error' occurred (code: 42P01)".
    const code = /\(code: ([0-9A-Z]{5})\)/.exec(String(e.attributes?.['exception.message'] ?? ''));
    if (code) return code[1];
  }
  return '_OTHER';
}

/**
 * Everything from the first to the last quote of each kind becomes `?`: nested and
 * unbalanced quotes (MySQL quotes the statement around the error) can never leave a value
 * outside.
 */
export function scrubQuoted(message: string): string {
  let out = message;
  for (const q of ["'", '"', '`']) {
    const first = out.indexOf(q);
    const last = out.lastIndexOf(q);
    if (first === -1) continue;
    out = last > first ? `${out.slice(0, first)}?${out.slice(last + 1)}` : `${out.slice(0, first)}?`;
  }
  return out;
}
