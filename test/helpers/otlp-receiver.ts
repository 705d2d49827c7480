// The OTLP receiver lives in scripts/dev/ (shared with the benchmark sink and the demo); this
// path stays so the suite's test files keep their imports.
export * from '../../scripts/dev/otlp-receiver.mjs';
