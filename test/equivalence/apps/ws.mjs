// ws 8: messages, close codes, handshake headers on the wire, errors, signatures.
import http from 'node:http';
import net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { attempt, names, report, sig, withoutPorts } from './probe.mjs';

const server = http.createServer((_req, res) => res.end('plain'));
const wss = new WebSocketServer({ server, path: '/echo' });
const handshakes = [];
wss.on('connection', (socket, req) => {
  handshakes.push(names(req.headers).filter((h) => h !== 'sec-websocket-key'));
  socket.on('message', (data, isBinary) => {
    if (String(data) === 'close') socket.close(4001, 'asked to');
    else socket.send(data, { binary: isBinary });
  });
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

function session() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`, { headers: { 'x-app': '1' } });
    const seen = { messages: [] };
    ws.on('upgrade', (res) => (seen.upgradeHeaders = names(res.headers).filter((h) => h !== 'sec-websocket-accept')));
    ws.on('open', () => {
      seen.protocol = ws.protocol;
      ws.send('hello');
      ws.send(Buffer.from([1, 2, 3]));
    });
    ws.on('message', (data, isBinary) => {
      seen.messages.push({ isBinary, data: isBinary ? [...data] : String(data) });
      if (seen.messages.length === 2) ws.send('close');
    });
    ws.on('close', (code, reason) => {
      seen.close = { code, reason: String(reason) };
      ws.send('late', (err) => {
        seen.sendAfterClose = err ? { error: err.constructor.name, message: err.message } : 'no error';
        resolve(seen);
      });
    });
    ws.on('error', reject);
  });
}

const result = {
  session: await attempt(session),
  refused: await attempt(
    () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${closed}/`);
        ws.on('error', reject);
        ws.on('open', resolve);
      }),
    norm,
  ),
  notFound: await attempt(
    () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`);
        ws.on('error', reject);
        ws.on('unexpected-response', (req, res) => {
          resolve({ status: res.statusCode });
          req.destroy();
        });
      }),
    norm,
  ),
  badUrl: await attempt(() => new WebSocket('http+nope://x'), norm),
  handshakes,
  signatures: {
    handleUpgrade: sig(WebSocketServer.prototype.handleUpgrade),
    completeUpgrade: sig(WebSocketServer.prototype.completeUpgrade),
    send: sig(WebSocket.prototype.send),
    close: sig(WebSocket.prototype.close),
    on: sig(WebSocket.prototype.on),
    emit: sig(WebSocket.prototype.emit),
  },
  listeners: { connection: wss.listenerCount('connection'), upgrade: server.listenerCount('upgrade') },
};
wss.close();
server.close();
report(result);
