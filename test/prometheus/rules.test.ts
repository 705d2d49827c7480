// docs/prometheus/healthspan-rules.yml and docs/grafana/healthspan.json, checked offline:
// promtool check/test rules, the dashboard's shape, and every dashboard query parsed by
// promtool (as a recording rule in a generated rules file). Only Prometheus queries are PromQL:
// the Tempo panel's TraceQL is compared with what it must be, and left out of the promtool checks.
// promtool comes from Debian's `prometheus` package; without it these checks are skipped,
// except under CI=true, where that is a failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IN_CI,
  RULES,
  isPrometheus,
  tempoPanels,
  RULES_TEST,
  findBinary,
  labelValuesQuery,
  loadDashboard,
  missingMessage,
  skipReason,
  panelQueries,
  queryPanels,
  ruleNames,
  substitute,
} from './tools.ts';

const promtool = findBinary('promtool');
if (!promtool && !IN_CI) console.warn(`test/prometheus/rules.test.ts: skipping the promtool checks: ${missingMessage('promtool')}`);

const ALERTS = [
  'HealthspanHealthLow',
  'HealthspanAlertFiring',
  'HealthspanFleetDegraded',
  'HealthspanHighErrorRate',
  'HealthspanSlowRoute',
  'HealthspanSlowQuery',
  'HealthspanExporterDropping',
  'HealthspanTargetDown',
];

function run(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(promtool!, args, { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** A rules file with one recording rule per query (YAML: JSON strings are valid scalars). */
function rulesFile(rules: { record: string; expr: string }[]): string {
  const lines = ['groups:', '  - name: generated', '    rules:'];
  for (const r of rules) lines.push(`      - record: ${r.record}`, `        expr: ${JSON.stringify(r.expr)}`);
  return `${lines.join('\n')}\n`;
}

describe('Grafana dashboard docs/grafana/healthspan.json', () => {
  const d = loadDashboard();
  const panels = queryPanels(d);

  it('is an importable dashboard: schemaVersion >= 39, a DS_PROMETHEUS input, datasource/service/job/instance variables', () => {
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(d.uid).toBe('healthspan');
    // Prometheus is the only required input: Tempo is an optional variable, not an import input.
    expect(d.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(JSON.stringify(vars.datasource)).toContain('${DS_PROMETHEUS}');
    for (const name of ['service', 'job', 'instance']) {
      expect(vars[name], `variable ${name}`).toMatchObject({ type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' } });
      expect(labelValuesQuery(vars[name])?.selector, `variable ${name}`).toMatch(/^target_info\{/);
    }
    expect(labelValuesQuery(vars.service)?.label).toBe('service_name');
    expect(labelValuesQuery(vars.job)?.label).toBe('job');
    expect(labelValuesQuery(vars.instance)?.label).toBe('instance');
  });

  it('every Prometheus panel queries the ${datasource} variable with at least one non-empty expr, filtered by $job and $instance', () => {
    expect(panels.length).toBeGreaterThanOrEqual(20);
    const problems: string[] = [];
    const ids = new Set<number>();
    for (const p of d.panels.flatMap((x) => [x, ...(x.panels ?? [])])) {
      if (ids.has(p.id)) problems.push(`panel ${p.id} "${p.title}": duplicate id`);
      ids.add(p.id);
    }
    // Every panel is a Prometheus one, except the Tempo panel(s) checked in the next test.
    const others = panels.filter((p) => !isPrometheus(p.datasource));
    expect(others.map((p) => p.id)).toEqual(tempoPanels(d).map((p) => p.id));
    for (const p of panels.filter((x) => isPrometheus(x.datasource))) {
      const where = `panel ${p.id} "${p.title}"`;
      if (p.datasource?.uid !== '${datasource}') problems.push(`${where}: datasource is ${JSON.stringify(p.datasource)}`);
      if (!p.gridPos || p.gridPos.x + p.gridPos.w > 24) problems.push(`${where}: gridPos ${JSON.stringify(p.gridPos)}`);
      if (!p.targets?.length) problems.push(`${where}: no targets`);
      const refIds = new Set<string>();
      for (const t of p.targets ?? []) {
        if (!t.expr?.trim()) problems.push(`${where}/${t.refId}: empty expr`);
        if (refIds.has(t.refId)) problems.push(`${where}: duplicate refId ${t.refId}`);
        refIds.add(t.refId);
        if (t.datasource?.type !== 'prometheus' || t.datasource?.uid !== '${datasource}')
          problems.push(`${where}/${t.refId}: datasource is ${JSON.stringify(t.datasource)}`);
        // Every selector of a healthspan metric honours the variables.
        for (const m of (t.expr ?? '').matchAll(/\b([a-z_:][a-z0-9_:]*)\{([^}]*)\}/g)) {
          if (!m[2].includes('job=~"$job"') || !m[2].includes('instance=~"$instance"')) problems.push(`${where}/${t.refId}: ${m[0]} ignores $job/$instance`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('has trace links: a "Slow spans (Tempo)" panel with exactly { span.healthspan.slow = true } on an optional Tempo variable, and Jaeger search links', () => {
    const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
    // Optional: a data source variable (empty without Tempo), not an import input.
    expect(vars.tempo).toMatchObject({ type: 'datasource', query: 'tempo' });
    expect(vars.jaeger_url).toMatchObject({ type: 'textbox', query: 'http://localhost:16686' });

    const tempo = tempoPanels(d);
    expect(tempo.map((p) => p.title)).toEqual(['Slow spans (Tempo)']);
    const [panel] = tempo;
    expect(panel).toMatchObject({ type: 'table', datasource: { type: 'tempo', uid: '${tempo}' } });
    expect(panel.targets).toHaveLength(1);
    expect(panel.targets![0]).toMatchObject({ datasource: { type: 'tempo', uid: '${tempo}' }, queryType: 'traceql', query: '{ span.healthspan.slow = true }' });
    expect(panel.targets![0].expr).toBeUndefined();
    // It sits in a collapsed row, so a Grafana without Tempo shows no broken panel.
    const row = d.panels.find((p) => p.panels?.includes(panel)) as (typeof d.panels)[number] & { collapsed?: boolean };
    expect(row).toMatchObject({ type: 'row', collapsed: true });

    // Jaeger: search by service and the healthspan.slow tag ({"healthspan.slow":"true"}, URL-encoded).
    const slowTag = `tags=${encodeURIComponent(JSON.stringify({ 'healthspan.slow': 'true' }))}`;
    const jaegerSearch = '${jaeger_url:raw}/search?service=${service}';
    const dashboardLinks = d.links ?? [];
    expect(dashboardLinks.some((l) => l.url.startsWith(jaegerSearch) && l.url.includes(slowTag) && l.targetBlank)).toBe(true);
    const byTitle = (t: string) =>
      panels.find((p) => p.title === t) as (typeof panels)[number] & { fieldConfig?: { defaults?: { links?: { url: string }[] } }; description?: string };
    // A data link per row of the slowest routes (that route's operation), and on the alerts panel.
    const slowest = byTitle('Slowest routes (dashboard time range)');
    expect(slowest.fieldConfig?.defaults?.links?.[0]?.url).toContain('&operation=${__data.fields.Method}%20${__data.fields.Route}');
    const alerts = byTitle('Active alerts by rule and severity');
    expect(alerts.fieldConfig?.defaults?.links?.some((l) => l.url.startsWith(jaegerSearch) && l.url.includes(slowTag))).toBe(true);
    expect(alerts.description).toMatch(/exemplar trace id/);
    // No exemplars to show: the OpenTelemetry JS Prometheus exporter exposes none (docs/exporters.md).
    expect(panelQueries(d).length).toBeGreaterThan(0);
    for (const p of panels.filter((x) => isPrometheus(x.datasource))) {
      for (const t of p.targets ?? []) expect((t as typeof t & { exemplar?: boolean }).exemplar, `panel ${p.id}/${t.refId}`).toBe(false);
    }
    for (const url of [
      ...dashboardLinks.map((l) => l.url),
      ...panels.flatMap((p) => ((p as typeof slowest).fieldConfig?.defaults?.links ?? []).map((l) => l.url)),
    ]) {
      if (url.includes('jaeger_url')) expect(url, 'the Jaeger URL is not percent-encoded').toMatch(/^\$\{jaeger_url:raw\}\//);
    }
  });

  it('covers the panels the docs promise', () => {
    const all = panelQueries(d)
      .map((q) => q.expr)
      .join('\n');
    for (const metric of [
      'healthspan_health_score',
      'healthspan_health_component_score',
      'healthspan_alerts_active',
      'healthspan_alerts_total',
      'http_server_request_duration_count',
      'http_server_request_duration_bucket',
      'db_client_operation_duration_bucket',
      'db_client_operation_duration_count',
      'healthspan_cache_requests_total',
      'healthspan_cache_operation_duration_bucket',
      'healthspan_ws_connections_active',
      'healthspan_ws_messages_total',
      'nodejs_eventloop_delay_p99',
      'v8js_memory_heap_used',
      'healthspan_exporter_dropped_total',
    ]) {
      expect(all, metric).toContain(`${metric}{`);
    }
    for (const q of [0.5, 0.95, 0.99]) expect(all).toContain(`histogram_quantile(${q}, sum by (le, http_request_method, http_route)`);
  });
});

describe('the rules file docs/prometheus/healthspan-rules.yml', () => {
  it('has the alerts that mirror the in-process rules, each with a summary and a description', () => {
    const { alerts } = ruleNames();
    expect(alerts).toEqual(ALERTS);
    const text = readFileSync(RULES, 'utf8');
    const blocks = text.split(/^\s*- alert:/m).slice(1);
    for (const [i, block] of blocks.entries()) {
      expect(block, ALERTS[i]).toMatch(/\n\s+summary:/);
      expect(block, ALERTS[i]).toMatch(/\n\s+description:/);
      expect(block, ALERTS[i]).toMatch(/\n\s+severity:/);
    }
  });

  it('has a unit test per alert where it fires and one where it must not', () => {
    const tests = readFileSync(RULES_TEST, 'utf8');
    const cases = [...tests.matchAll(/alertname:\s*(\w+)\s*\n\s*exp_alerts:(\s*\[\])?/g)];
    for (const name of ALERTS) {
      const mine = cases.filter((c) => c[1] === name);
      expect(
        mine.some((c) => !c[2]),
        `${name} fires in some case`,
      ).toBe(true);
      expect(
        mine.some((c) => c[2]),
        `${name} has a case with exp_alerts: []`,
      ).toBe(true);
    }
  });
});

if (!promtool && IN_CI) {
  describe('promtool', () => {
    it('is installed (required when CI=true)', () => {
      throw new Error(missingMessage('promtool'));
    });
  });
}

describe.skipIf(!promtool)(promtool ? `promtool (${promtool})` : `promtool (${skipReason('promtool')})`, () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'healthspan-promtool-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('promtool check rules passes on the rules file', () => {
    const { code, out } = run(['check', 'rules', RULES]);
    expect(code, out).toBe(0);
    const { records, alerts } = ruleNames();
    expect(out).toContain(`SUCCESS: ${records.length + alerts.length} rules found`);
  });

  it('promtool test rules passes on the unit tests', () => {
    const { code, out } = run(['test', 'rules', RULES_TEST]);
    expect(code, out).toBe(0);
    expect(out).toContain('SUCCESS');
  });

  it('every dashboard query and variable selector is valid PromQL (promtool check rules on a generated file)', () => {
    const d = loadDashboard();
    const rules = panelQueries(d).map((q) => ({ record: q.record, expr: substitute(q.expr, { rateInterval: '5m', range: '1h' }) }));
    for (const v of d.templating.list) {
      const lv = labelValuesQuery(v);
      if (lv) rules.push({ record: `healthspan_dashboard:var_${v.name}`, expr: substitute(lv.selector, { rateInterval: '5m', range: '1h' }) });
    }
    for (const r of rules) expect(r.expr, `${r.record}: unsubstituted variable`).not.toContain('$');
    const file = join(tmp, 'dashboard-rules.yml');
    writeFileSync(file, rulesFile(rules));
    const { code, out } = run(['check', 'rules', file]);
    expect(code, out).toBe(0);
    expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('a broken query is caught (the check above can fail)', () => {
    const file = join(tmp, 'broken.yml');
    writeFileSync(
      file,
      rulesFile([{ record: 'healthspan_dashboard:broken', expr: 'histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_bucket[5m]))' }]),
    );
    const { code } = run(['check', 'rules', file]);
    expect(code).not.toBe(0);
  });
});
