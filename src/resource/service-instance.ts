import type { DetectedResource, ResourceDetector } from '@opentelemetry/resources';
import { fillRandom } from '../sdk/id-generator.js';

/**
 * A random (version 4) UUID from `Math.random()`, 32 bits per call: unique per process like
 * `crypto.randomUUID()`, without loading `node:crypto` at start-up for one id.
 */
export function randomUuid(random: () => number = Math.random): string {
  const b = fillRandom(Buffer.allocUnsafe(16), random);
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10xx (RFC 9562)
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

let instanceId: string | undefined;

/** `service.instance.id`: one random UUID per process (`OTEL_NODE_RESOURCE_DETECTORS=serviceinstance`). */
export const serviceInstanceDetector: ResourceDetector = {
  detect(): DetectedResource {
    instanceId ??= randomUuid();
    return { attributes: { 'service.instance.id': instanceId } };
  },
};
