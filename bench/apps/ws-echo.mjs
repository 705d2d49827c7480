// Benchmark app: a `ws` WebSocketServer on an http server that echoes every message back
// (text stays text, binary stays binary). Plain HTTP GET / → "ws-echo", which is what the
// orchestrator polls for startup. Prints its port once listening.
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { serve } from './serve.cjs';

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ws-echo');
});

const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});

// Upgraded sockets are no longer the http server's connections: close them ourselves.
serve(server, () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
});
