export const REDACTED = 'REDACTED';

/** Query parameter names that carry secrets, matched anywhere in the (lower-cased) name. */
const SECRET_PARTS = ['token', 'key', 'secret', 'password', 'passwd', 'pwd', 'auth', 'signature', 'credential', 'session', 'jwt'];
/** Names that are secrets only when they are the whole name (`sig`, `code` of OAuth). */
const SECRET_NAMES = ['sig', 'code', 'x-amz-credential', 'awsaccesskeyid'];

/**
 * Returns a function that replaces the values of secret-looking query parameters in a URL
 * or query string with `REDACTED`, and any `user:password@` in a URL. Strings without a
 * query or credentials are returned as they are (the common, cheap case).
 */
export function createQueryRedactor(extraNames: string[] = []): (value: string) => string {
  const extra = new Set(extraNames.map((n) => n.toLowerCase()));
  const names = new Set([...SECRET_NAMES, ...extra]);
  const isSecret = (name: string): boolean => {
    let n = name.toLowerCase();
    try {
      n = decodeURIComponent(n.replace(/\+/g, ' '));
    } catch {
      // keep the raw name: still matched below
    }
    if (names.has(n)) return true;
    for (const part of SECRET_PARTS) if (n.includes(part)) return true;
    return false;
  };

  return (value: string): string => {
    let out = value;
    const scheme = out.indexOf('://');
    if (scheme !== -1) {
      const at = out.indexOf('@', scheme + 3);
      const slash = out.indexOf('/', scheme + 3);
      if (at !== -1 && (slash === -1 || at < slash)) out = `${out.slice(0, scheme + 3)}${REDACTED}:${REDACTED}${out.slice(at)}`;
    }
    const q = out.indexOf('?');
    // `url.query` is exported without its '?': treat a string with no scheme and no '/' as a bare query.
    const isBareQuery = q === -1 && scheme === -1 && !out.startsWith('/') && out.includes('=');
    if (q === -1 && !isBareQuery) return out;
    const start = isBareQuery ? 0 : q + 1;
    const hash = out.indexOf('#', start);
    const end = hash === -1 ? out.length : hash;
    const query = out.slice(start, end);
    let changed = false;
    const parts = query.split('&').map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      if (eq === -1 || !isSecret(name)) return pair;
      changed = true;
      return `${name}=${REDACTED}`;
    });
    return changed ? out.slice(0, start) + parts.join('&') + out.slice(end) : out;
  };
}
