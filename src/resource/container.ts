import { readFileSync } from 'node:fs';
import type { DetectedResource, ResourceDetector } from '@opentelemetry/resources';

const ID = /[0-9a-f]{64}/g;
/** A container's own bind mounts (`/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`) come from a directory named by its id. */
const MOUNT = /\/(?:containers|overlay-containers|sandboxes)\/([0-9a-f]{64})\/(?:userdata\/)?(?:hostname|hosts|resolv\.conf)\b/;

/**
 * The container id from `/proc/self/cgroup` under cgroup v1 (`…/docker/<id>`,
 * `…/cri-containerd-<id>.scope`, `…/kubepods/…/<id>`): the last 64-hex-digit run of the
 * first line that has one.
 */
export function containerIdFromCgroup(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const ids = line.match(ID);
    if (ids) return ids[ids.length - 1];
  }
  return undefined;
}

/**
 * The container id from `/proc/self/mountinfo`, for cgroup v2 (where `/proc/self/cgroup` is
 * only `0::/`): Docker, containerd and Podman/CRI-O bind-mount the container's hostname,
 * hosts and resolv.conf from a directory named by its id.
 */
export function containerIdFromMountinfo(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = MOUNT.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * `container.id` when the process runs in a container, read from two local files (no
 * network probe, no subprocess); nothing outside a container or off Linux.
 */
export const containerDetector: ResourceDetector = {
  detect(): DetectedResource {
    if (process.platform !== 'linux') return {};
    const id = containerIdFromCgroup(read('/proc/self/cgroup')) ?? containerIdFromMountinfo(read('/proc/self/mountinfo'));
    return id ? { attributes: { 'container.id': id } } : {};
  },
};
