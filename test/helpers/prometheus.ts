// The Prometheus text parser lives in scripts/dev/ (shared with the demo); this path stays so
// the suite's test files keep their imports.
export * from '../../scripts/dev/prometheus.mjs';
