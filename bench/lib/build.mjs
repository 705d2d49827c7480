// What was measured: a fingerprint of the built package and the versions of the contenders.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * A short hash of every file in dist/: each healthspan run records it, so a rebuild in the
 * middle of a benchmark shows up in the report and figures from two builds are not mixed
 * silently.
 */
export function distFingerprint(root) {
  const hash = createHash('sha256');
  const dist = path.join(root, 'dist');
  for (const file of readdirSync(dist, { recursive: true }).sort()) {
    try {
      hash.update(String(file)).update(readFileSync(path.join(dist, String(file))));
    } catch {
      // a directory, or a file removed mid-build
    }
  }
  return hash.digest('hex').slice(0, 12);
}

/** The `version` of a package.json, or 'unknown'. */
export function readVersion(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}
