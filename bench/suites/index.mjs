// Every benchmark suite, in report order. A suite is
//   { id, title, parts: string[], estimateSeconds(opts, parts), run(opts, ctx, parts), render(parts) }
// `run` returns { parts: { [part]: data } }, stored as bench/results/<id>/<timestamp>.json;
// `render` gets the newest stored data of every part and returns the Markdown of its
// section in docs/benchmarks.md. Add a suite here and its section appears in the report;
// `BENCH_ONLY=<part>` reruns one part without losing the others' last results. A suite with
// `onlyWhenAsked` runs only when BENCH_ONLY names it or one of its parts.
import { cacheSuite } from './cache.mjs';
import { insightSuite } from './insight.mjs';
import { instructionsSuite } from './instructions.mjs';
import { overheadSuite } from './overhead.mjs';
import { sanitizerSuite } from './sanitizer.mjs';
import { wsSuite } from './ws.mjs';

export const suites = [overheadSuite, instructionsSuite, sanitizerSuite, wsSuite, cacheSuite, insightSuite];
