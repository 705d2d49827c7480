// Setup file (vitest.config.ts): what a test file writes to stderr (healthspan's startup block
// from an in-process start(), shutdown warnings) is held back and printed only when one of its
// tests or hooks fails, so a passing run stays readable. HEALTHSPAN_TEST_OUTPUT=all prints
// everything as it comes. Child apps' output is captured by the helpers that spawn them
// (test/preload/child.ts, test/helpers/demo.ts) and goes into the failure's message instead.
import { afterAll, beforeEach } from 'vitest';

/** What is held back at most; the oldest output goes first. */
const MAX_HELD = 1 << 20;

if (process.env.HEALTHSPAN_TEST_OUTPUT !== 'all') {
  const write = process.stderr.write.bind(process.stderr);
  let held: string[] = [];
  let size = 0;
  let flushed = false;

  process.stderr.write = ((
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | ((err?: Error | null) => void),
    cb?: (err?: Error | null) => void,
  ): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8');
    held.push(text);
    size += text.length;
    while (size > MAX_HELD && held.length > 1) size -= held.shift()!.length;
    const done = typeof encoding === 'function' ? encoding : cb;
    if (done) queueMicrotask(() => done());
    return true;
  }) as typeof process.stderr.write;

  const flush = (why: string): void => {
    flushed = true;
    if (held.length === 0) return;
    write(`\n--- stderr of this test file up to ${why} ---\n${held.join('')}--- end of held stderr ---\n`);
    held = [];
    size = 0;
  };

  beforeEach((ctx) => {
    ctx.onTestFailed(() => flush(`the failure of "${ctx.task.name}"`));
  });

  // biome-ignore lint/correctness/noEmptyPattern: vitest requires a destructuring pattern for the unused context.
  afterAll(({}, suite) => {
    // A failing beforeAll/afterAll hook fails no test of its own.
    const failed = suite.result?.state === 'fail' || (suite.result?.errors?.length ?? 0) > 0;
    if (failed || (flushed && held.length > 0)) flush('the end of the file, which failed');
  });
}
