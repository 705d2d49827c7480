// ioredis against the local Redis: promise and callback replies, errors, pipelines, signatures.
import Redis from 'ioredis';
import { attempt, describeError, report, sig } from './probe.mjs';

const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
const key = `eq:ioredis:${process.pid}`;

const result = {
  connect: await attempt(async () => (await redis.connect()) ?? 'connected'),
  set: await attempt(() => redis.set(key, 'v1', 'EX', 30)),
  get: await attempt(() => redis.get(key)),
  callback: await attempt(() => new Promise((resolve, reject) => redis.get(key, (err, v) => (err ? reject(err) : resolve(v))))),
  wrongType: await attempt(() => redis.hget(key, 'f')),
  pipeline: await attempt(async () =>
    (await redis.pipeline().incr(`${key}:n`).incr(`${key}:n`).hget(key, 'f').exec()).map(([err, v]) => [err && describeError(err), v]),
  ),
  multi: await attempt(() => redis.multi().incr(`${key}:n`).get(`${key}:n`).exec()),
  call: await attempt(() => redis.call('ECHO', 'raw')),
  unknown: await attempt(() => redis.call('NOSUCHCOMMAND')),
  del: await attempt(() => redis.del(key, `${key}:n`)),
  signatures: {
    get: sig(redis.get),
    set: sig(redis.set),
    sendCommand: sig(redis.sendCommand),
    call: sig(redis.call),
    connect: sig(redis.connect),
    pipeline: sig(redis.pipeline),
  },
};
await redis.quit();
report(result);
