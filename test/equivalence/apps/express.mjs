// express 5: `next` identity, name and length; res.format(); errors; function signatures.
import express from 'express';
import { attempt, names, report, sig } from './probe.mjs';

const seen = {};
const app = express();
app.use(function identity(req, _res, next) {
  seen.middlewareNext = { isReqNext: next === req.next, name: next.name, length: next.length };
  next();
});
const api = express.Router();
api.use(function nested(req, _res, next) {
  seen.nestedNext = { isReqNext: next === req.next, name: next.name, length: next.length };
  next();
});
api.get('/items/:id', function item(req, res, next) {
  seen.routeNext = { isReqNext: next === req.next, name: next.name, length: next.length };
  res.json({ id: req.params.id, baseUrl: req.baseUrl, route: req.route.path });
});
app.use('/api', api);
// res.format() hands req.next to its handlers (express' own test/res.format.js).
app.use('/format', (req, res, next) => {
  res.format({
    'text/plain': () => res.send('text'),
    default: (a, b, c) => {
      seen.formatDefault = { req: a === req, res: b === res, nextIsReqNext: c === req.next, nextIsNext: c === next };
      res.status(406).type('text/x-default').send('default');
    },
  });
});
app.use('/strict-format', (_req, res) => res.format({ 'text/plain': () => res.send('text') }));
app.get('/throws', () => {
  throw new Error('thrown in a handler');
});
app.get('/next-error', (_req, _res, next) => next(new Error('passed to next')));
app.get(
  '/skip',
  (_req, _res, next) => next('route'),
  (_req, res) => res.send('not reached'),
);
app.get('/skip', (_req, res) => res.send('second route'));
app.get('/async-reject', async () => {
  throw new Error('rejected');
});
app.use(function errors(err, _req, res, next) {
  seen.errorNext = { name: next.name, length: next.length };
  res.status(500).json({ message: err.message, handlerLength: errors.length });
});

const server = await new Promise((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});
const base = `http://127.0.0.1:${server.address().port}`;
async function call(path, headers = {}) {
  const res = await fetch(base + path, { headers });
  return { status: res.status, type: res.headers.get('content-type'), headers: names(res.headers), body: await res.text() };
}

const result = {
  requests: {
    item: await call('/api/items/seven'),
    formatText: await call('/format', { accept: 'text/plain' }),
    formatDefault: await call('/format', { accept: 'image/png' }),
    strictFormat: await call('/strict-format', { accept: 'image/png' }),
    throws: await call('/throws'),
    nextError: await call('/next-error'),
    skip: await call('/skip'),
    asyncReject: await call('/async-reject'),
    notFound: await call('/nope'),
  },
  seen,
  useErrors: Object.fromEntries([null, 0, 'x', undefined].map((v) => [String(v), attempt(() => express().use(v))])),
  signatures: {
    appUse: sig(app.use),
    appGet: sig(app.get),
    appRoute: sig(app.route),
    routerUse: sig(express.Router.prototype?.use ?? express.Router().use),
    routerRoute: sig(express.Router().route),
    routerGet: sig(express.Router().get),
    layers: app.router.stack.map((l) => ({
      name: l.name,
      handle: sig(l.handle),
      keys: Object.keys(l.handle)
        .filter((k) => !k.startsWith('__'))
        .sort(),
    })),
  },
};
for (const [k, v] of Object.entries(result.useErrors)) result.useErrors[k] = await v;
server.close();
report(result);
