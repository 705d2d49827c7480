// Our own telemetry names (unregistered in the semantic conventions, hence the prefix).
// Upstream names (http.server.request.duration, db.client.operation.duration, …) come from
// @opentelemetry/semantic-conventions in the instrumentations themselves.

/** Instrumentation scope of everything healthspan itself emits. */
export const SCOPE_NAME = 'healthspan';
export { VERSION } from '../instrumentations/shared/version.js';

/** Counter {signal, reason}: telemetry dropped before it reached the exporter. */
export const METRIC_EXPORTER_DROPPED = 'healthspan.exporter.dropped';
/** Counter: requests whose derived route template was folded into `_other`. */
export const METRIC_HTTP_ROUTES_FOLDED = 'healthspan.http.route.folded';
