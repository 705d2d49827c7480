import { SpanKind, trace, type Attributes, type Context, type Link } from '@opentelemetry/api';
import { SamplingDecision, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace';

/** Span names the database instrumentations give to opening a connection. */
const CONNECT_SPANS = new Set(['redis-connect', 'pg.connect', 'pg-pool.connect']);

/**
 * Redis commands that set a connection up or manage it, never the app's data: what node-redis
 * and ioredis send while connecting (HELLO, AUTH, CLIENT SETINFO / SETNAME /
 * MAINT_NOTIFICATIONS, SELECT, ioredis' INFO ready check) and QUIT / RESET. They are not
 * queries: no `db.client.operation.duration` point, no insight statement, no slow-query alert.
 */
export const REDIS_CONNECTION_COMMANDS: ReadonlySet<string> = new Set(['HELLO', 'AUTH', 'CLIENT', 'SELECT', 'INFO', 'READONLY', 'READWRITE', 'QUIT', 'RESET']);

/** The Redis command of a span: the first word of `db.query.text` (`SET ?` → `SET`), upper case. */
export function redisCommand(name: string, attrs: Attributes): string {
  const text = attrs['db.query.text'] ?? attrs['db.statement'];
  const source = typeof text === 'string' && text !== '' ? text : name;
  const space = source.indexOf(' ');
  return (space < 0 ? source : source.slice(0, space)).toUpperCase();
}

/**
 * Whether a database span is connection set-up rather than a query: a connect span
 * (`redis-connect`, ioredis' `connect`, `pg.connect`, `pg-pool.connect`) or a Redis
 * connection command. Works on the span name and attributes as they are at start (for the
 * sampler) and at end (for the metric and insight).
 */
export function isConnectionSetup(name: string, attrs: Attributes): boolean {
  const system = attrs['db.system.name'] ?? attrs['db.system'];
  if (typeof system !== 'string') return false;
  if (CONNECT_SPANS.has(name)) return true;
  if (system !== 'redis') return false;
  if (name === 'connect' || attrs['db.query.text'] === 'connect') return true;
  return REDIS_CONNECTION_COMMANDS.has(redisCommand(name, attrs));
}

/**
 * Wraps the configured sampler: a connection set-up span with no parent (a client
 * connecting at start-up, a reconnect in the background) is recorded but not sampled, so it
 * is never exported as a root trace of its own; inside a request it follows the parent as
 * usual. `exportRoots` (HEALTHSPAN_DB_CONNECT_SPANS=true) exports them too.
 */
export class ConnectionSetupSampler implements Sampler {
  constructor(
    private readonly delegate: Sampler,
    private readonly exportRoots = false,
  ) {}

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    if (!this.exportRoots && kind === SpanKind.CLIENT && trace.getSpanContext(ctx) === undefined && isConnectionSetup(name, attributes)) {
      return { decision: SamplingDecision.NOT_RECORD };
    }
    return this.delegate.shouldSample(ctx, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `ConnectionSetupSampler{${this.delegate.toString()}}`;
  }
}
