/**
 * Bucket boundaries (seconds) of the duration histograms.
 *
 * By default every histogram with a semantic-convention name uses that convention's advice,
 * so dashboards and SLO rules written for OpenTelemetry data (`le="0.25"`, `le="1"`) work
 * unchanged: {@link HTTP_DURATION_BUCKETS} for `http.server.request.duration` and
 * `http.client.request.duration`, {@link DB_DURATION_BUCKETS} for
 * `db.client.operation.duration` and `db.client.connection.wait_time`.
 * HEALTHSPAN_METRICS_DURATION_BUCKETS=fine switches them to {@link FINE_DURATION_BUCKETS}.
 */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
export const DB_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

/**
 * healthspan's own boundaries: from 1 ms to 10 s, finer at the low end than the advice (16
 * bounds, 7 of them below 100 ms), so that healthy endpoints and queries do not all land in
 * the first two buckets and a p50/p95 read from the histogram is closer to the truth. Used
 * by healthspan's own duration histograms (`healthspan.cache.operation.duration`,
 * `healthspan.ws.connection.duration`), and for all of them with
 * HEALTHSPAN_METRICS_DURATION_BUCKETS=fine.
 */
export const FINE_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** {@link FINE_DURATION_BUCKETS} under its earlier name (healthspan's own histograms import it). */
export const DURATION_BUCKETS = FINE_DURATION_BUCKETS;
