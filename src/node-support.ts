/** The oldest Node.js healthspan supports: package.json `engines.node`. */
export const MIN_NODE_VERSION = '22.19.0';

/**
 * The one warning line for a Node.js older than {@link MIN_NODE_VERSION} (undefined when it is
 * new enough). healthspan still starts there, as far as it can: saying so once beats failing
 * silently, or in a dozen unrelated-looking warnings.
 */
export function unsupportedNodeWarning(version: string = process.versions.node): string | undefined {
  const have = version
    .replace(/^v/, '')
    .split('.')
    .map((n) => Number.parseInt(n, 10) || 0);
  const need = MIN_NODE_VERSION.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > need[i]) return undefined;
    if ((have[i] ?? 0) < need[i]) {
      return `Node.js ${version.replace(/^v?/, 'v')} is not supported (healthspan needs ${MIN_NODE_VERSION} or later): some instrumentations may fail to load and ESM modules may not be patched; upgrade Node.js (24 LTS recommended)`;
    }
  }
  return undefined;
}
