// A collector that accepts connections and never answers: each failed metric export is
// reported once — our warning with the count of dropped points — and never a second time by
// the SDK reader's own timeout ("metrics export timed out").
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, startApp, until } from './child.ts';

let hang: net.Server;
const sockets = new Set<net.Socket>();
beforeAll(async () => {
  hang = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => hang.close(r));
});

describe('a metric export that never gets an answer', () => {
  it('is reported once per failure, by healthspan with its count, not again by the SDK reader', async () => {
    const port = (hang.address() as AddressInfo).port;
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      // Every warning kind may print once per 200 ms: a second report of one failure would show.
      HEALTHSPAN_WARN_INTERVAL: '200',
    });
    try {
      await until('three failed exports', () => (app.stderr().match(/metric export to \S+ failed/g) ?? []).length >= 3, 20_000);
      expect(app.stderr()).toMatch(
        new RegExp(
          `metric export to http://127\\.0\\.0\\.1:${port}\\S* failed \\(no answer within 450 ms\\); \\d+ data points dropped, \\d+ in total \\(healthspan\\.exporter\\.dropped\\)`,
        ),
      );
      expect(app.stderr()).not.toMatch(/timed out/i);
      expect(app.stderr()).not.toMatch(/PeriodicExportingMetricReader/);
    } finally {
      await app.stop();
    }
  });
});
