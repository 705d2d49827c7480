import type { IdGenerator } from '@opentelemetry/sdk-trace';

const POOL_BYTES = 4096;
const TWO_32 = 0x1_0000_0000;

/**
 * Fills `buf` (a multiple of 4 bytes long) with random bytes, 32 bits per call of `random`, big
 * endian. Byte stores, not `writeUInt32BE`: the first fill runs in the first request, before V8
 * optimises anything, where a thousand calls of that function (with its range checks) took
 * four times as long.
 */
export function fillRandom(buf: Buffer, random: () => number = Math.random): Buffer {
  for (let i = 0; i < buf.length; i += 4) {
    const word = (random() * TWO_32) >>> 0;
    buf[i] = word >>> 24;
    buf[i + 1] = word >>> 16;
    buf[i + 2] = word >>> 8;
    buf[i + 3] = word;
  }
  return buf;
}

/**
 * Trace and span ids from a pool of random bytes, refilled 4 kB at a time from
 * `Math.random()` (32 bits per call, as the SDK's own generator takes them). One hex
 * conversion per id out of the pool is cheaper than the SDK's buffer per id, and start-up
 * does not load `node:crypto` (about 50 internal modules) for it. V8 seeds `Math.random()`
 * from the operating system per process; like the SDK's, these ids are random, not secret.
 * An all-zero id (invalid) becomes ...01, as in the SDK.
 */
export class PooledIdGenerator implements IdGenerator {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private offset = POOL_BYTES;

  generateTraceId(): string {
    return this.next(16);
  }

  generateSpanId(): string {
    return this.next(8);
  }

  private next(bytes: number): string {
    const pool = this.pool;
    if (this.offset + bytes > POOL_BYTES) {
      fillRandom(pool);
      this.offset = 0;
    }
    const start = this.offset;
    const end = (this.offset += bytes);
    for (let i = start; i < end; i++) if (pool[i] !== 0) return pool.toString('hex', start, end);
    pool[end - 1] = 1;
    return pool.toString('hex', start, end);
  }
}
