import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/env.ts';
import { INSTRUMENTATIONS, moduleNames } from '../../src/instrumentations.ts';
import { InstrumentationLoader, MODULES, hookedModules, packageOf } from '../../src/instrumentation-loader.ts';
import { RouteTemplater } from '../../src/http/route.ts';

describe('MODULES', () => {
  it('names an entry for every instrumentation', () => {
    expect(Object.keys(MODULES).sort()).toEqual(Object.keys(INSTRUMENTATIONS).sort());
  });

  it.each(Object.keys(INSTRUMENTATIONS))('%s: its hooks are exactly the modules its instrumentations patch', (name) => {
    const { config } = resolveConfig({}, {});
    const made = INSTRUMENTATIONS[name]({ config, templater: new RouteTemplater(10, () => {}), ignoreIncoming: () => false, onPoolLimit: () => {} });
    const list = Array.isArray(made) ? made : [made];
    try {
      // The ESM hook wraps only these names, and the loader waits for them: a missing one
      // would leave that module unpatched under --import.
      expect([...new Set(list.flatMap(moduleNames))].sort()).toEqual([...MODULES[name].hooks].sort());
    } finally {
      for (const i of list) i.disable();
    }
  });

  it('hookedModules() lists each hooked name once, for the enabled instrumentations only', () => {
    expect(hookedModules(['http', 'pg', 'fastify', 'undici'])).toEqual(['http', 'https', 'pg', 'pg-pool']);
  });
});

describe('packageOf', () => {
  it.each([
    ['pg', 'pg'],
    ['pg/lib/client.js', 'pg'],
    ['@redis/client', '@redis/client'],
    ['@redis/client/dist/lib/client/index.js', '@redis/client'],
    ['./pg', undefined],
    ['../x', undefined],
    ['/abs/node_modules/pg/index.js', undefined],
    ['node:http', undefined],
    ['file:///app/node_modules/pg/index.js', undefined],
    ['@scope', undefined],
  ])('%s → %s', (specifier, expected) => {
    expect(packageOf(specifier)).toBe(expected);
  });
});

describe('InstrumentationLoader', () => {
  function loader(names: string[], opts: { loaded?: string[]; hooks?: boolean } = {}) {
    const created: string[] = [];
    let resolve: ((s: string) => unknown) | undefined;
    let deregistered = false;
    const l = new InstrumentationLoader({
      names,
      create: (n) => created.push(n),
      isLoaded: (p) => (opts.loaded ?? []).includes(p),
      registerHooks:
        opts.hooks === false
          ? null
          : (h) => {
              resolve = (s) => h.resolve(s, {}, (x) => x);
              return { deregister: () => (deregistered = true) };
            },
    });
    l.start();
    return { l, created, resolve: (s: string) => resolve?.(s), deregistered: () => deregistered };
  }

  it('creates eager and module-less instrumentations at start, the others on their first specifier', () => {
    const t = loader(['http', 'undici', 'pg', 'redis', 'fastify']);
    expect(t.created).toEqual(['http', 'undici']);
    expect(t.l.pending().sort()).toEqual(['fastify', 'pg', 'redis']);
    t.resolve('./local');
    t.resolve('express');
    expect(t.created).toEqual(['http', 'undici']);
    t.resolve('pg/lib/client.js');
    t.resolve('pg-pool');
    expect(t.created).toEqual(['http', 'undici', 'pg']);
    t.resolve('redis');
    t.resolve('@redis/client');
    t.resolve('fastify');
    expect(t.created).toEqual(['http', 'undici', 'pg', 'redis', 'fastify']);
    expect(t.deregistered()).toBe(true);
  });

  it('creates at once an instrumentation whose package is already loaded', () => {
    const t = loader(['pg', 'mysql2'], { loaded: ['pg-pool'] });
    expect(t.created).toEqual(['pg']);
    expect(t.l.pending()).toEqual(['mysql2']);
  });

  it('creates everything at start where Node has no registerHooks', () => {
    const t = loader(['pg', 'mysql2'], { hooks: false });
    expect(t.created).toEqual(['pg', 'mysql2']);
  });

  it('passes the specifier on even when create() throws', () => {
    const l = new InstrumentationLoader({
      names: ['pg'],
      create: () => {
        throw new Error('boom');
      },
      isLoaded: () => false,
      registerHooks: (h) => {
        expect(h.resolve('pg', {}, (s) => `resolved ${s}`)).toBe('resolved pg');
        return { deregister: () => {} };
      },
    });
    l.start();
  });
});
