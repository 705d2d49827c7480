// The sanitizer suite: what `sanitizeSql` and `summarizeSql` cost per statement. Both run
// once per database span, on the application's thread. The measuring runs in a child
// process (this same file, `--child`) pinned to the server CPU, importing the built package
// so that it measures what ships.
import { createRequire, registerHooks } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fmt, median, range } from '../lib/stats.mjs';
import { distFingerprint } from '../lib/build.mjs';
import { runPinnedChild } from '../lib/child.mjs';

const SELF = fileURLToPath(import.meta.url);
/** Measured time per case per round, and for the discarded warm-up round. */
const CASE_MS = 250;
/** Child startup (loading the package) and the warm-up round, for the time estimate. */
const FIXED_S = 4;
/** More distinct statements than the statement cache holds: every call is a miss. */
const DISTINCT = 4096;

/** ~80 characters, a few literals: the statement of a typical request. */
const shortStatement = (i) => `SELECT id, name FROM users WHERE org_id = ${1000 + i} AND status = 'active' LIMIT 10`;

/** ~10 kB: an IN list of 600 ids and 60 conditions of three literals each (780 literals). */
function longStatement() {
  const ids = Array.from({ length: 600 }, (_, i) => 100_000 + i * 7).join(', ');
  let sql = `SELECT o.id, o.total, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id IN (${ids})`;
  for (let i = 0; sql.length < 10_000; i++) {
    sql += ` OR (o.note = 'customer note ${i}' AND o.amount > ${i}.5 AND o.created_at >= '2024-01-${String((i % 28) + 1).padStart(2, '0')}')`;
  }
  return sql;
}

const CASES = [
  { id: 'short-hit', label: 'short (~80 chars), repeated: statement-cache hit', inputs: () => [shortStatement(0)] },
  {
    id: 'short-miss',
    label: `short (~80 chars), ${DISTINCT} distinct: cache miss`,
    inputs: () => Array.from({ length: DISTINCT }, (_, i) => shortStatement(i)),
  },
  { id: 'long', label: '10 kB, 780 literals incl. a 600-id IN list (never cached)', inputs: () => [longStatement()] },
];
const FUNCTIONS = ['sanitizeSql', 'summarizeSql'];

// ---- child ------------------------------------------------------------------------------

/** The built package if it exports both functions; otherwise the sources (type stripping). */
async function loadImplementation(root) {
  try {
    const pkg = createRequire(path.join(root, 'package.json'))('healthspan');
    if (typeof pkg.sanitizeSql === 'function' && typeof pkg.summarizeSql === 'function') {
      return { source: 'dist', sanitizeSql: pkg.sanitizeSql, summarizeSql: pkg.summarizeSql };
    }
  } catch {
    // not built: fall back to the sources
  }
  // src/ imports `./x.js` for `./x.ts`: map those while Node strips the types.
  registerHooks({
    resolve(specifier, context, next) {
      try {
        return next(specifier, context);
      } catch (err) {
        if (!specifier.endsWith('.js') || !context.parentURL?.endsWith('.ts')) throw err;
        return next(`${specifier.slice(0, -3)}.ts`, context);
      }
    },
  });
  const { sanitizeSql } = await import(pathToFileURL(path.join(root, 'src/db/sanitize.ts')).href);
  const { summarizeSql } = await import(pathToFileURL(path.join(root, 'src/db/summary.ts')).href);
  return { source: 'src', sanitizeSql, summarizeSql };
}

/** ns per call over at least `ms` of calls, cycling through `inputs`. */
function timeCalls(fn, inputs, ms) {
  const limit = BigInt(Math.round(ms * 1e6));
  const len = inputs.length;
  let calls = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 32; i++) {
      const r = fn(inputs[(calls + i) % len]);
      sink += typeof r === 'string' ? r.length : r.summary.length;
    }
    calls += 32;
    elapsed = process.hrtime.bigint() - t0;
  }
  if (sink < 0) console.error(sink); // keep the results alive
  return Number(elapsed) / calls;
}

async function child({ root, rounds }) {
  const impl = await loadImplementation(root);
  const cases = CASES.map((c) => ({ ...c, data: c.inputs() }));
  const ns = Object.fromEntries(cases.map((c) => [c.id, { sanitizeSql: [], summarizeSql: [] }]));
  // Round 0 warms up the JIT and is discarded; cases interleave so drift hits them alike.
  for (let round = 0; round <= rounds; round++) {
    for (const c of cases) {
      for (const f of FUNCTIONS) {
        const v = timeCalls(impl[f], c.data, CASE_MS);
        if (round > 0) ns[c.id][f].push(v);
      }
    }
  }
  const long = cases.find((c) => c.id === 'long').data[0];
  const short = cases[0].data[0];
  return {
    source: impl.source,
    rounds,
    caseMs: CASE_MS,
    cases: cases.map((c) => ({ id: c.id, label: c.label, chars: c.data[0].length, ns: ns[c.id] })),
    examples: {
      short,
      shortSanitized: impl.sanitizeSql(short),
      shortSummary: impl.summarizeSql(short).summary,
      longSanitized: impl.sanitizeSql(long),
      longSummary: impl.summarizeSql(long).summary,
    },
  };
}

if (process.argv[1] === SELF && process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).then(
    (result) => process.stdout.write(JSON.stringify(result)),
    (err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}

// ---- orchestrator -----------------------------------------------------------------------

function runChild(opts, ctx) {
  return runPinnedChild(SELF, { root: ctx.root, rounds: opts.rounds }, ctx, 'sanitizer');
}

const mbPerS = (chars, ns) => (chars / ns) * 1e3; // chars per ns × 1e9 / 1e6

function renderSanitizer(parts) {
  const p = parts.sanitizer;
  if (!p) return '_Not run yet._';
  const { data, file, result } = p;
  const pinned = result.settings?.pinning?.pinned;
  const source =
    data.source === 'dist'
      ? "the built package (`require('healthspan')`, `dist/index.cjs`)"
      : '**the sources** (`src/db/*.ts` through Node’s type stripping: the built package did not export them yet, ' +
        'so these figures are not those of a release build)';
  const rows = [
    '| statement | chars | `sanitizeSql` ns/statement (min–max) | `summarizeSql` ns/statement (min–max) | `sanitizeSql` MB/s | `summarizeSql` MB/s |',
    '|---|--:|--:|--:|--:|--:|',
  ];
  for (const c of data.cases) {
    const cell = (f) => {
      const [lo, hi] = range(c.ns[f]) ?? [];
      return `${fmt(median(c.ns[f]))} (${fmt(lo)}–${fmt(hi)})`;
    };
    const rate = (f) => (c.id === 'long' ? fmt(mbPerS(c.chars, median(c.ns[f])), 1) : '');
    rows.push(`| ${c.label} | ${fmt(c.chars)} | ${cell('sanitizeSql')} | ${cell('summarizeSql')} | ${rate('sanitizeSql')} | ${rate('summarizeSql')} |`);
  }
  const e = data.examples;
  return [
    'Both functions run once per database span on the application’s thread (`src/db/processor.ts`): ' +
      '`sanitizeSql` replaces every literal of `db.query.text` with `?`, `summarizeSql` derives ' +
      '`db.query.summary` (the span name). Both share one single-pass lexer and a bounded statement cache ' +
      '(2 × 128 entries per dialect, statements up to 4,096 characters), so a repeated statement costs a Map ' +
      'lookup; the cache-miss and 10 kB rows show the cost of reading a statement.',
    '',
    `Method: one child process ${pinned ? 'pinned to CPU 0 (`taskset -c`)' : '**unpinned**'} imports the functions from ` +
      `${source}, runs a discarded warm-up round, then ${data.rounds} round(s) in which every case and ` +
      `function is called in a loop for ${data.caseMs} ms (cases interleaved). Each figure is the median over ` +
      'rounds; MB/s is input characters per second for the 10 kB statement.',
    '',
    `${result.machine.date.slice(0, 16).replace('T', ' ')} UTC · Node ${result.machine.node} · ${data.rounds} round(s) · ` +
      `${data.build ? `build ${data.build} · ` : ''}raw results: ${file}`,
    '',
    ...rows,
    '',
    `Short statement: \`${e.short}\` → \`${e.shortSanitized}\`, summary \`${e.shortSummary}\`. ` +
      `The 10 kB statement sanitizes to ${fmt(e.longSanitized.length)} characters ` +
      `(\`${e.longSanitized.slice(0, 90)}…\`), summary \`${e.longSummary}\`.`,
  ].join('\n');
}

export const sanitizerSuite = {
  id: 'sanitizer',
  title: 'SQL sanitizer and query summary',
  parts: ['sanitizer'],

  estimateSeconds(opts) {
    return FIXED_S + (opts.rounds * CASES.length * FUNCTIONS.length * CASE_MS) / 1000;
  },

  async run(opts, ctx) {
    ctx.log(`sanitizer: ${CASES.length} statements × ${FUNCTIONS.join(', ')}, ${opts.rounds} round(s) of ${CASE_MS} ms each`);
    const data = await runChild(opts, ctx);
    if (data.source === 'dist') data.build = distFingerprint(ctx.root);
    else ctx.log('sanitizer: WARNING dist/index.cjs does not export sanitizeSql/summarizeSql: measured src/db instead');
    for (const c of data.cases) {
      ctx.log(`sanitizer: ${c.id.padEnd(10)} sanitizeSql ${fmt(median(c.ns.sanitizeSql))} ns  summarizeSql ${fmt(median(c.ns.summarizeSql))} ns`);
    }
    return { parts: { sanitizer: data } };
  },

  render: renderSanitizer,
};
