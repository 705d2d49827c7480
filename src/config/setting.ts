import type { Kind } from './kinds.js';
import type { ValueSource } from './parse.js';
import type {
  AdminConfig,
  BatchConfig,
  DbConfig,
  HttpConfig,
  InsightConfig,
  LogBatchConfig,
  LogsConfig,
  MetricsConfig,
  OtlpSignalConfig,
  PrometheusConfig,
  SdkConfig,
  TracesConfig,
  WsConfig,
} from './types.js';

/** The objects of SdkConfig that group settings (a path goes through them). */
type Group =
  | TracesConfig
  | MetricsConfig
  | LogsConfig
  | OtlpSignalConfig
  | BatchConfig
  | LogBatchConfig
  | PrometheusConfig
  | HttpConfig
  | DbConfig
  | WsConfig
  | InsightConfig
  | AdminConfig;
type PathsOf<T> = { [K in keyof T & string]-?: T[K] extends Group ? `${K}.${PathsOf<T[K]>}` : K }[keyof T & string];

/** The dotted path of one setting in SdkConfig and in `start()` options: `traces.batch.maxQueueSize`. */
export type ConfigPath = PathsOf<SdkConfig>;
/** The type of the setting at a path. */
export type At<P extends string, T = SdkConfig> = P extends `${infer H}.${infer R}`
  ? H extends keyof T
    ? At<R, T[H]>
    : never
  : P extends keyof T
    ? T[P]
    : never;

/** The sections of docs/configuration.md, in page order. */
export const SECTIONS = ['general', 'traces', 'metrics', 'logs', 'otlp', 'http', 'db', 'insight', 'admin', 'ws'] as const;
export type Section = (typeof SECTIONS)[number];

/** A row of docs/configuration.md. Settings that share one object (the three OTLP signals) share the row. */
export interface SettingDoc {
  section: Section;
  example: string;
  /** Markdown. */
  meaning: string;
  /** The Default cell when the value does not say it (a default that follows another setting, or none). */
  default?: string;
  /** Appended to the kind's Type cell. */
  typeNote?: string;
}

/** What a default or a refinement may read: other settings (resolved first), env-only inputs, the app. */
export interface Scope {
  get<P extends ConfigPath>(path: P): At<P>;
  /** An env-only setting (one without a path), with `fallback` when it is unset or bad. */
  input<T>(env: string, fallback: T): T;
  /** The `name` in the app's package.json. */
  appName(): string | undefined;
}

export interface RefineScope extends Scope {
  /** Where the value came from; undefined when it is the default. */
  from?: ValueSource;
  /** Reports the value as invalid, naming its source; `used` is what replaces it. */
  problem(expected: string, used: unknown): void;
}

export interface SettingSpec<T> {
  /** Env vars, the first that is set wins (an option wins over all of them). */
  env?: readonly string[];
  kind: Kind<T>;
  /** Written once, here. A function when it follows another setting. */
  default: T | ((s: Scope) => T);
  /** Objects from every source are merged (the last env var lowest, the option highest) instead of one winning. */
  merge?: boolean;
  /** A check that involves other settings (a batch no larger than its queue). */
  refine?: (value: T, s: RefineScope) => T;
  doc: SettingDoc;
}

export interface Setting extends Omit<SettingSpec<unknown>, 'env' | 'refine'> {
  /** Undefined for an env-only input that other settings read (OTEL_EXPORTER_OTLP_ENDPOINT). */
  path?: ConfigPath;
  env: readonly string[];
  refine?: (value: unknown, s: RefineScope) => unknown;
}

/** One setting of SdkConfig; the parser, default and refinement are checked against the type at `path`. */
export function setting<P extends ConfigPath>(path: P, spec: SettingSpec<At<P>>): Setting {
  return { ...spec, path, env: spec.env ?? [] } as Setting;
}

/** An env var that is no setting of its own but feeds others. */
export function input<T>(env: string, spec: Omit<SettingSpec<T>, 'env' | 'merge' | 'refine'>): Setting {
  return { ...spec, env: [env] } as Setting;
}
