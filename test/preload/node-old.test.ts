// Below the supported Node (engines: >= 22.19) the preload says so in one line, once, and the
// app still runs. This machine kind ships Node 20 as /usr/bin/node.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN_NODE_VERSION, unsupportedNodeWarning } from '../../src/node-support.js';
import { fixture, get, startApp } from './child.ts';

const OLD_NODE = process.env.HEALTHSPAN_OLD_NODE ?? '/usr/bin/node';
const oldVersion = existsSync(OLD_NODE) ? execFileSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).trim() : undefined;
const isOld = oldVersion !== undefined && unsupportedNodeWarning(oldVersion) !== undefined;

describe('unsupportedNodeWarning', () => {
  it.each([
    ['20.20.2', true],
    ['v22.18.9', true],
    ['22.19.0', false],
    ['22.20.0', false],
    ['24.1.0', false],
    ['18.0.0', true],
  ])('%s → warns: %s', (version, warns) => {
    expect(unsupportedNodeWarning(version) !== undefined).toBe(warns);
  });

  it('names the version, the minimum and what may not work', () => {
    expect(unsupportedNodeWarning('20.20.2')).toBe(
      `Node.js v20.20.2 is not supported (healthspan needs ${MIN_NODE_VERSION} or later): some instrumentations may fail to load and ESM modules may not be patched; upgrade Node.js (24 LTS recommended)`,
    );
  });
});

describe.skipIf(!isOld)(`--import healthspan/register on ${oldVersion ?? 'an old Node'} (${OLD_NODE})`, () => {
  it('prints one line that this Node is not supported, first, and the app still answers', async () => {
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), { OTEL_TRACES_EXPORTER: 'none' }, { node: OLD_NODE });
    try {
      expect((await get(`${app.url}/hello`)).status).toBe(200);
      const lines = app.stderr().split('\n');
      expect(lines[0]).toBe(`healthspan: warning: ${unsupportedNodeWarning(oldVersion!)}`);
      expect(lines.filter((l) => l.includes('is not supported'))).toHaveLength(1);
    } finally {
      await app.stop();
    }
  });
});

describe('on a supported Node', () => {
  it('says nothing about the version', async () => {
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), { OTEL_TRACES_EXPORTER: 'none' });
    try {
      expect(app.stderr()).toContain(' started (node ');
      expect(app.stderr()).not.toContain('is not supported');
    } finally {
      await app.stop();
    }
  });
});
