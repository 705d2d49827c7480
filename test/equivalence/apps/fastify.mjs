// fastify 5 (instrumented by @fastify/otel): replies, errors, hooks, routes, signatures.
import Fastify from 'fastify';
import { attempt, names, report, sig } from './probe.mjs';

const app = Fastify();
const hooks = [];
app.addHook('onRequest', async (req) => {
  hooks.push(`onRequest ${req.routeOptions.url ?? '-'}`);
});
app.get('/items/:id', async (req) => ({ id: req.params.id, url: req.routeOptions.url }));
app.post('/created', async (req, reply) => reply.code(201).header('x-app', '1').send({ got: req.body }));
app.get('/throws', async () => {
  throw new Error('thrown in a route');
});
app.get('/status', async () => {
  const err = new Error('teapot');
  err.statusCode = 418;
  throw err;
});
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${app.server.address().port}`;
async function call(path, init) {
  const res = await fetch(base + path, init);
  return { status: res.status, type: res.headers.get('content-type'), headers: names(res.headers), body: await res.text() };
}

const result = {
  requests: {
    item: await call('/items/seven'),
    created: await call('/created', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' }),
    throws: await call('/throws'),
    status: await call('/status'),
    notFound: await call('/nope'),
    badJson: await call('/created', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
  },
  inject: await attempt(async () => {
    const res = await app.inject({ method: 'GET', url: '/items/9' });
    return { status: res.statusCode, body: res.body };
  }),
  hooks,
  routes: app.printRoutes({ commonPrefix: false }),
  duplicateRoute: await attempt(() => app.get('/items/:id', async () => 'again')),
  signatures: {
    get: sig(app.get),
    route: sig(app.route),
    addHook: sig(app.addHook),
    register: sig(app.register),
    inject: sig(app.inject),
  },
};
await app.close();
report(result);
