// Loads dist/index.cjs for the preload entries, with a V8 code cache of it: compiling the
// bundle is the largest single cost of starting healthspan, and it is the same work on every
// start of every process. The cache is our own file, for our own bundle only (the app's
// modules are not touched), in a folder only this user can write; any problem with it —
// unreadable, rejected by V8, read-only disk — falls back to a plain require. Node's switch
// for its own compile cache, NODE_DISABLE_COMPILE_CACHE, turns this one off too.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

type Main = typeof import('../index.js');
type ModuleInternals = typeof Module & {
  wrap(source: string): string;
  _nodeModulePaths(dir: string): string[];
  new (id: string, parent?: unknown): NodeJS.Module & { paths: string[] };
};

export function loadMain(fromUrl: string): Main {
  const load = createRequire(fromUrl);
  const filename = load.resolve('../index.cjs');
  if (load.cache[filename] || process.env.NODE_DISABLE_COMPILE_CACHE) return load(filename) as Main;
  let source: string;
  let cacheFile: string | undefined;
  let cached: Buffer | undefined;
  try {
    source = fs.readFileSync(filename, 'utf8');
    cacheFile = cachePath(source);
    cached = cacheFile ? readOwnFile(cacheFile) : undefined;
  } catch {
    return load(filename) as Main;
  }
  const M = Module as ModuleInternals;
  let script: vm.Script;
  try {
    // The bundle has no import() (tsup.config.ts turns them into requires): a vm.Script would
    // need an experimental hook for them.
    script = new vm.Script(M.wrap(source), { filename, cachedData: cached });
  } catch {
    return load(filename) as Main;
  }
  // The same registration require() makes, so that the app's require('healthspan') and
  // import 'healthspan' get this instance.
  const m = new M(filename, undefined);
  m.filename = filename;
  m.paths = M._nodeModulePaths(path.dirname(filename));
  load.cache[filename] = m;
  try {
    const run = script.runInThisContext() as (...args: unknown[]) => void;
    run.call(m.exports, m.exports, createRequire(filename), m, filename, path.dirname(filename));
    m.loaded = true;
  } catch (err) {
    delete load.cache[filename];
    throw err;
  }
  if (cacheFile && (!cached || script.cachedDataRejected)) {
    // After start-up, so the functions start-up compiled are in the cache too; at exit at the
    // latest, so that short-lived processes (CLIs, test runners) get a cache as well.
    const target = cacheFile;
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      writeCache(target, script);
    };
    setTimeout(write, 2000).unref();
    process.once('exit', write);
  }
  return m.exports as Main;
}

/** One cache file per bundle content, Node version and architecture, in a folder of this user's. */
function cachePath(source: string): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  const dir = path.join(os.tmpdir(), `healthspan-code-cache-${uid}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(dir);
  // Someone else's folder, or one others can write to: not ours to trust.
  if ((typeof process.getuid === 'function' && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) return undefined;
  const key = createHash('sha256').update(process.version).update(process.arch).update(source).digest('hex').slice(0, 32);
  return path.join(dir, `${key}.v8cache`);
}

function readOwnFile(file: string): Buffer | undefined {
  try {
    const st = fs.statSync(file);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return undefined;
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

function writeCache(file: string, script: vm.Script): void {
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // a read-only or full disk: the next start compiles again
  }
}
