// koa 3 + @koa/router: use() validation, middleware order, errors, signatures.
import Koa from 'koa';
import Router from '@koa/router';
import { attempt, names, report, sig } from './probe.mjs';

const order = [];
const app = new Koa();
async function timing(ctx, next) {
  order.push(`in ${ctx.path}`);
  await next();
  order.push(`out ${ctx.path}`);
}
const returned = app.use(timing);
const router = new Router();
router.get('/items/:id', function item(ctx) {
  ctx.body = { id: ctx.params.id, matched: ctx._matchedRoute };
});
router.get('/teapot', (ctx) => ctx.throw(418, 'short and stout'));
router.get('/throws', () => {
  throw new Error('thrown in a route');
});
router.get('/sync-value', () => 'ignored');
app.use(router.routes()).use(router.allowedMethods());
const errors = [];
app.on('error', (err) => errors.push(err.message));

const server = await new Promise((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});
const base = `http://127.0.0.1:${server.address().port}`;
async function call(path, init) {
  const res = await fetch(base + path, init);
  return { status: res.status, type: res.headers.get('content-type'), headers: names(res.headers), body: await res.text() };
}

const result = {
  useReturnsApp: returned === app,
  requests: {
    item: await call('/items/seven'),
    teapot: await call('/teapot'),
    throws: await call('/throws'),
    syncValue: await call('/sync-value'),
    notFound: await call('/nope'),
    notAllowed: await call('/items/seven', { method: 'DELETE' }),
  },
  order,
  errors,
  useErrors: Object.fromEntries(
    await Promise.all([null, 0, false, 'x', undefined, {}].map(async (v) => [JSON.stringify(v) ?? 'undefined', await attempt(() => new Koa().use(v))])),
  ),
  signatures: {
    use: sig(app.use),
    callback: sig(app.callback),
    listen: sig(app.listen),
    routes: sig(router.routes),
    middlewareCount: app.middleware.length,
  },
};
server.close();
report(result);
