import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import vm from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleIdentity, cachedDataFor, writeCache } from '../../src/register/load-main.js';

// The preload's code cache is used only while the bundle file it was made from is unchanged
// (src/register/load-main.ts); test/preload/code-cache.test.ts covers it end to end.
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'healthspan-cc-id-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const SOURCE = '(function answer() { return 6 * 7; })';
const identity = (file: string) => bundleIdentity(statSync(file, { bigint: true }));

function cacheFor(bundle: string, cacheFile: string): Buffer {
  const script = new vm.Script(SOURCE, { filename: bundle });
  (script.runInThisContext() as () => number)();
  writeCache(cacheFile, identity(bundle), true, script);
  return script.createCachedData();
}

describe('the code cache file', () => {
  it("gives V8's data back while the bundle keeps its identity, and V8 accepts it", () => {
    const bundle = path.join(dir, 'index.cjs');
    const cacheFile = path.join(dir, 'c.v8cache');
    writeFileSync(bundle, SOURCE);
    cacheFor(bundle, cacheFile);
    const hit = cachedDataFor(cacheFile, identity(bundle));
    expect(hit?.ascii).toBe(true);
    expect(hit?.data.length).toBeGreaterThan(0);
    const again = new vm.Script(SOURCE, { filename: bundle, cachedData: hit?.data });
    expect(again.cachedDataRejected).toBe(false);
  });

  it('is not used once the bundle was written again, even with the same bytes, or replaced by another file', async () => {
    const bundle = path.join(dir, 'index.cjs');
    const cacheFile = path.join(dir, 'c.v8cache');
    writeFileSync(bundle, SOURCE);
    cacheFor(bundle, cacheFile);
    const before = identity(bundle);
    // File times move in kernel ticks (a few ms): the rewrite comes after the next one.
    await sleep(30);
    writeFileSync(bundle, SOURCE);
    expect(identity(bundle)).not.toBe(before);
    expect(cachedDataFor(cacheFile, identity(bundle))).toBeUndefined();
    // A new file of the same size in its place (as npm install does): a new inode.
    rmSync(bundle);
    writeFileSync(bundle, SOURCE.replace('6 * 7', '7 * 6'));
    expect(cachedDataFor(cacheFile, identity(bundle))).toBeUndefined();
  });

  it('is not used when its header is not ours (an older format, garbage, a truncated file)', () => {
    const bundle = path.join(dir, 'index.cjs');
    writeFileSync(bundle, SOURCE);
    const id = identity(bundle);
    const older = path.join(dir, 'older.v8cache');
    const header = Buffer.alloc(8);
    header.writeUInt32BE(0x48534331, 0); // "HSC1", which held the source instead of an identity
    header.writeUInt32BE(SOURCE.length, 4);
    writeFileSync(older, Buffer.concat([header, Buffer.from(SOURCE), Buffer.alloc(64, 1)]));
    expect(cachedDataFor(older, id)).toBeUndefined();
    const garbage = path.join(dir, 'garbage.v8cache');
    writeFileSync(garbage, Buffer.alloc(4096, 7));
    expect(cachedDataFor(garbage, id)).toBeUndefined();
    const cacheFile = path.join(dir, 'c.v8cache');
    cacheFor(bundle, cacheFile);
    const whole = cachedDataFor(cacheFile, id)!;
    writeFileSync(cacheFile, Buffer.alloc(8 + id.length - 1, 0));
    expect(cachedDataFor(cacheFile, id)).toBeUndefined();
    expect(whole.data.length).toBeGreaterThan(0);
    expect(cachedDataFor(path.join(dir, 'missing.v8cache'), id)).toBeUndefined();
  });
});
