/**
 * Latency buckets (seconds) for every duration histogram healthspan records: from 1 ms to
 * 10 s, finer at the low end than the usual defaults (which start at 5 ms) so that healthy
 * endpoints and queries do not all land in the first bucket.
 */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
