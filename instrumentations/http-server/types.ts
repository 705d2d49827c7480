import type { IncomingMessage } from 'node:http';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';

export interface HttpServerInstrumentationConfig extends InstrumentationConfig {
  /** Requests for which no span is made (e.g. our own scrape endpoint). @default () => false */
  ignoreIncomingRequest?: (req: IncomingMessage) => boolean;
  /** Request headers recorded as `http.request.header.<name>` (lower case). @default [] */
  requestHeaders?: string[];
  /** Response headers recorded as `http.response.header.<name>` (lower case). @default [] */
  responseHeaders?: string[];
  /**
   * Route for a request no router named (bare node:http): receives the path without its
   * query. @default () => undefined (no `http.route`, span named by the method alone)
   */
  routeFallback?: (path: string) => string | undefined;
}
