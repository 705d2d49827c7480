// A local OTLP receiver (HTTP json/protobuf, or gRPC) for the end-to-end tests, the benchmark
// sink and the demo. Types: otlp-receiver.d.mts. Bodies are decoded by otlp-decode.mjs.
import http from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { decodeOtlpRequest } from './otlp-decode.mjs';

export { decodeOtlpProtobuf } from './otlp-decode.mjs';

const HTTP_PATHS = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };
const GRPC_PATHS = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const PAST = new Date(0).toUTCString();
const errorMessage = (e) => (e instanceof Error ? e.message : String(e));

/**
 * Starts a receiver on 127.0.0.1 (any free port unless `port`).
 * @param {import('./otlp-receiver.d.mts').OtlpReceiverOptions} [options]
 * @returns {Promise<import('./otlp-receiver.d.mts').OtlpReceiver>}
 */
export async function startOtlpReceiver(options = {}) {
  const protocol = options.protocol ?? 'http';
  const host = options.host ?? '127.0.0.1';
  const countOnly = options.countOnly ?? false;
  const limit = options.limit ?? Infinity;
  let failure = 'none';
  const waiters = new Set();
  const notify = () => {
    for (const w of waiters) if (w()) waiters.delete(w);
  };
  function waitUntil(probe, timeoutMs, describe) {
    return new Promise((resolve, reject) => {
      const settle = () => {
        try {
          const v = probe();
          if (v === undefined) return false;
          resolve(v);
        } catch (e) {
          reject(e);
        }
        clearTimeout(timer);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(settle);
        reject(new Error(describe()));
      }, timeoutMs);
      if (!settle()) waiters.add(settle);
    });
  }
  // Resolves with the whole list once `count` reaches the wanted number or the predicate holds.
  function waitForList(list, count, want, timeoutMs, what, seen) {
    const done = typeof want === 'number' ? () => count() >= want : () => want(list);
    const wanted = typeof want === 'number' ? `${want} ${what}(s)` : `${what}s matching the predicate`;
    return waitUntil(
      () => (done() ? list : undefined),
      timeoutMs,
      () => `Timed out after ${timeoutMs}ms waiting for ${wanted}; received ${count()}: [${seen()}]${errorsNote()}`,
    );
  }
  const errorsNote = () => (r.errors.length ? `; decode errors: ${r.errors.slice(-3).join(' | ')}` : '');
  const names = (xs) => {
    const all = [...new Set(xs.map((x) => x.name))];
    return all.length > 50 ? `${all.slice(0, 50).join(', ')}, ...` : all.join(', ');
  };
  // Past `limit` items a list keeps its first ones: a long-running demo stays bounded.
  const keep = (list, items) => {
    for (const x of items) {
      // not push(...items): huge batches would overflow the stack
      if (list.length >= limit) return;
      list.push(x);
    }
  };

  // Decodes a whole body before recording anything, so a bad body never leaves half a request behind.
  function ingest(signal, json, body) {
    const decoded = decodeOtlpRequest(signal, json, body, countOnly);
    if (decoded.count !== undefined) r.spanCount += decoded.count;
    if (decoded.spans) {
      keep(r.spans, decoded.spans);
      r.spanCount += decoded.spans.length;
    }
    if (decoded.metrics) keep(r.metrics, decoded.metrics);
    if (decoded.logs) keep(r.logs, decoded.logs);
    notify();
  }

  async function onHttp(req, res) {
    const reply = (status, body, type = 'text/plain', headers = {}) => {
      if (!res.headersSent && !res.destroyed) res.writeHead(status, { 'content-type': type, ...headers }).end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    const signal = HTTP_PATHS[path];
    if (!signal) return reply(404, `no OTLP endpoint at ${path}`);
    if (req.method !== 'POST') return reply(405, 'POST only');
    const contentType = String(req.headers['content-type'] ?? '');
    const mime = contentType.split(';')[0].trim().toLowerCase();
    const json = mime === 'application/json';
    if (!json && mime !== 'application/x-protobuf') {
      keep(r.errors, [`${path}: unsupported content-type ${JSON.stringify(contentType)}`]);
      return reply(415, 'unsupported content-type');
    }
    keep(r.requests, [{ path, contentType, headers: req.headers, protocol: json ? 'http/json' : 'http/protobuf' }]);
    if (failure === 'reset') return void req.socket.destroy();
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    // A Retry-After date in the past makes the exporters retry at once instead of backing off for
    // seconds ("0" works too, but the 0.301 exporters turn it into setTimeout(-1) and Node warns).
    if (failure === 'http503') return reply(503, 'receiver is failing on purpose', 'text/plain', { 'retry-after': PAST });
    try {
      const raw = Buffer.concat(chunks);
      const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
      const body = encoding === 'gzip' ? await gunzip(raw) : encoding === 'deflate' ? await inflate(raw) : encoding === 'identity' ? raw : undefined;
      if (!body) throw new Error(`unsupported content-encoding ${encoding}`);
      ingest(signal, json, body);
    } catch (e) {
      keep(r.errors, [`${path} (${mime}): ${errorMessage(e)}`]);
      return reply(400, errorMessage(e));
    }
    // An empty Export*ServiceResponse in the request's encoding.
    return json ? reply(200, '{}', 'application/json') : reply(200, '', 'application/x-protobuf');
  }

  let port;
  let stop;
  if (protocol === 'grpc') {
    ({ port, stop } = await listenGrpc(host, options.port ?? 0, (signal, call, callback, grpc) => {
      const headers = { 'content-type': 'application/grpc' };
      for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
      keep(r.requests, [{ path: GRPC_PATHS[signal], contentType: 'application/grpc', headers, protocol: 'grpc' }]);
      if (failure === 'reset' && destroyGrpcConnection(call)) return;
      if (failure !== 'none') return callback({ code: grpc.status.UNAVAILABLE, details: 'receiver is failing on purpose' });
      try {
        ingest(signal, false, call.request);
      } catch (e) {
        keep(r.errors, [`${GRPC_PATHS[signal]}: ${errorMessage(e)}`]);
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: errorMessage(e) });
      }
      callback(null, Buffer.alloc(0));
    }));
  } else {
    const server = http.createServer((req, res) => {
      onHttp(req, res).catch((e) => {
        keep(r.errors, [`${req.url}: ${errorMessage(e)}`]);
        res.destroy();
      });
    });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = server.address().port;
    stop = () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
  }

  const r = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    protocol,
    spans: [],
    metrics: [],
    logs: [],
    requests: [],
    errors: [],
    spanCount: 0,
    waitForSpans: (predicate, timeoutMs = 10_000) =>
      waitForList(
        r.spans,
        () => r.spanCount,
        predicate,
        timeoutMs,
        'span',
        () => names(r.spans),
      ),
    waitForLogs: (predicate, timeoutMs = 10_000) =>
      waitForList(
        r.logs,
        () => r.logs.length,
        predicate,
        timeoutMs,
        'log',
        () => names(r.logs.map((l) => ({ name: JSON.stringify(l.body) }))),
      ),
    waitForMetric(name, timeoutMs = 10_000) {
      return waitUntil(
        () => r.metrics.findLast((m) => m.name === name),
        timeoutMs,
        () => `Timed out after ${timeoutMs}ms waiting for metric ${name}; received: [${names(r.metrics)}]${errorsNote()}`,
      );
    },
    setFailure(mode) {
      failure = mode;
    },
    clear() {
      r.spans.length = 0;
      r.metrics.length = 0;
      r.logs.length = 0;
      r.requests.length = 0;
      r.errors.length = 0;
      r.spanCount = 0;
    },
    // Pending waits are left to their own timeouts, which reject with what was received.
    close: () => stop(),
  };
  return r;
}

/** A gRPC server with the three Export methods; @grpc/grpc-js is loaded only for it. */
async function listenGrpc(host, wantedPort, onExport) {
  const loaded = await import('@grpc/grpc-js');
  const grpc = loaded.default ?? loaded;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const raw = (b) => b; // the exporters send pre-serialized bytes; decode ourselves
  for (const signal of Object.keys(GRPC_PATHS)) {
    const method = {
      path: GRPC_PATHS[signal],
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    };
    server.addService({ Export: method }, { Export: (call, callback) => onExport(signal, call, callback, grpc) });
  }
  const address = host.includes(':') ? `[${host}]:${wantedPort}` : `${host}:${wantedPort}`;
  const port = await new Promise((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, stop: async () => server.forceShutdown() };
}

// grpc-js has no public way to drop a connection mid-call; its base call object holds the HTTP/2
// stream, so walk the interceptor chain to it. Returns false (caller answers UNAVAILABLE) if absent.
function destroyGrpcConnection(call) {
  let c = call.call;
  for (let i = 0; c && i < 10; i++, c = c.nextCall) {
    if (c.stream?.session) {
      c.stream.session.destroy();
      return true;
    }
  }
  return false;
}
