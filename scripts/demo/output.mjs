// What the demo prints, and how it formats figures.

export const out = (line = '') => process.stdout.write(`${line}\n`);
export const step = (line) => out(`demo: ${line}`);

/** A failure the demo explains in one message (no stack trace). */
export class DemoError extends Error {}

export const ms = (seconds) => (Number.isFinite(seconds) ? `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms` : '-');
export const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const pad = (s, n) => String(s).padEnd(n);
export const lpad = (s, n) => String(s).padStart(n);
/** The width of a table's name column: its longest name plus a gap, within 26..44 (longer names are cut with …). */
export const nameWidth = (names) => Math.min(44, Math.max(26, ...names.map((n) => String(n).length + 2)));
export const cell = (s, n) => (String(s).length > n - 2 ? `${String(s).slice(0, n - 3)}… ` : pad(s, n));

/** Prints `items` joined by ', ' on lines of up to ~70 columns, indented by four spaces. */
export function wrapList(items) {
  let line = '';
  for (const item of items) {
    if (line && line.length + item.length > 70) {
      out(`    ${line},`);
      line = '';
    }
    line = line ? `${line}, ${item}` : item;
  }
  out(`    ${line}`);
}

/** Prints `text` as a "- " bullet wrapped at ~90 columns. */
export function bullet(text) {
  let line = '';
  let first = true;
  for (const w of String(text).split(' ')) {
    if (line && line.length + w.length > 86) {
      out(`    ${first ? '- ' : '  '}${line}`);
      first = false;
      line = '';
    }
    line = line ? `${line} ${w}` : w;
  }
  out(`    ${first ? '- ' : '  '}${line}`);
}

/** A host for a URL: a wildcard bind is reached on loopback; IPv6 goes in brackets. */
export function urlHost(host) {
  if (!host || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export function redactUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
