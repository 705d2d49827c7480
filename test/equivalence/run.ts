import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ROOT } from '../preload/child.ts';

export const app = (name: string) => fileURLToPath(new URL(`./apps/${name}.mjs`, import.meta.url));

export interface Run {
  result: Record<string, unknown>;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one equivalence app to completion, bare or with the preload, and parses its `RESULT` line. */
export function runApp(name: string, preload: boolean, env: Record<string, string> = {}): Promise<Run> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OTEL_') && !k.startsWith('HEALTHSPAN_')) base[k] = v;
  const flags = preload ? ['--import', 'healthspan/register'] : [];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...flags, app(name)], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) return reject(new Error(`${name} (${preload ? 'preloaded' : 'bare'}) printed no RESULT (exit ${code})\nstdout: ${stdout}\nstderr: ${stderr}`));
      resolve({ result: JSON.parse(line.slice('RESULT '.length)), code, stdout, stderr });
    });
  });
}

/** A difference we know of and accept, with the exact value the preloaded run shows. */
export interface KnownDifference {
  path: string;
  preloaded: unknown;
  why: string;
}

export interface Expectations {
  /** Header-name lists (dotted paths) where the preloaded run adds exactly `traceparent`: context propagation. */
  propagated?: string[];
  known?: KnownDifference[];
}

const at = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
function put(o: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  (at(o, keys.join('.')) as Record<string, unknown>)[last] = value;
}

/**
 * The preloaded result must equal the bare one, except for the listed differences, each
 * checked for its exact preloaded value first (so a fixed or a changed difference fails too).
 */
export function expectEquivalent(bare: Record<string, unknown>, preloaded: Record<string, unknown>, e: Expectations = {}): void {
  const pre = structuredClone(preloaded);
  for (const path of e.propagated ?? []) {
    const names = at(bare, path) as string[];
    expect(names, path).toBeInstanceOf(Array);
    expect(at(pre, path), `${path}: the preloaded run adds traceparent only`).toEqual([...names, 'traceparent'].sort());
    put(pre, path, names);
  }
  for (const k of e.known ?? []) {
    expect(at(pre, k.path), `${k.path} (${k.why})`).toEqual(k.preloaded);
    put(pre, k.path, at(bare, k.path));
  }
  expect(pre).toEqual(bare);
}
