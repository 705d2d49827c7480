// node-redis (redis 6) against the local Redis: replies, errors, multi, signatures.
import { createClient } from 'redis';
import { attempt, report, sig } from './probe.mjs';

const client = createClient({ url: 'redis://127.0.0.1:6379' });
const errors = [];
client.on('error', (e) => errors.push(e.message));
const key = `eq:redis:${process.pid}`;

const result = {
  connect: await attempt(async () => (await client.connect()) === client),
  set: await attempt(() => client.set(key, 'v1', { EX: 30 })),
  get: await attempt(() => client.get(key)),
  missing: await attempt(() => client.get(`${key}:missing`)),
  wrongType: await attempt(() => client.hGet(key, 'f')),
  multi: await attempt(() => client.multi().incr(`${key}:n`).incr(`${key}:n`).get(`${key}:n`).exec()),
  sendCommand: await attempt(() => client.sendCommand(['ECHO', 'raw'])),
  unknown: await attempt(() => client.sendCommand(['NOSUCHCOMMAND'])),
  del: await attempt(() => client.del([key, `${key}:n`])),
  signatures: {
    get: sig(client.get),
    set: sig(client.set),
    sendCommand: sig(client.sendCommand),
    multi: sig(client.multi),
    connect: sig(client.connect),
  },
};
await client.quit();
result.errors = errors;
report(result);
