import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { containerDetector, containerIdFromCgroup, containerIdFromMountinfo } from '../../src/resource/container.js';

const ID = 'ac679f8a8319c8cf7d38e1adf263bc08d23e8a6d5ac1b1f4a2f7e3a9c3b1d2e4';

// Lines as Docker, containerd (Kubernetes) and Podman write them.
describe('container.id', () => {
  it.each([
    ['docker, cgroup v1', `12:memory:/docker/${ID}\n11:cpu:/docker/${ID}\n`],
    ['kubernetes containerd, cgroup v1', `9:pids:/kubepods/burstable/pod1234/cri-containerd-${ID}.scope\n`],
    ['systemd docker scope', `1:name=systemd:/system.slice/docker-${ID}.scope\n`],
  ])('from /proc/self/cgroup: %s', (_name, text) => {
    expect(containerIdFromCgroup(text)).toBe(ID);
  });

  it('is not read from a cgroup v2 file (0::/) nor from a 32-digit id', () => {
    expect(containerIdFromCgroup('0::/\n')).toBeUndefined();
    expect(containerIdFromCgroup('4:memory:/process_api/7524f7254b2848f20e6a3bebd4dd7301\n')).toBeUndefined();
  });

  it.each([
    ['docker', `680 672 254:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw`],
    ['podman', `1100 1090 0:45 /containers/storage/overlay-containers/${ID}/userdata/hostname /etc/hostname rw - tmpfs tmpfs rw`],
    ['containerd', `900 890 254:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/${ID}/hostname /etc/hostname rw - ext4 /dev/vda1 rw`],
  ])('from /proc/self/mountinfo (cgroup v2): %s', (_name, line) => {
    expect(containerIdFromMountinfo(`24 30 0:22 / /proc rw - proc proc rw\n${line}\n`)).toBe(ID);
  });

  it('the detector reads this machine: container.id exactly when the files name one', () => {
    const read = (p: string) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return '';
      }
    };
    const expected = containerIdFromCgroup(read('/proc/self/cgroup')) ?? containerIdFromMountinfo(read('/proc/self/mountinfo'));
    expect(containerDetector.detect()).toEqual(expected ? { attributes: { 'container.id': expected } } : {});
  });
});
