// `npm run bench`: runs the benchmark suites, stores raw results under bench/results/
// and regenerates docs/benchmarks.md. `node bench/run.mjs --report` only regenerates.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine } from './lib/machine.mjs';
import { prepareUserApp } from '../scripts/dev/user-app.mjs';
import { detectPinning, installCleanup } from './lib/procs.mjs';
import { saveResult, writeReport } from './report.mjs';
import { suites } from './suites/index.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
installCleanup();

function readNumber(name, fallback, { min, integer = true }) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    console.error(`bench: ${name}=${JSON.stringify(raw)} is not ${integer ? 'an integer' : 'a number'} ≥ ${min}; using ${fallback}`);
    return fallback;
  }
  return value;
}

function readOnly() {
  const raw = (process.env.BENCH_ONLY ?? '').trim();
  const known = suites.flatMap((s) => [s.id, ...s.parts]);
  if (!raw) return null;
  const wanted = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((w) => !known.includes(w));
  if (unknown.length) {
    console.error(`bench: BENCH_ONLY=${JSON.stringify(raw)} names unknown part(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
    process.exit(2);
  }
  return wanted;
}

function minutes(seconds) {
  return seconds < 90 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} min`;
}

async function main() {
  if (process.argv.includes('--report')) {
    console.log(`bench: wrote ${writeReport(root, suites)}`);
    return;
  }
  const opts = {
    rounds: readNumber('BENCH_ROUNDS', 5, { min: 1 }),
    durationS: readNumber('BENCH_DURATION', 8, { min: 1 }),
    warmupS: readNumber('BENCH_WARMUP', 2, { min: 0 }),
    connections: readNumber('BENCH_CONNECTIONS', 16, { min: 1 }),
  };
  const only = readOnly();
  const plan = suites
    .map((suite) => ({
      suite,
      // A suite marked onlyWhenAsked (instructions: valgrind, slow) runs only when BENCH_ONLY names it or a part.
      parts: suite.parts.filter((p) => (only ? only.includes(p) || only.includes(suite.id) : !suite.onlyWhenAsked)),
    }))
    .filter((p) => p.parts.length > 0);

  const pinning = detectPinning();
  const baseline = process.env.BENCH_BASELINE || undefined;
  // Servers run from a fresh app folder with the packed tarball installed, as users get it.
  const app = prepareUserApp(root, { baseline, log: (line) => console.log(line) });
  process.on('exit', () => app.cleanup());
  const ctx = { root, pinning, app, log: (line) => console.log(line) };
  const estimate = plan.reduce((sum, p) => sum + p.suite.estimateSeconds(opts, p.parts, ctx), 0);
  console.log(
    `bench: ${plan.map((p) => `${p.suite.id} (${p.parts.join(', ')})${p.suite.describeLoad ? `: ${p.suite.describeLoad(opts)}` : ''}`).join('; ')}; ` +
      `${opts.rounds} round(s) × ${opts.durationS} s (+${opts.warmupS} s warm-up) at ${opts.connections} connections`,
  );
  console.log(
    pinning.pinned
      ? 'bench: server on CPU 0; load generator, sink and orchestrator on CPU 1'
      : `bench: WARNING running unpinned (${pinning.reason}); figures will be noisier`,
  );
  console.log(`bench: estimated time ${minutes(estimate)}`);

  const started = Date.now();
  for (const { suite, parts } of plan) {
    const machine = describeMachine(pinning);
    const { parts: data } = await suite.run(opts, ctx, parts);
    const result = { suite: suite.id, machine, settings: { ...opts, pinning }, parts: data };
    const file = saveResult(root, suite.id, result);
    console.log(`\nbench: raw results: ${file}\n`);
    console.log(suite.render(Object.fromEntries(Object.entries(data).map(([k, d]) => [k, { data: d, file, result }]))));
  }
  console.log(`\nbench: wrote ${writeReport(root, suites)} after ${minutes((Date.now() - started) / 1000)}`);
}

main().catch((err) => {
  console.error(`bench: ${err?.message ?? err}`);
  process.exit(1);
});
