import { SpanKind, SpanStatusCode, type Attributes, type Histogram, type Meter } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { DB_DURATION_BUCKETS } from '../../instrumentations/shared/buckets.js';
import { isConnectionSetup, redisCommand } from './connection.js';
import { sanitizeSql } from './sanitize.js';
import { summarizeSql } from './summary.js';

/** `db.system.name` values whose `db.query.text` is SQL, with the lexer dialect to use. */
export const SQL_DIALECTS: Record<string, 'postgresql' | 'mysql' | 'other'> = {
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
  /** Bucket boundaries (s) of `db.client.operation.duration`. @default DB_DURATION_BUCKETS (the semantic conventions' advice) */
  buckets?: number[];
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
      advice: { explicitBucketBoundaries: options.buckets ?? DB_DURATION_BUCKETS },
    });
  }

  onStart(): void {}

  onEnding(span: Span): void {
    if (span.kind !== SpanKind.CLIENT) return;
    const attrs = span.attributes;
    const system = attrs['db.system.name'] ?? attrs['db.system'];
    if (typeof system !== 'string') return;
    if (span.status.code === SpanStatusCode.ERROR) {
      // The server's own code when it answered with an error (pg's SQLSTATE, MySQL's error
      // number, Redis' error prefix); error.type is that code, as the conventions ask.
      const code = attrs['db.response.status_code'] ?? responseCodeOf(system, span);
      if (code !== undefined) {
        span.setAttribute('db.response.status_code', code);
        span.setAttribute('error.type', code);
      } else if (attrs['error.type'] === undefined) {
        span.setAttribute('error.type', errorTypeOf(span));
      }
      // Server messages quote values: `Duplicate entry 'bob@x' …`, `… near 'WHERE pw = 's3cr3t'' …`.
      // The exception events say the same as the status: they are scrubbed alike.
      const message = span.status.message;
      if (this.sanitize && message) span.setStatus({ code: SpanStatusCode.ERROR, message: scrubQuoted(message) });
    }
    if (this.sanitize && span.events.length > 0) scrubExceptionEvents(span);
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
      } else if (system === 'redis') {
        nameRedisCommand(span);
      } else if (attrs['db.query.summary'] === undefined) {
        // Other key-value stores: the operation is the summary, in upper case.
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
    // Connecting is not a query: a slow handshake must not look like a slow statement.
    if (isConnectionSetup(span.name, attrs)) return;
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
    // instrumentation-pg records "PostgreSQL error of type 'error' occurred (code: 42P01)", and
    // the driver's own code for a broken connection: "(code: ECONNRESET)".
    const code = /\(code: ([0-9A-Z]{5}|E[A-Z]+)\)/.exec(String(e.attributes?.['exception.message'] ?? ''));
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
  // PostgreSQL's details quote nothing: `Key (email)=(alice@example.com) already exists.`
  let out = message.replace(/\)=\(.*\)/g, ')=(?)');
  for (const q of ["'", '"', '`']) {
    const first = out.indexOf(q);
    const last = out.lastIndexOf(q);
    if (first === -1) continue;
    out = last > first ? `${out.slice(0, first)}?${out.slice(last + 1)}` : `${out.slice(0, first)}?`;
  }
  return out;
}

/**
 * Redis, one rule for node-redis and ioredis: a span per command sent, named by that command
 * (`db.operation.name` = `db.query.summary` = the first word of `db.query.text`, upper
 * case). A command sent inside a transaction or a pipeline keeps its own name and says so in
 * `healthspan.redis.batch` (`MULTI` or `PIPELINE`): the clients name such spans `MULTI`,
 * `PIPELINE SET`, `MULTI SET`, which would split one command over several series.
 */
function nameRedisCommand(span: Span): void {
  const attrs = span.attributes;
  const op = typeof attrs['db.operation.name'] === 'string' ? (attrs['db.operation.name'] as string).toUpperCase() : '';
  // A connect span (`redis-connect`, ioredis' `connect`) is no command: it keeps its name.
  if (op === '' && isConnectionSetup(span.name, attrs)) return;
  const command = redisCommand(op || span.name, attrs);
  if (command === '') return;
  const prefix = op.startsWith('MULTI') ? 'MULTI' : op.startsWith('PIPELINE') ? 'PIPELINE' : undefined;
  // ioredis' own MULTI command span is the command, not a member of the batch.
  if (prefix !== undefined && command !== prefix) span.setAttribute('healthspan.redis.batch', prefix);
  span.setAttribute('db.operation.name', command);
  span.setAttribute('db.query.summary', command);
  span.updateName(command);
}

/**
 * `db.response.status_code` when the server answered with an error: pg's SQLSTATE (which
 * instrumentation-pg writes into its exception message, `(code: 23505)`), Redis' error
 * prefix (`ERR`, `WRONGTYPE`: the first word of the reply, upper case). mysql2's error number
 * is set by our wrapper of its instrumentation (instrumentations/mysql2-errors), which reads
 * it from the error object the driver hands to the callback.
 */
function responseCodeOf(system: string, span: Span): string | undefined {
  for (let i = span.events.length - 1; i >= 0; i--) {
    const e = span.events[i];
    if (e.name !== 'exception') continue;
    const message = String(e.attributes?.['exception.message'] ?? '');
    if (system === 'postgresql') {
      const code = /\(code: ([0-9A-Z]{5})\)/.exec(message);
      if (code) return code[1];
    } else if (system === 'redis') {
      // A reply error starts with its prefix in capitals (`ERR …`, `WRONGTYPE …`); a socket
      // error does not (`connect ECONNREFUSED …`, `Socket closed unexpectedly`).
      const prefix = /^([A-Z][A-Z_]+) /.exec(message);
      if (prefix) return prefix[1];
    }
    return undefined;
  }
  return undefined;
}

/** `exception.message` and the first line of `exception.stacktrace` (which repeats the message) scrubbed like the status message. */
function scrubExceptionEvents(span: Span): void {
  for (const e of span.events) {
    const a = e.attributes;
    if (e.name !== 'exception' || !a) continue;
    const message = a['exception.message'];
    const clean = typeof message === 'string' ? scrubQuoted(message) : undefined;
    if (clean !== undefined) a['exception.message'] = clean;
    const raw = a['exception.stacktrace'];
    if (typeof raw !== 'string') continue;
    let stack = raw;
    // The stack opens with `<name>: <message>`; a message can span lines (MySQL quotes the statement).
    const at = typeof message === 'string' && message !== '' ? stack.indexOf(message) : -1;
    if (at >= 0) stack = stack.slice(0, at) + clean + stack.slice(at + (message as string).length);
    const nl = stack.indexOf('\n');
    a['exception.stacktrace'] = nl < 0 ? scrubQuoted(stack) : scrubQuoted(stack.slice(0, nl)) + stack.slice(nl);
  }
}
