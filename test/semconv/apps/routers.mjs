// express 5, fastify 5 and koa 3 (with @koa/router) in one process, each with a route and a
// request no route matches; socket.io on a plain server. Prints `listening <port>` (the
// express port) once its traffic is done, and serves until stopped.
import http from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import Router from '@koa/router';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';

const ex = express();
ex.get('/items/:id', (req, res) => res.json({ id: req.params.id }));
const exServer = await new Promise((r) => {
  const s = ex.listen(0, '127.0.0.1', () => r(s));
});

const fa = Fastify();
fa.get('/fitems/:id', async (req) => ({ id: req.params.id }));
await fa.listen({ port: 0, host: '127.0.0.1' });

const koa = new Koa();
const router = new Router();
router.get('/kitems/:id', (ctx) => {
  ctx.body = { id: ctx.params.id };
});
koa.use(router.routes());
const koaServer = await new Promise((r) => {
  const s = koa.listen(0, '127.0.0.1', () => r(s));
});

const sioServer = http.createServer();
const sio = new Server(sioServer, { transports: ['websocket'] });
sio.on('connection', (socket) => socket.on('hello', (name, ack) => ack(`hi ${name}`)));
await new Promise((r) => sioServer.listen(0, '127.0.0.1', r));

const url = (server, path) => `http://127.0.0.1:${server.address().port}${path}`;
for (const [server, path] of [
  [exServer, '/items/7'],
  [exServer, '/missing'],
  [fa.server, '/fitems/7'],
  [fa.server, '/fmissing'],
  [koaServer, '/kitems/7'],
  [koaServer, '/kmissing'],
]) {
  await fetch(url(server, path)).then((r) => r.text());
}
const client = connect(url(sioServer, ''), { transports: ['websocket'] });
await new Promise((resolve) => client.emit('hello', 'you', resolve));
client.close();

// SIGTERM is left to healthspan: it flushes, then exits (it is the only listener).
process.stdout.write(`listening ${exServer.address().port}\n`);
