// Shared by rules.test.ts and scrape.test.ts: finding the Prometheus binaries, reading the
// Grafana dashboard and the rules file, and turning dashboard queries into plain PromQL.
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DASHBOARD = join(ROOT, 'docs/grafana/healthspan.json');
export const RULES = join(ROOT, 'docs/prometheus/healthspan-rules.yml');
export const RULES_TEST = join(ROOT, 'docs/prometheus/healthspan-rules.test.yml');

/** The absolute path of an executable on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter);
  for (const dir of dirs) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** CI=true (or 1, yes): a missing binary fails the run instead of skipping. */
export const IN_CI = /^(true|1|yes)$/i.test(process.env.CI ?? '');

/** For test titles: why the tests that need `binary` are skipped. */
export function skipReason(binary: 'promtool' | 'prometheus'): string {
  return `skipped: ${binary} not on PATH, install it with apt-get install prometheus`;
}

export function missingMessage(binary: 'promtool' | 'prometheus'): string {
  return (
    `${binary} was not found on PATH. Install it with \`sudo apt-get install -y prometheus\` ` +
    `(Debian/Ubuntu; the package provides both prometheus and promtool) or put the binaries from ` +
    `https://prometheus.io/download/ on PATH.`
  );
}

export interface DashboardTarget {
  datasource?: { type?: string; uid?: string };
  refId: string;
  /** PromQL (Prometheus targets). */
  expr?: string;
  /** TraceQL (Tempo targets, with queryType "traceql"). */
  query?: string;
  queryType?: string;
  format?: string;
  instant?: boolean;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

export interface DashboardVariable {
  name: string;
  type: string;
  query: unknown;
  datasource?: { type?: string; uid?: string };
  current?: { text?: unknown; value?: unknown };
}

export interface DashboardLink {
  title: string;
  url: string;
  type?: string;
  targetBlank?: boolean;
}

export interface Dashboard {
  __inputs?: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
  links?: DashboardLink[];
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
}

/** Every panel that is not a row, including those nested in collapsed rows. */
export function queryPanels(d: Dashboard): DashboardPanel[] {
  const out: DashboardPanel[] = [];
  for (const p of d.panels) {
    if (p.type === 'row') out.push(...(p.panels ?? []));
    else out.push(p);
  }
  return out;
}

/** Panels and targets whose data source is Prometheus (the `${datasource}` variable); Tempo ones are not. */
export const isPrometheus = (ds: { type?: string } | undefined): boolean => ds?.type === 'prometheus';

/** The panels that query the optional Tempo data source (TraceQL, not PromQL). */
export function tempoPanels(d: Dashboard): DashboardPanel[] {
  return queryPanels(d).filter((p) => p.datasource?.type === 'tempo');
}

export interface PanelQuery {
  /** `panel <id>/<refId> <title>`: what a failure message names. */
  name: string;
  /** A valid recording-rule name for the query. */
  record: string;
  panelTitle: string;
  expr: string;
}

/** The PromQL of every Prometheus panel target (Tempo panels are left out: see tempoPanels). */
export function panelQueries(d: Dashboard): PanelQuery[] {
  return queryPanels(d)
    .filter((p) => isPrometheus(p.datasource))
    .flatMap((p) =>
      (p.targets ?? [])
        .filter((t) => isPrometheus(t.datasource ?? p.datasource))
        .map((t) => ({
          name: `panel ${p.id}/${t.refId} "${p.title}"`,
          record: `healthspan_dashboard:panel_${p.id}_${t.refId}`,
          panelTitle: p.title,
          expr: t.expr ?? '',
        })),
    );
}

/** `label_values(<selector>, <label>)` of a query variable, split; undefined for other kinds. */
export function labelValuesQuery(v: DashboardVariable): { selector: string; label: string } | undefined {
  const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
  const m = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(q ?? '');
  return m ? { selector: m[1], label: m[2] } : undefined;
}

export interface Substitutions {
  /** Range for `$__rate_interval` and `$__interval`. */
  rateInterval: string;
  /** Range for `$__range`. */
  range: string;
  /** Values for dashboard variables (`$job`, `${job}`, `${job:regex}`); missing ones become `.*`. */
  vars?: Record<string, string>;
}

/** Replaces Grafana's macros and variables so the query is plain PromQL. */
export function substitute(expr: string, s: Substitutions): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}|\$__interval|\$\{__interval\}/g, s.rateInterval)
    .replace(/\$__range|\$\{__range\}/g, s.range)
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => s.vars?.[(a ?? b)!] ?? '.*');
}

/** Names of the recording and alerting rules in the rules file, in file order. */
export function ruleNames(): { records: string[]; alerts: string[] } {
  const text = readFileSync(RULES, 'utf8');
  return {
    records: [...text.matchAll(/^\s*- record:\s*(\S+)\s*$/gm)].map((m) => m[1]),
    alerts: [...text.matchAll(/^\s*- alert:\s*(\S+)\s*$/gm)].map((m) => m[1]),
  };
}
