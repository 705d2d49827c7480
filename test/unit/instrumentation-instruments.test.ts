// The metric instruments of our instrumentations exist from construction. The base class
// makes them from its constructor (_updateMetricInstruments); class fields declared for them
// would be defined again, as undefined, once super() returned, and an instrumentation enabled
// without setMeterProvider (by hand, not through registerInstrumentations) would then throw
// from the app's own calls when it records.
import { describe, expect, it } from 'vitest';
import { HttpServerInstrumentation } from '../../instrumentations/http-server/index.js';
import { PgPoolInstrumentation } from '../../instrumentations/pg-pool/index.js';
import { WsInstrumentation } from '../../instrumentations/ws/index.js';

const fieldsOf = (o: object, names: string[]) => Object.fromEntries(names.map((n) => [n, typeof (o as Record<string, unknown>)[n]]));

describe('metric instruments right after construction', () => {
  it('http server: the duration histogram, and whether it records', () => {
    expect(fieldsOf(new HttpServerInstrumentation({ enabled: false }), ['duration', 'recordsDuration'])).toEqual({
      duration: 'object',
      recordsDuration: 'boolean',
    });
  });

  it('ws: every instrument', () => {
    const names = ['active', 'duration', 'messages', 'size', 'errors', 'capped'];
    expect(fieldsOf(new WsInstrumentation({ enabled: false }), names)).toEqual(Object.fromEntries(names.map((n) => [n, 'object'])));
  });

  it('pg pool: the wait time histogram and the timeouts counter', () => {
    expect(fieldsOf(new PgPoolInstrumentation({ enabled: false }), ['waitTime', 'timeouts'])).toEqual({ waitTime: 'object', timeouts: 'object' });
  });
});
