/** The attribute value used once the distinct-template bound is reached. */
export const OTHER_ROUTE = '_other';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMERIC = /^\d+$/;
const HEX = /^(0x)?[0-9a-f]{12,}$/i;
// Base64/base64url tokens: long, and mixing digits with letters (plain words are kept).
const TOKEN = /^[A-Za-z0-9_\-+=.~]{16,}$/;

/**
 * A heuristic route template for servers without a router (bare node:http): path segments
 * that look like identifiers — integers, UUIDs, long hex, long base64 tokens — become
 * `:id`. It cannot know the app's real routes, so the number of distinct templates is
 * capped; past the cap everything is `_other`, counted in {@link folded}. The HTTP server
 * instrumentation asks only for answers other than 404, so a scanner's flood of unknown
 * paths takes none of the cap.
 */
export class RouteTemplater {
  private readonly seen = new Set<string>();
  /** Requests whose template was folded into `_other` because the cap was reached. */
  folded = 0;
  /**
   * Set once a router (express, fastify, koa) is in the app: from then on only the router
   * names HTTP routes, and a request it did not route (a 404, a plain middleware's answer)
   * has no `http.route` rather than one made from its raw path.
   */
  routerInUse = false;

  constructor(
    private readonly limit: number,
    private readonly onLimitReached: (limit: number) => void = () => {},
  ) {}

  template(rawPath: string | undefined): string {
    const t = templatePath(rawPath ?? '/');
    if (this.seen.has(t)) return t;
    if (this.seen.size < this.limit) {
      this.seen.add(t);
      return t;
    }
    if (this.folded++ === 0) this.onLimitReached(this.limit);
    return OTHER_ROUTE;
  }

  get size(): number {
    return this.seen.size;
  }
}

/** Pure path → template, without the cap. */
export function templatePath(rawPath: string): string {
  const q = rawPath.search(/[?#]/);
  let path = q === -1 ? rawPath : rawPath.slice(0, q);
  if (path === '' || path[0] !== '/') path = `/${path}`;
  // Fast path: nearly every identifier has a digit; a path without one is its own template.
  if (!/\d/.test(path)) return path;
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    if (isIdentifier(segments[i])) segments[i] = ':id';
  }
  return segments.join('/');
}

function isIdentifier(seg: string): boolean {
  if (seg === '') return false;
  if (NUMERIC.test(seg) || UUID.test(seg) || HEX.test(seg)) return true;
  return TOKEN.test(seg) && /\d/.test(seg) && /[A-Za-z]/.test(seg);
}
