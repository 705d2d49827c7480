import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SettingReader, describeProblem, type ValueSource } from './parse.js';
import type { ConfigPath, RefineScope, Scope, Setting } from './setting.js';
import { SETTINGS } from './settings.js';
import type { ConfigProblem, HealthspanOptions, SdkConfig } from './types.js';

export { INSTRUMENTATION_NAMES } from './values.js';

export interface ResolvedConfig {
  config: SdkConfig;
  problems: ConfigProblem[];
}

export interface ResolveContext {
  /** Folder whose package.json name is the default service name. @default process.cwd() */
  cwd?: string;
}

/** The configuration the environment alone describes. */
export function readConfigFromEnv(env: Record<string, string | undefined>, ctx: ResolveContext = {}): ResolvedConfig {
  return resolveConfig({}, env, ctx);
}

/**
 * Merges defaults, env and `start()` options (options win) into one validated
 * {@link SdkConfig}, setting by setting from the table in settings.ts. Bad values never throw
 * here: each becomes a {@link ConfigProblem} and the next source (the env var, then the
 * default) is used; `strict` decides later whether that is fatal.
 */
export function resolveConfig(options: HealthspanOptions, env: Record<string, string | undefined>, ctx: ResolveContext = {}): ResolvedConfig {
  const r = new SettingReader(env);
  const values = new Map<string, unknown>();
  let appName: { name: string | undefined } | undefined;

  const scope: Scope = {
    get: (path) => {
      if (!values.has(path)) values.set(path, resolve(settingAt(path)));
      return values.get(path) as never;
    },
    input: <T>(name: string, fallback: T) => r.pick(inputNamed(name).kind, envSources(r, inputNamed(name)), fallback as unknown).value as T,
    appName: () => (appName ??= { name: packageName(ctx.cwd ?? process.cwd()) }).name,
  };

  function resolve(s: Setting): unknown {
    const fallback = typeof s.default === 'function' ? (s.default as (s: Scope) => unknown)(scope) : s.default;
    const option = s.path === undefined ? undefined : valueAt(options ?? {}, s.path);
    const fromOption: ValueSource[] = option === undefined ? [] : [{ source: `options.${s.path}`, value: option, option: true }];
    if (s.merge) {
      // Lowest priority first: the last env var … the first one, then the option.
      const layers = r.all(s.kind, [...envSources(r, s).reverse(), ...fromOption], fallback);
      return Object.assign({}, fallback, ...layers);
    }
    const { value, from } = r.pick(s.kind, [...fromOption, ...envSources(r, s)], fallback);
    if (!s.refine) return value;
    const refine: RefineScope = { ...scope, from, problem: (expected, used) => from && r.problem(from.source, from.value, expected, used) };
    return s.refine(value, refine);
  }

  const config = {} as Record<string, unknown>;
  for (const s of SETTINGS) if (s.path !== undefined) setAt(config, s.path, scope.get(s.path));
  return { config: config as unknown as SdkConfig, problems: r.problems };
}

const byPath = new Map(SETTINGS.filter((s) => s.path !== undefined).map((s) => [s.path as string, s]));
const inputs = new Map(SETTINGS.filter((s) => s.path === undefined).map((s) => [s.env[0], s]));

function settingAt(path: ConfigPath): Setting {
  const s = byPath.get(path);
  if (!s) throw new Error(`healthspan: no setting at ${path}`);
  return s;
}

function inputNamed(name: string): Setting {
  const s = inputs.get(name);
  if (!s) throw new Error(`healthspan: no input named ${name}`);
  return s;
}

/** The env vars of a setting that are set (blank counts as unset), in priority order. */
function envSources(r: SettingReader, s: Setting): ValueSource[] {
  return s.env.flatMap((name) => {
    const value = r.raw(name);
    return value === undefined ? [] : [{ source: name, value, option: false }];
  });
}

function valueAt(obj: object, path: string): unknown {
  let v: unknown = obj;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function setAt(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const key of keys.slice(0, -1)) o = (o[key] ??= {}) as Record<string, unknown>;
  o[keys[keys.length - 1]] = value;
}

function packageName(cwd: string): string | undefined {
  try {
    const name = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')).name;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Thrown by `start()` under HEALTHSPAN_STRICT=true when the configuration has problems. Its
 * message is the whole report: a header and one line per problem, without the fallbacks (none
 * is used: nothing starts). The preload prints just the message and exits with code 1.
 */
export class ConfigError extends Error {
  declare readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const n = problems.length;
    super(
      `healthspan: ${n === 1 ? 'a configuration problem' : `${n} configuration problems`} (HEALTHSPAN_STRICT=true), so healthspan did not start:\n${problems.map((p) => `  - ${describeProblem(p)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    // Not enumerable: printing the error shows the list once, not again as a `problems: [...]` dump.
    Object.defineProperty(this, 'problems', { value: problems, enumerable: false });
  }
}
