// A long-lived helper process (sink, load generator) spoken to over IPC with
// request/response messages matched by id.
import { stopChild } from '../../scripts/dev/supervisor.mjs';
import { spawnTracked } from './procs.mjs';

export async function startHelper(script, { cpu, pinning, name, readyTimeoutMs = 15_000, env }) {
  const child = spawnTracked([process.execPath, script], {
    cpu,
    pinning,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let nextId = 1;
  let exitError;

  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.on('message', (msg) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        resolve(msg);
      } else if (msg?.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${name}: ${msg.message}`));
      } else if (msg?.id != null && pending.has(msg.id)) {
        pending.get(msg.id).resolve(msg);
        pending.delete(msg.id);
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${name} could not be spawned: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      exitError = new Error(`${name} exited unexpectedly (code ${code}, signal ${signal})`);
      for (const p of pending.values()) p.reject(exitError);
      pending.clear();
      reject(exitError);
    });
  });

  return {
    ready,
    pid: child.pid,
    request(message) {
      if (exitError) return Promise.reject(exitError);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ ...message, id });
      });
    },
    close: () => stopChild(child, 'SIGTERM', 3000),
  };
}
