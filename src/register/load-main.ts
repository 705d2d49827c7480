// Loads dist/index.cjs for the preload entries, with a V8 code cache of it and of the files of
// dist/vendor/ it requires (the chunks of upstream packages it loads on first use, and the
// contrib instrumentations): compiling the bundle is the largest single cost of starting
// healthspan, and it is the same work on every start of every process. The cache is our own
// file, for our own files only (the app's modules are not touched), in a folder only this user can write; any problem with it —
// unreadable, rejected by V8, read-only disk — falls back to a plain require. Node's switch
// for its own compile cache, NODE_DISABLE_COMPILE_CACHE, turns this one off too.
//
// The cache file names the bundle file it was made from by its identity on this machine —
// device, inode, size and the modification and change times to the nanosecond — and is used
// only while the bundle has that identity. Any write to the bundle (a reinstall, patch-package,
// an editor) gives it a new change time, which no user call can set back; V8's own check of
// cached data looks at the source length only. (It held a copy of the whole source, compared
// byte for byte: reading and comparing that copy cost more than all the rest of the check.)
import { createRequire } from 'node:module';

// Built-ins by require, not by import: an ES module import of node:fs makes Node read every
// export of it, and its `promises` getter loads fs/promises (and the readline it loads).
const builtin = createRequire(import.meta.url);
const fs = builtin('node:fs') as typeof import('node:fs');
const Module = builtin('node:module') as ModuleInternals;
const os = builtin('node:os') as typeof import('node:os');
const path = builtin('node:path') as typeof import('node:path');
const vm = builtin('node:vm') as typeof import('node:vm');
const { isAscii } = builtin('node:buffer') as typeof import('node:buffer');

type Main = typeof import('../index.js');
type ModuleInternals = typeof import('node:module') & {
  wrap(source: string): string;
  _nodeModulePaths(dir: string): string[];
  _cache: Record<string, NodeJS.Module | undefined>;
  new (id: string, parent?: unknown): NodeJS.Module & { paths: string[] };
};

export function loadMain(fromUrl: string): Main {
  const load = createRequire(fromUrl);
  const filename = load.resolve('../index.cjs');
  // loadCached returns the registered instance when the app already required it.
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return load(filename) as Main;
  return loadCached(filename) as Main;
}

/**
 * Runs one of our files (the main bundle, a chunk or vendor file of dist/vendor/) from its code
 * cache, registered in require.cache as require() would. Its own requires of our files (`./…cjs`)
 * come here too, so that a chunk loaded on first use (the metrics SDK, say) has a cache as well.
 */
function loadCached(filename: string): unknown {
  const existing = Module._cache[filename];
  if (existing) return existing.exports;
  let bytes: Buffer;
  let id: string;
  let cacheFile: string | undefined;
  let hit: CacheHit | undefined;
  try {
    // The identity first: after a write between stat and read, the cache made from these bytes
    // is filed under an identity the file no longer has, and never used.
    id = bundleIdentity(fs.statSync(filename, { bigint: true }));
    bytes = fs.readFileSync(filename);
    cacheFile = cachePath(filename);
    hit = cacheFile ? cachedDataFor(cacheFile, id) : undefined;
  } catch {
    return createRequire(filename)(filename);
  }
  // esbuild writes ASCII (non-ASCII characters escaped): latin1 is then a plain copy, where
  // utf8 would validate every byte. Anything else, an edited bundle say, is decoded as utf8.
  // Whether it is ASCII is stored with the cache, which is only used for the same file.
  const ascii = hit ? hit.ascii : isAscii(bytes);
  const source = ascii ? bytes.toString('latin1') : bytes.toString('utf8');
  const cached = hit?.data;
  let script: import('node:vm').Script;
  try {
    // The bundles have no import() (tsup.config.ts turns them into requires): a vm.Script would
    // need an experimental hook for them.
    script = new vm.Script(Module.wrap(source), { filename, cachedData: cached });
  } catch {
    return createRequire(filename)(filename);
  }
  // The same registration require() makes, so that the app's require('healthspan') and
  // import 'healthspan' get this instance.
  const m = new Module(filename, undefined);
  m.filename = filename;
  m.paths = Module._nodeModulePaths(path.dirname(filename));
  Module._cache[filename] = m;
  try {
    const run = script.runInThisContext() as (...args: unknown[]) => void;
    run.call(m.exports, m.exports, requireFor(filename), m, filename, path.dirname(filename));
    m.loaded = true;
  } catch (err) {
    delete Module._cache[filename];
    throw err;
  }
  if (cacheFile && (!cached || script.cachedDataRejected)) {
    const target = cacheFile;
    writeLater(() => writeCache(target, id, ascii, script));
  }
  return m.exports;
}

/** The `require` of one of our files: Node's, but for our own files, which {@link loadCached} runs. */
function requireFor(filename: string): NodeJS.Require {
  const req = createRequire(filename);
  const dir = path.dirname(filename);
  const ours = (id: string) => id.startsWith('./') && id.endsWith('.cjs');
  return Object.assign((id: string) => (ours(id) ? loadCached(path.join(dir, id)) : req(id)), {
    resolve: req.resolve,
    cache: req.cache,
    main: req.main,
    extensions: req.extensions,
  }) as NodeJS.Require;
}

// Cache files are written after start-up (or after the first use of a chunk), so that the
// functions it compiled are in the cache too; at exit at the latest, so that short-lived
// processes (CLIs, test runners) get a cache as well.
const pendingWrites: (() => void)[] = [];
function writeLater(write: () => void): void {
  if (pendingWrites.push(write) > 1) return;
  const flush = () => {
    for (const w of pendingWrites.splice(0)) w();
  };
  setTimeout(flush, 2000).unref();
  process.once('exit', flush);
}

const MAGIC = 0x48534332; // "HSC2"
const HEADER = 8; // magic, then the identity's byte length (uint32 BE each); then the identity, one byte (1: the bundle is ASCII) and V8's data

/** What identifies the bundle file on this machine, as written in the cache file's header. */
export function bundleIdentity(st: import('node:fs').BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** One cache file per file path, Node version and architecture, in a folder of this user's. */
function cachePath(file: string): string | undefined {
  const dir = cacheDir();
  return dir && path.join(dir, `${process.version}-${process.arch}-${path.basename(file, '.cjs')}-${fnv1a(file)}.v8cache`);
}

let checkedDir: string | false | undefined;
function cacheDir(): string | undefined {
  if (checkedDir === undefined) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
    const dir = path.join(os.tmpdir(), `healthspan-code-cache-${uid}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    // Someone else's folder, or one others can write to: not ours to trust.
    checkedDir = (typeof process.getuid === 'function' && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0 ? false : dir;
  }
  return checkedDir || undefined;
}

/** 32-bit FNV-1a of a short string (a file path: names the cache file, checks nothing). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export interface CacheHit {
  /** V8's data. */
  data: Buffer;
  /** The bundle was all ASCII when the cache was made. */
  ascii: boolean;
}

/** What a cache file of ours holds, when it was made from the bundle file that has identity `id` now. */
export function cachedDataFor(file: string, id: string): CacheHit | undefined {
  try {
    const st = fs.statSync(file);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return undefined;
    const data = fs.readFileSync(file);
    if (data.length <= HEADER || data.readUInt32BE(0) !== MAGIC) return undefined;
    const end = HEADER + data.readUInt32BE(4);
    if (end + 1 >= data.length || data.toString('latin1', HEADER, end) !== id) return undefined;
    return { ascii: data[end] === 1, data: data.subarray(end + 1) };
  } catch {
    return undefined;
  }
}

export function writeCache(file: string, id: string, ascii: boolean, script: import('node:vm').Script): void {
  try {
    const header = Buffer.alloc(HEADER);
    header.writeUInt32BE(MAGIC, 0);
    header.writeUInt32BE(id.length, 4);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, Buffer.concat([header, Buffer.from(id, 'latin1'), Buffer.of(ascii ? 1 : 0), script.createCachedData()]), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // a read-only or full disk: the next start compiles again
  }
}
