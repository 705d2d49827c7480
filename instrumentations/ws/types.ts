import type { IncomingMessage } from 'node:http';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';

export interface WsInstrumentationConfig extends InstrumentationConfig {
  /** A CONSUMER span per received and a PRODUCER span per sent message, linked to the handshake. @default false */
  messageSpans?: boolean;
  /** Message spans per connection; later messages are counted in `healthspan.ws.message.spans.capped`. @default 100 */
  messageSpansPerConnection?: number;
  /** Route of an upgrade request from its path (no query). @default the path as it is */
  routeFallback?: (path: string) => string;
  /**
   * Upgrades left to other instrumentations. @default engine.io / socket.io upgrades (an
   * `EIO=` query parameter), whose events the socket.io instrumentation traces
   */
  ignoreUpgrade?: (req: IncomingMessage) => boolean;
}
