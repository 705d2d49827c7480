import * as nodeModule from 'node:module';

/**
 * The modules each instrumentation is about. `hooks`: the names its module definitions patch
 * (the ESM hook wraps exactly these); `loadOn`: further names whose first load means the
 * instrumentation is needed (fastify is instrumented through a diagnostics channel, node-redis
 * through `@redis/client` loaded by `redis`). An instrumentation with neither is created at
 * start: `undici` (the global fetch loads no module) and `runtime-node`; `http` is created at
 * start too, because our own exporters load node:http before any app code runs.
 * test/unit/instrumentation-loader.test.ts checks `hooks` against the real module definitions.
 */
export const MODULES: Record<string, { hooks: readonly string[]; loadOn?: readonly string[]; eager?: boolean }> = {
  http: { hooks: ['http', 'https'], eager: true },
  undici: { hooks: [] },
  ws: { hooks: ['ws'] },
  'socket.io': { hooks: ['socket.io'] },
  pg: { hooks: ['pg', 'pg-pool'] },
  mysql2: { hooks: ['mysql2'] },
  redis: { hooks: ['redis', '@redis/client', '@node-redis/client'] },
  ioredis: { hooks: ['ioredis'] },
  express: { hooks: ['express'] },
  fastify: { hooks: [], loadOn: ['fastify'] },
  koa: { hooks: ['koa'] },
  'runtime-node': { hooks: [] },
};

/** Module names the ESM hook must wrap for these instrumentations. */
export function hookedModules(names: readonly string[]): string[] {
  return [...new Set(names.flatMap((n) => MODULES[n]?.hooks ?? []))];
}

/** The package a bare specifier names (`pg/lib/x` → `pg`, `@redis/client/dist/…` → `@redis/client`); undefined for paths, URLs and builtins. */
export function packageOf(specifier: string): string | undefined {
  const c = specifier.charCodeAt(0);
  // '.', '/', and anything with a scheme (file:, node:, data:) are not packages.
  if (c === 46 /* . */ || c === 47 /* / */ || specifier.includes(':')) return undefined;
  const slash = specifier.indexOf('/');
  if (c !== 64 /* @ */) return slash < 0 ? specifier : specifier.slice(0, slash);
  if (slash < 0) return undefined;
  const second = specifier.indexOf('/', slash + 1);
  return second < 0 ? specifier : specifier.slice(0, second);
}

type RegisterHooks = (hooks: { resolve: (specifier: string, context: unknown, next: (s: string, c?: unknown) => unknown) => unknown }) => {
  deregister(): void;
};

export interface LoaderOptions {
  /** Enabled instrumentation names, in order. */
  names: readonly string[];
  /** Creates (and enables) the named instrumentation; called at most once per name. */
  create: (name: string) => void;
  /** Whether a package is already loaded (then its instrumentation is created at once). @default scans require.cache */
  isLoaded?: (pkg: string) => boolean;
  /** null: none (everything is created at start). @default module.registerHooks, where Node has it (22.15+) */
  registerHooks?: RegisterHooks | null;
}

/**
 * Creates each instrumentation when the app first resolves one of its modules, not at start:
 * an app that never loads mysql2 never pays for the mysql2 instrumentation's code. One
 * synchronous resolve hook (module.registerHooks: require and import alike, in the thread)
 * sees every specifier; the first one naming a watched package creates its instrumentation
 * before the package loads, so the instrumentation's own require/import hooks patch it as
 * usual. The hook removes itself once every watched instrumentation exists. Where Node has no
 * registerHooks, everything is created at start, as before.
 */
export class InstrumentationLoader {
  private readonly waiting = new Map<string, string>();
  private hooks: { deregister(): void } | undefined;

  constructor(private readonly options: LoaderOptions) {}

  start(): void {
    const { names, create } = this.options;
    const registerHooks =
      this.options.registerHooks !== undefined ? this.options.registerHooks : (nodeModule as unknown as { registerHooks?: RegisterHooks }).registerHooks;
    const isLoaded = this.options.isLoaded ?? loadedInRequireCache();
    for (const name of names) {
      const m = MODULES[name];
      const watch = m ? [...m.hooks, ...(m.loadOn ?? [])] : [];
      if (!registerHooks || m?.eager || watch.length === 0 || watch.some(isLoaded)) {
        create(name);
        continue;
      }
      for (const pkg of watch) this.waiting.set(pkg, name);
    }
    if (this.waiting.size === 0 || !registerHooks) return;
    this.hooks = registerHooks({
      resolve: (specifier, context, next) => {
        if (this.waiting.size > 0) this.seen(specifier);
        return next(specifier, context);
      },
    });
  }

  /** Names still waiting for their module. */
  pending(): string[] {
    return [...new Set(this.waiting.values())];
  }

  stop(): void {
    this.waiting.clear();
    this.hooks?.deregister();
    this.hooks = undefined;
  }

  private seen(specifier: string): void {
    const pkg = packageOf(specifier);
    const name = pkg === undefined ? undefined : this.waiting.get(pkg);
    if (name === undefined) return;
    for (const [p, n] of this.waiting) if (n === name) this.waiting.delete(p);
    // Never let our work break the app's import: create() reports its own failures.
    try {
      this.options.create(name);
    } catch {
      // create() logs; the import goes on unpatched
    }
    if (this.waiting.size === 0) this.stop();
  }
}

/** A package counts as loaded when a file of it is in require.cache (ESM-only loads cannot be seen, nor patched, afterwards). */
function loadedInRequireCache(): (pkg: string) => boolean {
  let files: string[] | undefined;
  return (pkg) => {
    files ??= Object.keys(nodeModule.createRequire(import.meta.url).cache);
    const needle = `/node_modules/${pkg}/`;
    return files.some((f) => f.includes(needle));
  };
}
