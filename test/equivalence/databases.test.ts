// pg, mysql2, redis (node-redis) and ioredis against the local servers: the same app
// behaviours bare and preloaded (one child process per mode per library): results, errors
// and their messages, returned objects, function signatures.
import { describe, expect, it } from 'vitest';
import { expectEquivalent, runApp, type KnownDifference } from './run.ts';

async function both(name: string) {
  const [bare, preloaded] = await Promise.all([runApp(name, false), runApp(name, true, { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' })]);
  expect(bare.code).toBe(0);
  expect(preloaded.code).toBe(0);
  return { bare: bare.result, preloaded: preloaded.result };
}

/** Upstream wrappers that lose the original's `length` (or name); calls behave the same. */
const KNOWN: Record<string, KnownDifference[]> = {
  pg: [
    {
      path: 'signatures.query',
      preloaded: { name: 'query', length: 0 },
      why: '@opentelemetry/instrumentation-pg wraps Client.prototype.query as query(...args)',
    },
    { path: 'signatures.instanceQuery', preloaded: { name: 'query', length: 0 }, why: 'the same wrapper, seen on an instance' },
  ],
  mysql2: [
    {
      path: 'signatures.execute',
      preloaded: { name: 'query', length: 3 },
      why: '@opentelemetry/instrumentation-mysql2 wraps execute with the function it names query',
    },
    { path: 'signatures.protoExecute', preloaded: { name: 'query', length: 3 }, why: 'the same wrapper, on the prototype' },
  ],
  redis: [
    {
      path: 'signatures.connect',
      preloaded: { name: 'patchedConnect', length: 0 },
      why: '@opentelemetry/instrumentation-redis names its wrapper patchedConnect',
    },
    { path: 'signatures.multi', preloaded: { name: 'multiPatch', length: 0 }, why: '@opentelemetry/instrumentation-redis names its wrapper multiPatch' },
    {
      path: 'signatures.sendCommand',
      preloaded: { name: 'sendCommandPatch', length: 1 },
      why: '@opentelemetry/instrumentation-redis names its wrapper sendCommandPatch',
    },
  ],
  ioredis: [
    { path: 'signatures.connect', preloaded: { name: '', length: 0 }, why: '@opentelemetry/instrumentation-ioredis wraps connect in an anonymous function' },
    {
      path: 'signatures.sendCommand',
      preloaded: { name: '', length: 1 },
      why: '@opentelemetry/instrumentation-ioredis wraps sendCommand in an anonymous function',
    },
  ],
};

describe('pg', () => {
  it('behaves the same: rows, errors, submittables, pools', async () => {
    const { bare, preloaded } = await both('pg');
    expect(bare.badSql).toEqual({ error: 'DatabaseError', message: 'relation "no_such_table_eq" does not exist', code: '42P01' });
    expect(bare.submittable).toEqual({ value: { sameObject: true, rows: [{ three: 3 }] } });
    expectEquivalent(bare, preloaded, { known: KNOWN.pg });
  });
});

describe('mysql2', () => {
  it('behaves the same: callback and promise APIs, errors, pools', async () => {
    const { bare, preloaded } = await both('mysql2');
    expect(bare.badSql).toMatchObject({ code: 'ER_NO_SUCH_TABLE', errno: 1146 });
    expectEquivalent(bare, preloaded, { known: KNOWN.mysql2 });
  });
});

describe('redis', () => {
  it('behaves the same: replies, errors, multi', async () => {
    const { bare, preloaded } = await both('redis');
    expect(bare.wrongType).toMatchObject({ message: 'WRONGTYPE Operation against a key holding the wrong kind of value' });
    expectEquivalent(bare, preloaded, { known: KNOWN.redis });
  });
});

describe('ioredis', () => {
  it('behaves the same: promise and callback replies, errors, pipelines', async () => {
    const { bare, preloaded } = await both('ioredis');
    expect(bare.wrongType).toMatchObject({ message: 'WRONGTYPE Operation against a key holding the wrong kind of value' });
    expectEquivalent(bare, preloaded, { known: KNOWN.ioredis });
  });
});
