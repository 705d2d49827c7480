// README.md and CHANGELOG.md point to docs/benchmarks.md for their figures; `npm run bench`
// rewrites that page. This fails when a paragraph that cites the page quotes a number the
// page no longer holds (a figure left behind by a newer run, or one never measured there).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

const NUMBER = /(?<![\w.])\d[\d,]*(?:\.\d+)?/g;
const normalise = (n: string) => n.replaceAll(',', '');

/** The paragraphs (list items count as their own) of a Markdown text that cite docs/benchmarks.md. */
function citingParagraphs(markdown: string): string[] {
  const paragraphs: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length > 0) paragraphs.push(current.join(' '));
    current = [];
  };
  for (const line of markdown.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) flush();
    else {
      if (/^\s*[-*] /.test(line)) flush();
      current.push(line.trim());
    }
  }
  flush();
  return paragraphs.filter((p) => p.includes('docs/benchmarks.md'));
}

/** Numbers quoted in a paragraph, outside code spans and link targets. */
function quotedNumbers(paragraph: string): string[] {
  const prose = paragraph.replace(/`[^`]*`/g, ' ').replace(/\]\([^)]*\)/g, '] ');
  return [...prose.matchAll(NUMBER)].map((m) => normalise(m[0]));
}

const page = read('docs/benchmarks.md');
const onPage = new Set([...page.matchAll(NUMBER)].map((m) => normalise(m[0])));

describe('figures quoted from docs/benchmarks.md', () => {
  it('finds quoted numbers outside code spans and links, commas dropped', () => {
    const [paragraph] = citingParagraphs(
      '# Title\n\nnot this 9.9\n\n- RSS `v1.2.3` +52.1 MB against\n  1,260 modules ([page](docs/benchmarks.md)).\n- next 7\n',
    );
    expect(quotedNumbers(paragraph as string)).toEqual(['52.1', '1260']);
  });

  for (const file of ['README.md', 'CHANGELOG.md']) {
    it(`${file}: every number in a paragraph that cites the page is on the page`, () => {
      const missing = citingParagraphs(read(file)).flatMap((p) =>
        quotedNumbers(p)
          .filter((n) => !onPage.has(n))
          .map((n) => `${n} in "${p.slice(0, 80)}…"`),
      );
      expect(missing).toEqual([]);
    });
  }
});
