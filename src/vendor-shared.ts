import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import * as instrumentation from '@opentelemetry/instrumentation';
import * as resources from '@opentelemetry/resources';

// The built package loads the contrib instrumentations from dist/vendor/*.cjs only when the app
// loads what they patch, and the metrics, logs and OTLP packages when they are used
// (tsup.config.ts). Those files take @opentelemetry/api, @opentelemetry/core,
// @opentelemetry/instrumentation and @opentelemetry/resources from here, not from a copy of their
// own: the API instance the main bundle chose, one require-hook singleton, one global error
// handler. Called before any vendor file is required (a call, not
// a side-effect import: package.json's `sideEffects` would let the bundler drop that).
export function publishVendorShared(): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for('healthspan.vendor.shared')] ??= {
    '@opentelemetry/api': api,
    '@opentelemetry/core': core,
    '@opentelemetry/instrumentation': instrumentation,
    '@opentelemetry/resources': resources,
  };
}
