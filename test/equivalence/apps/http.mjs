// node:http (server and client) and fetch (undici): results, errors, header sets on the wire.
import http from 'node:http';
import net from 'node:net';
import { attempt, names, report, sig, withoutPorts } from './probe.mjs';

const received = {};
const server = http.createServer((req, res) => {
  received[req.url] = names(req.headers);
  if (req.url.startsWith('/json')) {
    const before = res.getHeaderNames();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ before, listeners: server.listenerCount('request') }));
  } else if (req.url.startsWith('/fail')) {
    res.writeHead(503, { 'retry-after': '1' }).end('down');
  } else {
    req.resume();
    req.on('end', () => res.end('ok'));
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
const closed = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const norm = withoutPorts([port, closed]);
const base = `http://127.0.0.1:${port}`;

function get(path, options = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, message: res.statusMessage, headers: names(res.headers), body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const result = {
  signatures: {
    createServer: sig(http.createServer),
    request: sig(http.request),
    get: sig(http.get),
    serverEmit: sig(http.Server.prototype.emit),
    serverOn: sig(http.Server.prototype.on),
    resEnd: sig(http.ServerResponse.prototype.end),
    fetch: sig(globalThis.fetch),
  },
  http: {
    json: await attempt(() => get('/json-http', { headers: { 'x-app': '1' } })),
    post: await attempt(() => get('/post-http', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'abc' })),
    fail: await attempt(() => get('/fail-http')),
    refused: await attempt(() => new Promise((resolve, reject) => http.get(`http://127.0.0.1:${closed}/`, resolve).on('error', reject)), norm),
    badHeader: await attempt(() => http.request(base, { headers: { 'x-bad': 'a\nb' } }), norm),
    badUrl: await attempt(() => http.get('not a url'), norm),
    requestReturns: (() => {
      const req = http.get(`${base}/ignored-http`, (res) => res.resume());
      const seen = { isClientRequest: req instanceof http.ClientRequest, path: req.path, method: req.method, headerNames: req.getHeaderNames() };
      return seen;
    })(),
  },
  fetch: {
    json: await attempt(async () => {
      const res = await fetch(`${base}/json-fetch`, { headers: { 'x-app': '1' } });
      return { status: res.status, headers: names(res.headers), body: await res.json() };
    }),
    fail: await attempt(async () => {
      const res = await fetch(`${base}/fail-fetch`);
      return { status: res.status, statusText: res.statusText, body: await res.text() };
    }),
    refused: await attempt(() => fetch(`http://127.0.0.1:${closed}/`), norm),
    badUrl: await attempt(() => fetch('not a url'), norm),
    aborted: await attempt(() => fetch(`${base}/json-abort`, { signal: AbortSignal.abort() }), norm),
  },
};
await new Promise((r) => setTimeout(r, 50)); // the ignored request above
result.received = received;
server.close();
report(result);
