import http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import { logger } from '../log.js';

/**
 * How the OTLP exporters reach the collector without ever keeping the process alive: the
 * HTTP agent's sockets are unref'd, and the retries (the exporters' own policy — up to 5,
 * backoff 1 s ×1.5 up to 5 s, ±20 % jitter, within the export timeout) wait on unref'd
 * timers and stop at once when the process is about to exit ({@link stopRetries}).
 * A flush the app or the exit path waits for holds the process itself, for a bounded time
 * (see src/shutdown.ts and `withTimeout` in src/sdk/running-sdk.ts); nothing here does.
 */

/** What `@opentelemetry/otlp-exporter-base` transports answer. */
interface ExportResponse {
  status: 'success' | 'failure' | 'retryable';
  retryInMillis?: number;
  error?: Error;
  data?: Uint8Array;
}

interface Transport {
  send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse>;
  shutdown(): void;
}

const MAX_RETRIES = 5;
const INITIAL_BACKOFF = 1000;
const MAX_BACKOFF = 5000;
const BACKOFF_MULTIPLIER = 1.5;
const JITTER = 0.2;

let retriesStopped = false;
/** Retry waits in progress; each resolves `false` when retries are stopped. */
const waits = new Set<() => void>();

/**
 * Stops retrying: waits in progress end now and their export reports its last failure; no
 * new retry starts. Used when the process is exiting (a retry a second later would only
 * delay the exit). Returns a function that allows retries again.
 */
export function stopRetries(): () => void {
  retriesStopped = true;
  for (const wake of [...waits]) wake();
  return () => {
    retriesStopped = false;
  };
}

/** Waits `ms` on an unref'd timer; false when retries were stopped meanwhile. */
function retryWait(ms: number): Promise<boolean> {
  if (retriesStopped) return Promise.resolve(false);
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      waits.delete(wake);
      resolve(false);
    };
    const timer = setTimeout(() => {
      waits.delete(wake);
      resolve(!retriesStopped);
    }, ms);
    timer.unref();
    waits.add(wake);
  });
}

/** The exporters' retry policy around one attempt-making transport. */
class UnrefRetryingTransport implements Transport {
  constructor(private readonly inner: Transport) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    let result = await this.inner.send(data, timeoutMillis);
    let backoff = INITIAL_BACKOFF;
    for (let retries = 0; result.status === 'retryable' && retries < MAX_RETRIES && !retriesStopped; retries++) {
      const jittered = Math.max(Math.min(backoff * (1 + (Math.random() * 2 - 1) * JITTER), MAX_BACKOFF), 0);
      backoff *= BACKOFF_MULTIPLIER;
      const wait = result.retryInMillis ?? jittered;
      if (wait > deadline - Date.now()) break;
      if (!(await retryWait(wait))) break;
      result = await this.inner.send(data, Math.max(deadline - Date.now(), 1));
    }
    return result;
  }

  shutdown(): void {
    this.inner.shutdown();
  }
}

type Exporter = { _delegate?: { _transport?: unknown } };

/**
 * Replaces the retrying transport inside an OTLP exporter of `@opentelemetry/otlp-exporter-*`
 * (`exporter._delegate._transport`, a RetryingTransport whose timers are not unref'd) with
 * {@link UnrefRetryingTransport} around the same attempt-making transport. An exporter of
 * another shape (gRPC has no retrying transport) is returned unchanged.
 */
export function withUnrefRetries<T>(exporter: T): T {
  const delegate = (exporter as Exporter)?._delegate;
  const retrying = delegate?._transport as { retry?: unknown; _transport?: Partial<Transport> } | undefined;
  const inner = retrying?._transport;
  if (delegate && typeof retrying?.retry === 'function' && typeof inner?.send === 'function' && typeof inner.shutdown === 'function') {
    delegate._transport = new UnrefRetryingTransport(inner as Transport);
  } else {
    logger.debug('an OTLP exporter without the expected retrying transport keeps its own retries');
  }
  return exporter;
}

/**
 * `httpAgentOptions` for the OTLP HTTP exporters: a keep-alive agent whose sockets never
 * keep the process alive, also while a request is in flight (a collector that accepts and
 * never answers would otherwise hold the process until the export timeout).
 */
export async function unrefAgentFactory(protocol: string): Promise<http.Agent> {
  return protocol === 'https:' ? new (unrefHttpsAgent())({ keepAlive: true }) : new UnrefHttpAgent({ keepAlive: true });
}

type CreateConnection = (this: http.Agent, ...args: unknown[]) => Duplex | null | undefined;

class UnrefHttpAgent extends http.Agent {
  override createConnection(...args: unknown[]): Duplex | null | undefined {
    return unref(Reflect.apply(http.Agent.prototype.createConnection as unknown as CreateConnection, this, args));
  }
  // Node refs a kept-alive socket again when it is reused for a request.
  override reuseSocket(socket: import('node:net').Socket, req: http.ClientRequest): void {
    super.reuseSocket(socket, req);
    socket.unref();
  }
}

let UnrefHttpsAgent: (new (options: https.AgentOptions) => https.Agent) | undefined;

/** The https twin of UnrefHttpAgent, made on first use: node:https (with TLS) is the dearest built-in to load. */
function unrefHttpsAgent(): new (options: https.AgentOptions) => https.Agent {
  if (UnrefHttpsAgent) return UnrefHttpsAgent;
  const { Agent } = require('node:https') as typeof https;
  UnrefHttpsAgent = class extends Agent {
    override createConnection(...args: unknown[]): Duplex | null | undefined {
      return unref(Reflect.apply(Agent.prototype.createConnection as unknown as CreateConnection, this, args));
    }
    override reuseSocket(socket: import('node:net').Socket, req: http.ClientRequest): void {
      super.reuseSocket(socket, req);
      socket.unref();
    }
  };
  return UnrefHttpsAgent;
}

function unref<S>(socket: S): S {
  (socket as { unref?: () => void } | null | undefined)?.unref?.();
  return socket;
}
