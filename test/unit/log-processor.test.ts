import net from 'node:net';
import { SeverityNumber } from '@opentelemetry/api';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { afterEach, describe, expect, it } from 'vitest';
import type { OtlpProtocol } from '../../src/config/types.js';
import { DropCounter } from '../../src/exporters/dropped.js';
import { ExportLogRecordProcessor } from '../../src/exporters/log-processor.js';
import { createOtlpLogExporter } from '../../src/exporters/otlp.js';
import { Logger } from '../../src/log.js';
import { freePort as closedPort } from '../preload/child.ts';
import { startOtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function setup(
  endpoint: string,
  batch: Partial<{ maxQueueSize: number; maxExportBatchSize: number; exportTimeoutMillis: number; scheduledDelayMillis: number }> = {},
  protocol: OtlpProtocol = 'http/protobuf',
) {
  const lines: string[] = [];
  const dropped = new DropCounter();
  const processor = new ExportLogRecordProcessor({
    scheduledDelayMillis: 50,
    exportTimeoutMillis: 2000,
    maxQueueSize: 100,
    maxExportBatchSize: 10,
    ...batch,
    exporter: createOtlpLogExporter({ endpoint, protocol, headers: { 'x-tenant': 'acme' }, timeoutMillis: 1000, compression: 'none' }),
    dropped,
    log: new Logger('warn', 60_000, (l) => lines.push(l)),
    destination: endpoint,
  });
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'log-test' }), processors: [processor] });
  cleanups.push(() => provider.shutdown());
  const logger = provider.getLogger('healthspan', '1.0.0');
  const emit = (n: number) => {
    for (let i = 0; i < n; i++)
      logger.emit({ eventName: 'healthspan.alert', body: `record-${i}`, severityNumber: SeverityNumber.WARN, severityText: 'WARN', attributes: { i } });
  };
  return { processor, dropped, lines, emit };
}

/** Accepts connections and never answers. */
async function hangingServer(): Promise<string> {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => srv.close(r));
  });
  return `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}/v1/logs`;
}

describe('ExportLogRecordProcessor with createOtlpLogExporter', () => {
  it.each(['http/protobuf', 'http/json', 'grpc'] as const)('exports every record in batches over %s to a real receiver', async (protocol) => {
    const receiver = await startOtlpReceiver({ protocol: protocol === 'grpc' ? 'grpc' : 'http' });
    cleanups.push(() => receiver.close());
    const endpoint = protocol === 'grpc' ? receiver.url : `${receiver.url}/v1/logs`;
    const { processor, dropped, emit } = setup(endpoint, {}, protocol);
    emit(25);
    await processor.forceFlush();
    expect(receiver.logs.map((l) => l.body).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `record-${i}`).sort());
    expect(receiver.logs[0]).toMatchObject({
      eventName: 'healthspan.alert',
      severityNumber: 13,
      severityText: 'WARN',
      resource: { 'service.name': 'log-test' },
      scope: { name: 'healthspan' },
    });
    expect(receiver.requests.map((r) => r.protocol)).toEqual([protocol, protocol, protocol]);
    expect(receiver.requests.every((r) => (r.headers as Record<string, unknown>)['x-tenant'] === 'acme')).toBe(true);
    expect(dropped.total()).toBe(0);
  });

  it('drops records past the queue bound and counts them as logs/queue_full', async () => {
    const url = await hangingServer();
    const { processor, dropped, emit, lines } = setup(url, { maxQueueSize: 20, maxExportBatchSize: 10, exportTimeoutMillis: 60_000 });
    emit(10); // one full batch: its export hangs, so nothing else leaves
    emit(25); // 20 wait in the queue, 5 are dropped
    expect(processor.queued).toBe(20);
    expect(dropped.entries()).toEqual([{ signal: 'logs', reason: 'queue_full', value: 5 }]);
    expect(lines).toEqual([
      'healthspan: warning: log record queue full (20, OTEL_BLRP_MAX_QUEUE_SIZE); log records are dropped and counted in healthspan.exporter.dropped (1 so far)',
    ]);
  });

  it('counts the records of failed exports as logs/export_failed, with one warning', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1/logs`;
    const { processor, dropped, emit, lines } = setup(url);
    for (let round = 0; round < 3; round++) {
      emit(4);
      await processor.forceFlush();
    }
    expect(dropped.entries()).toEqual([{ signal: 'logs', reason: 'export_failed', value: 12 }]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^healthspan: warning: log export to ${url} failed \\(.*ECONNREFUSED.*\\); 4 log records dropped, 4 in total \\(healthspan.exporter.dropped\\)$`,
      ),
    );
  });

  it('a receiver answering 503 costs the records, counted', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    receiver.setFailure('http503');
    const { processor, dropped, emit } = setup(`${receiver.url}/v1/logs`);
    emit(3);
    await processor.forceFlush();
    expect(dropped.total('logs')).toBe(3);
    expect(receiver.logs).toEqual([]);
  });

  it('exports what is queued on shutdown and drops nothing', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const { processor, dropped, emit } = setup(`${receiver.url}/v1/logs`, { scheduledDelayMillis: 60_000, maxExportBatchSize: 100 });
    emit(7);
    await Promise.all([processor.shutdown(), processor.shutdown()]);
    expect(receiver.logs).toHaveLength(7);
    emit(3);
    expect(processor.queued).toBe(0);
    expect(dropped.total()).toBe(0);
  });
});
