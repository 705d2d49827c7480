// The example app: built from src/ when needed, started under the preload, watched, and stopped
// with the rest (scripts/dev/supervisor.mjs).
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cmdlineOf, isAlive, isShuttingDown, onCleanup, spawnChild, stopChild } from '../dev/supervisor.mjs';
import { DemoError, out, step } from './output.mjs';

export const APP = 'examples/demo/server.mjs';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.isFile()) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Runs tsup when dist/ is missing or older than src/. */
export function ensureBuilt(root) {
  const entry = path.join(root, 'dist', 'register', 'import.js');
  const srcDir = path.join(root, 'src');
  const tsupConfig = path.join(root, 'tsup.config.ts');
  const built = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
  const sources = Math.max(fs.existsSync(srcDir) ? newestMtime(srcDir) : 0, fs.existsSync(tsupConfig) ? fs.statSync(tsupConfig).mtimeMs : 0);
  if (built && built >= sources) return;
  step(built ? 'src/ changed since the last build: building (npx tsup)' : 'building healthspan (npx tsup)');
  // Its ~20 lines of progress are shown only when the build fails.
  const t0 = Date.now();
  const r = spawnSync('npx', ['tsup'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (r.error) throw new DemoError(`could not run npx tsup: ${r.error.message}`);
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    throw new DemoError(`the build failed (npx tsup exited with ${r.status ?? r.signal}; its output is above)`);
  }
  step(`built dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (!fs.existsSync(entry)) {
    throw new DemoError(`the build did not produce dist/register/import.js (is src/register/import.ts a tsup entry?)`);
  }
}

// .demo-data/app-<pid of this script>.pid holds the pid of the app this run started: one file
// per run, so a demo running next to another one (a second terminal, the Prometheus test)
// never stops the other's app.
const pidDir = (root) => path.join(root, '.demo-data');

/** An app left running by a run that was killed (kill -9) is stopped; those of live runs are left alone. */
async function stopStaleApps(root) {
  let files = [];
  try {
    files = fs.readdirSync(pidDir(root)).filter((f) => /^app(-\d+)?\.pid$/.test(f));
  } catch {
    return;
  }
  for (const file of files) {
    const owner = Number(/^app-(\d+)\.pid$/.exec(file)?.[1]);
    if (owner && owner !== process.pid && isAlive(owner) && cmdlineOf(owner)?.includes('demo.mjs')) continue;
    const full = path.join(pidDir(root), file);
    let pid;
    try {
      pid = Number.parseInt(fs.readFileSync(full, 'utf8'), 10);
    } catch {
      continue;
    }
    fs.rmSync(full, { force: true });
    if (!Number.isInteger(pid) || pid <= 0 || !cmdlineOf(pid)?.includes(APP)) continue;
    step(`stopping the demo app left running by an earlier run (pid ${pid})`);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}

function lines(stream, onLine) {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffered += chunk;
    let i;
    while ((i = buffered.indexOf('\n')) !== -1) {
      onLine(buffered.slice(0, i).replace(/\r$/, ''));
      buffered = buffered.slice(i + 1);
    }
  });
  stream.on('end', () => buffered && onLine(buffered));
}

/**
 * Starts `node --import <preload> examples/demo/server.mjs` with `env` and resolves once it
 * prints its URL. Its output is printed in full until then; `app.mode` decides afterwards
 * (quiet: only healthspan's lines; serve: everything).
 */
export async function startApp(root, env, preload) {
  await stopStaleApps(root);
  const argv = [...(preload ? ['--import', preload] : []), APP];
  step(`starting: node ${argv.join(' ')}`);
  // A process group of its own: a Ctrl-C in the terminal reaches only this script, which then
  // stops the app with SIGTERM (so healthspan can flush) before stopping PostgreSQL.
  const child = spawnChild([process.execPath, ...argv], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], stopSignal: 'SIGTERM' });
  const pidFile = path.join(pidDir(root), `app-${process.pid}.pid`);
  fs.mkdirSync(pidDir(root), { recursive: true });
  fs.writeFileSync(pidFile, String(child.pid));
  child.once('exit', () => fs.rmSync(pidFile, { force: true }));
  onCleanup(async () => {
    const r = await stopChild(child, 'SIGTERM', 12_000);
    if (r.killed) process.stderr.write(`demo: the app did not exit within 12 s of SIGTERM and was killed\n`);
  });

  const output = [];
  const app = {
    child,
    port: null,
    mode: 'startup',
    output,
    healthspanLines: [],
    exit: once(child, 'exit').then(([code, signal]) => ({ code, signal })),
  };
  let resolveReady;
  const ready = new Promise((resolve) => (resolveReady = resolve));
  const onLine = (stream) => (line) => {
    output.push(`${stream}: ${line}`);
    if (output.length > 200) output.shift();
    const fromSdk = line.startsWith('healthspan:');
    if (fromSdk && app.healthspanLines.length < 200) app.healthspanLines.push(line);
    if (app.mode !== 'quiet' || fromSdk || isShuttingDown()) out(`  app | ${line}`);
    const m = /listening on http:\/\/(?:\[[^\]]*\]|[^\s:/]+):(\d+)/.exec(line);
    if (m && app.port === null) {
      app.port = Number(m[1]);
      resolveReady();
    }
  };
  lines(child.stdout, onLine('out'));
  lines(child.stderr, onLine('err'));

  const result = await Promise.race([
    ready.then(() => 'ready'),
    app.exit.then(({ code, signal }) => `exited (${signal ?? `code ${code}`})`),
    sleep(30_000).then(() => 'timeout'),
  ]);
  if (result !== 'ready') {
    const why = result === 'timeout' ? 'did not print "listening on http://…" within 30 s' : `${result} before listening`;
    throw new DemoError(`the app failed to start: it ${why} (its output is above)`);
  }
  return app;
}
