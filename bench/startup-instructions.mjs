// Start-up in instructions, a figure that does not move with a noisy machine: the packed tarball
// is installed into a fresh app folder (as `npm run bench` does) and `valgrind --tool=callgrind`
// counts every instruction of a whole process that starts bench/apps/first-response.cjs (a
// node:http server that requests itself once and exits). Each contender runs `RUNS` times
// (default 2) and the lowest count is kept; counts of one build repeat within about 2 %.
//
//   node scripts/node.cjs node bench/startup-instructions.mjs        (BENCH_BASELINE=<tarball> adds healthspan-before)
//
// `healthspan` starts with an empty TMPDIR (no code cache; the count includes writing the
// cache at exit), `healthspan-cached` after one start that wrote it. Upstream runs with the
// resource detectors a careful user sets. Prints a Markdown table; writes nothing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareUserApp } from '../scripts/dev/user-app.mjs';
import { UPSTREAM_DETECTORS } from './suites/overhead.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.RUNS ?? 2);
const APP = 'first-response.cjs';

if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('startup-instructions: needs valgrind (apt-get install valgrind)');
  process.exit(2);
}

const app = prepareUserApp(root, { baseline: process.env.BENCH_BASELINE || undefined, log: (l) => console.error(l) });
process.on('exit', () => app.cleanup());

const telemetry = {
  OTEL_SERVICE_NAME: 'startup-instructions',
  // Nothing listens there: no export happens before the process exits.
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none',
  HEALTHSPAN_SHUTDOWN_TIMEOUT: '100',
};
const env = (extra) => {
  const e = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(OTEL_|HEALTHSPAN_|NODE_OPTIONS$)/.test(k)) e[k] = v;
  return { ...e, ...extra };
};

function instructions(args, cwd, extraEnv) {
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file', process.execPath, ...args, APP], {
    cwd,
    env: env(extraEnv),
    encoding: 'utf8',
  });
  const m = /Collected : (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${args.join(' ')} in ${cwd}: exit ${r.status}\n${r.stderr.slice(-1500)}`);
  return Number(m[1]);
}

const cachedTmp = (name) => {
  const dir = path.join(app.base, `tmp-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
const preload = ['--import', 'healthspan/register'];
const contenders = [
  ['bare', [], app.dir, () => ({})],
  ['healthspan', preload, app.dir, () => ({ ...telemetry, TMPDIR: mkdtempSync(path.join(app.base, 'tmp-')) })],
  ['healthspan-cached', preload, app.dir, () => ({ ...telemetry, TMPDIR: cachedTmp('cached') })],
  ...(app.baselineDir
    ? [
        ['healthspan-before', preload, app.baselineDir, () => ({ ...telemetry, TMPDIR: mkdtempSync(path.join(app.base, 'tmp-')) })],
        ['healthspan-before-cached', preload, app.baselineDir, () => ({ ...telemetry, TMPDIR: cachedTmp('before-cached') })],
      ]
    : []),
  [
    'upstream',
    ['--require', '@opentelemetry/auto-instrumentations-node/register'],
    app.dir,
    () => ({ ...telemetry, OTEL_NODE_RESOURCE_DETECTORS: UPSTREAM_DETECTORS }),
  ],
];

// The cached contenders start once without valgrind first, so that their cache exists.
for (const [name, args, cwd, extra] of contenders) {
  if (name.endsWith('-cached')) spawnSync(process.execPath, [...args, APP], { cwd, env: env(extra()), stdio: 'ignore' });
}
const rows = [];
for (const [name, args, cwd, extra] of contenders) {
  const counts = [];
  for (let i = 0; i < RUNS; i++) counts.push(instructions(args, cwd, extra()));
  rows.push({ name, ir: Math.min(...counts), spread: (Math.max(...counts) - Math.min(...counts)) / Math.min(...counts) });
  console.error(`startup-instructions: ${name} ${counts.map((c) => (c / 1e6).toFixed(1)).join(' / ')} M`);
}
const bare = rows[0].ir;
const upstreamAdded = rows.at(-1).ir - bare;
const m = (n) => `${(n / 1e6).toFixed(1)} M`;
console.log(`Start-up to the first response, in instructions (valgrind callgrind, lowest of ${RUNS}; Node ${process.version})\n`);
console.log('| contender | instructions | added | vs upstream’s added | spread |');
console.log('|---|--:|--:|--:|--:|');
for (const r of rows) {
  const added = r.ir - bare;
  console.log(
    `| ${r.name} | ${m(r.ir)} | ${r.name === 'bare' ? '' : `+${m(added)}`} | ${r.name === 'bare' ? '' : `${(added / upstreamAdded).toFixed(2)}×`} | ${(r.spread * 100).toFixed(1)} % |`,
  );
}
