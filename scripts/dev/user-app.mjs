// What users get: the packed tarball, installed with `npm install` into a fresh app folder
// (here next to upstream's auto-instrumentations-node, for the benchmarks), with no overrides
// and none of this repository's node_modules; and what an install brings (test/package too).
// Types: user-app.d.mts.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const npm = (args, cwd, loglevel = 'error') => {
  // stderr is kept: npm prints its warnings there, and the install table counts them.
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: loglevel } });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} (in ${cwd}) exited with ${r.status}: ${r.stderr.trim().slice(-800)}`);
  return `${r.stdout}${r.stderr}`;
};

function installedVersion(root, pkg) {
  return JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

/** Bytes and packages under a node_modules folder (every package.json with a name, once per folder). */
export function measureInstall(dir) {
  let bytes = 0;
  const packages = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) walk(p);
      else bytes += statSync(p).size;
    }
  };
  const nm = path.join(dir, 'node_modules');
  walk(nm);
  const findPackages = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === '.bin' || entry.name === '.cache') continue;
      const p = path.join(d, entry.name);
      if (entry.name.startsWith('@')) {
        findPackages(p);
        continue;
      }
      try {
        const { name, version } = JSON.parse(readFileSync(path.join(p, 'package.json'), 'utf8'));
        if (name) packages.push({ name, version, path: path.relative(nm, p) });
      } catch {
        // not a package
      }
      const nested = path.join(p, 'node_modules');
      try {
        if (statSync(nested).isDirectory()) findPackages(nested);
      } catch {
        // no nested node_modules
      }
    }
  };
  findPackages(nm);
  return { bytes, packages };
}

/** Copies of each @opentelemetry/* package in an install, by name. */
export function otelCopies(packages) {
  const copies = {};
  for (const p of packages) if (p.name.startsWith('@opentelemetry/')) (copies[p.name] ??= []).push(p.version);
  return copies;
}

function freshApp(base, name, dependencies) {
  const dir = path.join(base, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `bench-${name}`, version: '1.0.0', private: true, dependencies }, null, 2));
  const started = Date.now();
  const out = npm(['install', '--no-audit', '--no-fund'], dir, 'warn');
  return { dir, installSeconds: (Date.now() - started) / 1000, npmOutput: out.trim() };
}

/**
 * Packs the repository (built first), installs the tarball into a temporary app folder with
 * upstream's auto-instrumentations-node and pg beside it, and copies bench/apps there.
 * With `baseline` (a tarball of an earlier healthspan), installs that into a folder of its own.
 * Returns { dir, baselineDir?, versions, install: { healthspan, upstream, baseline? } }.
 */
export function prepareUserApp(root, { baseline, log = () => {} } = {}) {
  log('bench: building and packing healthspan (npm run build:dist, npm pack)');
  npm(['run', 'build:dist', '--silent'], root);
  const base = mkdtempSync(path.join(os.tmpdir(), 'healthspan-bench-'));
  const tgzName = npm(['pack', '--pack-destination', base, '--silent'], root)
    .trim()
    .split('\n')
    .filter((l) => l.endsWith('.tgz'))
    .at(-1);
  const tarball = path.join(base, tgzName);
  const upstreamVersion = installedVersion(root, '@opentelemetry/auto-instrumentations-node');
  const pgVersion = installedVersion(root, 'pg');
  const wsVersion = installedVersion(root, 'ws');

  log(`bench: installing ${tgzName}, @opentelemetry/auto-instrumentations-node@${upstreamVersion}, pg@${pgVersion} into ${base}/app`);
  const app = freshApp(base, 'app', {
    healthspan: `file:${tarball}`,
    '@opentelemetry/auto-instrumentations-node': upstreamVersion,
    pg: pgVersion,
    ws: wsVersion,
  });
  cpSync(path.join(root, 'bench/apps'), app.dir, { recursive: true });

  // What each costs to install on its own (the app's own pg left out).
  const install = {};
  for (const [key, deps] of [
    ['healthspan', { healthspan: `file:${tarball}` }],
    ['upstream', { '@opentelemetry/auto-instrumentations-node': upstreamVersion }],
    ...(baseline ? [['baseline', { healthspan: `file:${path.resolve(baseline)}` }]] : []),
  ]) {
    const only = freshApp(base, `only-${key}`, deps);
    const { bytes, packages } = measureInstall(only.dir);
    let lsOk = true;
    try {
      npm(['ls', '--all'], only.dir);
    } catch {
      lsOk = false;
    }
    install[key] = {
      bytes,
      packages: packages.length,
      otelCopies: otelCopies(packages),
      npmLsOk: lsOk,
      warnings: only.npmOutput.split('\n').filter((l) => /^npm warn/i.test(l)).length,
      seconds: only.installSeconds,
    };
  }
  let baselineDir;
  if (baseline) {
    const b = freshApp(base, 'baseline', { healthspan: `file:${path.resolve(baseline)}`, pg: pgVersion, ws: wsVersion });
    cpSync(path.join(root, 'bench/apps'), b.dir, { recursive: true });
    baselineDir = b.dir;
  }
  return {
    base,
    dir: app.dir,
    baselineDir,
    versions: {
      healthspan: installedVersion(app.dir, 'healthspan'),
      upstream: upstreamVersion,
      pg: pgVersion,
      baseline: baselineDir ? installedVersion(baselineDir, 'healthspan') : undefined,
    },
    install,
    cleanup: () => {
      if (!process.env.BENCH_KEEP_APP) rmSync(base, { recursive: true, force: true });
    },
  };
}
