/**
 * Where the admin API is mounted, so the HTTP server instrumentation can leave its requests
 * out (no span, no metric, not in the health score). Bounded: an app mounts it once or twice.
 */
const MAX_PREFIXES = 16;
const prefixes = new Set<string>();

/** Remembers a mount prefix (`/_healthspan`); the empty prefix (a server of its own) is handled by port. */
export function registerAdminPrefix(prefix: string): void {
  if (prefix === '' || prefix === '/' || prefixes.has(prefix) || prefixes.size >= MAX_PREFIXES) return;
  prefixes.add(prefix);
}

/** Whether a request path (without its query) is under a mounted admin API. */
export function isAdminPath(path: string): boolean {
  if (prefixes.size === 0) return false;
  for (const p of prefixes) {
    if (path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47) /* / */) return true;
  }
  return false;
}
