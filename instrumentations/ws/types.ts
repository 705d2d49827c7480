import type { IncomingMessage } from 'node:http';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';

export interface WsInstrumentationConfig extends InstrumentationConfig {
  /** A CONSUMER span per received and a PRODUCER span per sent message, linked to the handshake. @default false */
  messageSpans?: boolean;
  /** Message spans per connection; later messages are counted in `healthspan.ws.message.spans.capped`. @default 100 */
  messageSpansPerConnection?: number;
  /**
   * Route of an accepted upgrade whose server has no `path` option, from the request's path
   * (no query); undefined for none. A server with a `path` option has that route.
   * @default undefined (no `http.route`, the handshake span is named `GET`)
   */
  routeFallback?: (path: string) => string | undefined;
  /**
   * Upgrades left to other instrumentations. @default engine.io / socket.io upgrades (an
   * `EIO=` query parameter), whose events the socket.io instrumentation traces
   */
  ignoreUpgrade?: (req: IncomingMessage) => boolean;
}
