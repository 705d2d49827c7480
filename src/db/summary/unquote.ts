import { BACKTICK, DOT, DOUBLE_QUOTE, SPACE } from '../chars.js';

/** A quoted name without its quotes, unless that would change how it reads (`"song list"`, `"a.b"`). */
export function unquote(text: string, start: number, end: number): string {
  const q = text.charCodeAt(start);
  if ((q !== DOUBLE_QUOTE && q !== BACKTICK) || end - start <= 2) return text.slice(start, end);
  for (let i = start + 1; i < end - 1; i++) {
    const c = text.charCodeAt(i);
    if (c <= SPACE || c === DOT || c === q) return text.slice(start, end);
  }
  return text.slice(start + 1, end - 1);
}
