import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchQueue } from '../../src/exporters/batch-queue.js';
import { DropCounter } from '../../src/exporters/dropped.js';
import { ExportSpanProcessor } from '../../src/exporters/span-processor.js';
import { Logger } from '../../src/log.js';
import { freePort as closedPort } from '../preload/child.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function setup(
  url: string,
  batch: Partial<{ maxQueueSize: number; maxExportBatchSize: number; exportTimeoutMillis: number; scheduledDelayMillis: number }> = {},
  exporterTimeoutMillis = 1000,
) {
  const lines: string[] = [];
  const dropped = new DropCounter();
  const processor = new ExportSpanProcessor({
    scheduledDelayMillis: 50,
    exportTimeoutMillis: 2000,
    maxQueueSize: 100,
    maxExportBatchSize: 10,
    ...batch,
    exporter: new OTLPTraceExporter({ url, timeoutMillis: exporterTimeoutMillis }),
    dropped,
    log: new Logger('warn', 60_000, (l) => lines.push(l)),
    destination: url,
  });
  const provider = new TracerProvider({ spanProcessors: [processor] });
  cleanups.push(() => provider.shutdown());
  const tracer = provider.getTracer('test');
  const emit = (n: number) => {
    for (let i = 0; i < n; i++) tracer.startSpan(`span-${i}`).end();
  };
  return { processor, dropped, lines, emit, provider };
}

/** Accepts connections and never answers, until `answer()`: then every request gets a 200. */
async function hangingServer(): Promise<{ url: string; answer: () => void }> {
  const sockets: net.Socket[] = [];
  const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';
  let answering = false;
  const srv = net.createServer((s) => {
    sockets.push(s);
    if (answering) s.once('data', () => s.end(OK));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => srv.close(r));
  });
  const answer = () => {
    answering = true;
    for (const s of sockets) s.end(OK);
  };
  return { url: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}/v1/traces`, answer };
}

describe('ExportSpanProcessor', () => {
  it('exports every span in batches to a real receiver', async () => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const { processor, dropped, emit } = setup(`${receiver.url}/v1/traces`);
    emit(35);
    await processor.forceFlush();
    expect(receiver.spans.map((s) => s.name).sort()).toEqual(Array.from({ length: 35 }, (_, i) => `span-${i}`).sort());
    expect(receiver.requests.length).toBe(4);
    expect(dropped.total()).toBe(0);
  });

  it('drops spans past the queue bound and counts them', async () => {
    const { url } = await hangingServer();
    const { processor, dropped, emit, lines } = setup(url, { maxQueueSize: 20, maxExportBatchSize: 10, exportTimeoutMillis: 60_000 });
    emit(10); // one full batch: its export hangs, so nothing else leaves
    emit(25); // 20 wait in the queue, 5 are dropped
    expect(processor.queued).toBe(20);
    expect(dropped.entries()).toEqual([{ signal: 'traces', reason: 'queue_full', value: 5 }]);
    expect(lines.filter((l) => l.includes('span queue full'))).toHaveLength(1);
    expect(lines[0]).toContain('span queue full (20, OTEL_BSP_MAX_QUEUE_SIZE)');
  });

  it('counts the spans of failed exports when the collector is down, with one warning', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1/traces`;
    const { processor, dropped, emit, lines } = setup(url);
    for (let round = 0; round < 5; round++) {
      emit(10);
      await processor.forceFlush();
    }
    expect(dropped.entries()).toEqual([{ signal: 'traces', reason: 'export_failed', value: 50 }]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^healthspan: warning: trace export to ${url} failed \\(.*ECONNREFUSED.*\\); 10 spans dropped, 10 in total`));
  });

  it('gives up on an export that never answers after exportTimeoutMillis and counts it', async () => {
    const { url, answer } = await hangingServer();
    // The exporter's own timeout is far beyond the test's: only the processor's 300 ms can end
    // this flush, and the drop reason says which one did.
    const { processor, dropped, emit, lines } = setup(url, { exportTimeoutMillis: 300 }, 600_000);
    cleanups.push(answer); // first: the provider's shutdown waits for the abandoned request
    emit(5);
    await processor.forceFlush();
    expect(dropped.entries()).toEqual([{ signal: 'traces', reason: 'timeout', value: 5 }]);
    expect(lines.join('\n')).toContain('no answer within 300 ms');
  });

  it('exports what is queued on shutdown and is safe to call twice', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const { processor, emit } = setup(`${receiver.url}/v1/traces`, { scheduledDelayMillis: 60_000, maxExportBatchSize: 100 });
    emit(7);
    await Promise.all([processor.shutdown(), processor.shutdown()]);
    expect(receiver.spanCount).toBe(7);
    emit(3);
    expect(processor.queued).toBe(0);
  });

  it('ignores unsampled spans', async () => {
    const { processor, emit } = setup('http://127.0.0.1:1/v1/traces');
    const { AlwaysOffSampler } = await import('@opentelemetry/sdk-trace');
    const provider = new TracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [processor] });
    provider.getTracer('t').startSpan('x').end();
    expect(processor.queued).toBe(0);
    emit(0);
  });
});

describe('BatchQueue.add with prepare', () => {
  it('prepares only the items it admits: none past the bound, none after shutdown', async () => {
    const exported: string[][] = [];
    const dropped = new DropCounter();
    const queue = new BatchQueue<{ resource: ReturnType<typeof resourceFromAttributes>; name: string }>({
      exporter: {
        export: (items, done) => {
          exported.push(items.map((i) => i.name));
          done({ code: ExportResultCode.SUCCESS });
        },
        shutdown: () => Promise.resolve(),
      },
      signal: 'traces',
      wording: { item: 'span', items: 'spans', export: 'trace', queueVariable: 'OTEL_BSP_MAX_QUEUE_SIZE' },
      scheduledDelayMillis: 60_000,
      exportTimeoutMillis: 10_000,
      maxQueueSize: 3,
      maxExportBatchSize: 10,
      dropped,
      log: new Logger('warn', 60_000, () => {}),
      destination: 'test',
    });
    const resource = resourceFromAttributes({});
    const prepared: string[] = [];
    const prepare = (name: string) => {
      prepared.push(name);
      return { resource, name: name.toUpperCase() };
    };
    for (const name of ['a', 'b', 'c', 'd', 'e']) queue.add(name, prepare);
    expect(prepared).toEqual(['a', 'b', 'c']);
    expect(dropped.total('traces')).toBe(2);
    await queue.shutdown();
    queue.add('f', prepare);
    expect(prepared).toEqual(['a', 'b', 'c']);
    expect(exported).toEqual([['A', 'B', 'C']]);
  });
});
