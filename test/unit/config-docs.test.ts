// docs/configuration.md's tables are generated from the settings table (src/config/settings.ts)
// by `npm run docs:config`. This fails when the committed page is not what the table gives,
// and when the resolver reads a variable the table does not hold (or the reverse).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { updateConfigPage } from '../../src/config/docs.js';
import { resolveConfig } from '../../src/config/env.js';
import { SETTINGS } from '../../src/config/settings.js';

const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const rows = page.split('\n').filter((l) => l.startsWith('| `'));

/** Every variable resolveConfig() looks at with nothing set (an env that records the reads). */
function variablesRead(): string[] {
  const names = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_, key) => {
      if (typeof key === 'string') names.add(key);
      return undefined;
    },
  });
  resolveConfig({}, env, { cwd: '/' });
  return [...names].sort();
}

const read = variablesRead();
const inTable = [...new Set(SETTINGS.flatMap((s) => s.env))].sort();

describe('docs/configuration.md', () => {
  it('carries the tables the settings table gives (run npm run docs:config after a change in src/config/)', () => {
    expect(updateConfigPage(page)).toBe(page);
  });

  it('is generated from a table holding exactly the variables the resolver reads', () => {
    expect(read.length).toBeGreaterThan(50);
    expect(read).toContain('HEALTHSPAN_SLOW_QUERY_MS');
    expect(inTable).toEqual(read);
  });

  it.each(read)('documents %s with a type, a default, an example and a meaning', (name) => {
    const own = rows.filter((r) => r.split(' | ')[0].includes(`\`${name}\``));
    expect(own, `${name} has one row of its own in docs/configuration.md`).toHaveLength(1);
    const cells = own[0]
      .slice(2, -2)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    expect(cells).toHaveLength(5);
    for (const cell of cells) expect(cell).not.toBe('');
  });
});
