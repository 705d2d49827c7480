// docs/configuration.md documents every variable the parser reads, with the range it enforces:
// a range added or changed in src/config/ without the page fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/env.js';

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

/** Its row: by name, or for a per-signal OTLP variable the shared one's row with the `(+ _TRACES_ …)` note. */
function rowOf(name: string): string | undefined {
  const own = rows.find((r) => r.includes(`\`${name}\``));
  if (own) return own;
  const m = /^OTEL_EXPORTER_OTLP_(TRACES|METRICS|LOGS)_(\w+)$/.exec(name);
  return m ? rows.find((r) => r.includes(`\`OTEL_EXPORTER_OTLP_${m[2]}\``) && r.includes(`\`_${m[1]}_\``)) : undefined;
}

/** The range named in the parser's "expected …" when the value is far out of any range. */
function rangeOf(name: string): string | undefined {
  const { problems } = resolveConfig({}, { [name]: '-99999999999999' }, { cwd: '/' });
  const expected = problems.find((p) => p.source === name)?.expected ?? '';
  const m = /(-?\d[\d.]*) to (-?\d[\d.]*)/.exec(expected);
  return m ? `${m[1]}–${m[2]}` : undefined;
}

const names = variablesRead();

describe('docs/configuration.md', () => {
  it('is checked against a real list of variables', () => {
    expect(names.length).toBeGreaterThan(50);
    expect(names).toContain('HEALTHSPAN_SLOW_QUERY_MS');
  });

  it.each(names)('documents %s, with the range the parser enforces', (name) => {
    const row = rowOf(name);
    expect(row, `${name} has no row in docs/configuration.md`).toBeDefined();
    const range = rangeOf(name);
    if (range) expect(row, `${name}: the parser allows ${range}`).toContain(range);
  });
});
