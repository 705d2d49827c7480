import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { findSample, parsePrometheusText, scrape } from '../../scripts/dev/prometheus.mjs';

const EXPOSITION = [
  '# HELP http_requests_total Requests served.',
  '# TYPE http_requests_total counter',
  'http_requests_total{method="GET",path="C:\\\\dir\\\\file",msg="say \\"hi\\"\\nbye"} 1027 1395066363000',
  'http_requests_total{method="POST",} 3',
  '',
  '# TYPE http_request_duration_seconds histogram',
  'http_request_duration_seconds_bucket{le="0.05"} 24054',
  'http_request_duration_seconds_bucket{le="0.5"} 129389',
  'http_request_duration_seconds_bucket{le="+Inf"} 144320',
  'http_request_duration_seconds_sum 53423.5',
  'http_request_duration_seconds_count 144320',
  '# TYPE odd gauge',
  'odd{kind="nan"} NaN',
  'odd{kind="neg_inf"} -Inf',
  'odd{ kind = "exp" , unit="{request}"} 1.5e-3',
  '{"utf8.metric", "le.gal"="x"} 7',
  'target_info{service_name="svc"} 1\r',
  '# EOF',
].join('\n');

describe('parsePrometheusText', () => {
  const samples = parsePrometheusText(EXPOSITION);

  it('returns every sample in order with unescaped labels, special values and timestamps', () => {
    expect(samples.map((s) => s.name)).toEqual([
      'http_requests_total',
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'http_request_duration_seconds_bucket',
      'http_request_duration_seconds_bucket',
      'http_request_duration_seconds_sum',
      'http_request_duration_seconds_count',
      'odd',
      'odd',
      'odd',
      'utf8.metric',
      'target_info',
    ]);
    expect(samples[0]).toEqual({
      name: 'http_requests_total',
      labels: { method: 'GET', path: 'C:\\dir\\file', msg: 'say "hi"\nbye' },
      value: 1027,
      timestamp: 1395066363000,
    });
    expect(samples[0]).toHaveProperty('timestamp');
    expect(samples[1]).toEqual({ name: 'http_requests_total', labels: { method: 'POST' }, value: 3 });
    expect(samples[1]).not.toHaveProperty('timestamp');
    expect(samples[4]).toEqual({ name: 'http_request_duration_seconds_bucket', labels: { le: '+Inf' }, value: 144320 });
    expect(samples[5]).toEqual({ name: 'http_request_duration_seconds_sum', labels: {}, value: 53423.5 });
    expect(samples[7].value).toBeNaN();
    expect(samples[8].value).toBe(-Infinity);
    expect(samples[9]).toEqual({ name: 'odd', labels: { kind: 'exp', unit: '{request}' }, value: 0.0015 });
    expect(samples[10]).toEqual({ name: 'utf8.metric', labels: { 'le.gal': 'x' }, value: 7 });
    expect(samples[11]).toEqual({ name: 'target_info', labels: { service_name: 'svc' }, value: 1 });
  });

  it('findSample matches a name and a subset of labels', () => {
    expect(findSample(samples, 'http_request_duration_seconds_bucket', { le: '0.5' })?.value).toBe(129389);
    expect(findSample(samples, 'http_requests_total')?.labels.method).toBe('GET');
    expect(findSample(samples, 'http_requests_total', { method: 'POST' })?.value).toBe(3);
    expect(findSample(samples, 'http_requests_total', { method: 'PUT' })).toBeUndefined();
    expect(findSample(samples, 'missing')).toBeUndefined();
  });

  it('throws with the line number on malformed lines instead of skipping them', () => {
    expect(() => parsePrometheusText('ok 1\nbad{a="x} 1')).toThrow(/line 2: unterminated/);
    expect(() => parsePrometheusText('no_value')).toThrow(/line 1/);
    expect(() => parsePrometheusText('m{a="1",a="2"} 1')).toThrow(/duplicate label a/);
    expect(() => parsePrometheusText('m 0x10')).toThrow(/invalid sample value/);
    expect(() => parsePrometheusText('m 1 2 3')).toThrow(/line 1/);
    expect(() => parsePrometheusText('m{a=1} 1')).toThrow(/expected "/);
  });
});

describe('scrape', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  async function serve(handler: http.RequestListener) {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  }

  it('parses what the real PrometheusExporter serves, histograms and escaped labels included', async () => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter], resource: resourceFromAttributes({ 'service.name': 'svc' }) });
    cleanups.push(() => provider.shutdown());
    const meter = provider.getMeter('scope', '1.0');
    meter.createCounter('http.requests', { unit: '{request}' }).add(3, { route: '/a "q"\\x\ny' });
    const duration = meter.createHistogram('http.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1] } });
    duration.record(0.5, { route: '/a' });
    duration.record(2, { route: '/a' });
    const url = await serve((req, res) => exporter.getMetricsRequestHandler(req, res));

    const { status, contentType, samples, text } = await scrape(url);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain/);
    expect(text).toContain('# TYPE http_duration histogram');
    const scopeLabels = { otel_scope_name: 'scope', otel_scope_version: '1.0' };
    expect(findSample(samples, 'http_requests_total')).toEqual({ name: 'http_requests_total', labels: { route: '/a "q"\\x\ny', ...scopeLabels }, value: 3 });
    expect(findSample(samples, 'http_duration_bucket', { le: '0.1' })?.value).toBe(0);
    expect(findSample(samples, 'http_duration_bucket', { le: '1' })?.value).toBe(1);
    expect(findSample(samples, 'http_duration_bucket', { le: '+Inf' })?.value).toBe(2);
    expect(findSample(samples, 'http_duration_sum', { route: '/a' })?.value).toBe(2.5);
    expect(findSample(samples, 'http_duration_count', { route: '/a' })?.value).toBe(2);
    expect(findSample(samples, 'target_info')?.labels).toMatchObject({ service_name: 'svc' });
  });

  it('reports error answers without parsing their body', async () => {
    const url = await serve((_req, res) => res.writeHead(503, { 'content-type': 'text/html' }).end('<h1>down</h1>'));
    expect(await scrape(url)).toEqual({ status: 503, contentType: 'text/html', samples: [], text: '<h1>down</h1>' });
  });
});
