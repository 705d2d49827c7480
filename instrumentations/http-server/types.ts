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
   * query and the response status, once the response is done. Never called for a 404: a
   * path the server does not know is not a route. Return undefined for no `http.route`.
   * @default undefined (no `http.route`, span named by the method alone)
   */
  routeFallback?: (path: string, status: number, req?: IncomingMessage) => string | undefined;
}
