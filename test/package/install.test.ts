// What a user gets from `npm install healthspan`: the packed tarball installed into a fresh
// app folder, with no overrides and none of this repository's node_modules.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureInstall, otelCopies } from '../../scripts/dev/user-app.mjs';
import { ROOT } from '../preload/child.ts';

const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'warn', npm_config_fund: 'false', npm_config_audit: 'false' },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

let base: string;
let app: string;
let installOutput: string;
beforeAll(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'healthspan-install-'));
  // dist/ is built by the test command before vitest runs.
  const pack = run('npm', ['pack', '--pack-destination', base, '--silent'], ROOT);
  expect(pack.code, pack.out).toBe(0);
  const tgz = pack.out
    .trim()
    .split('\n')
    .filter((l) => l.endsWith('.tgz'))
    .at(-1)!;
  app = path.join(base, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const install = run('npm', ['install', '--prefer-offline', path.join(base, tgz)], app);
  expect(install.code, install.out).toBe(0);
  installOutput = install.out;
}, 180_000);
afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('npm install of the packed tarball', () => {
  it('installs each @opentelemetry/* package once: the API the app shares, nothing else', () => {
    const { packages } = measureInstall(app);
    expect(otelCopies(packages)).toEqual({ '@opentelemetry/api': [expect.stringMatching(/^1\.\d+\.\d+$/)] });
  });

  it('installs no gRPC stack unless asked (an optional peer) and runs no install script', () => {
    const names = measureInstall(app).packages.map((p) => p.name);
    expect(names).not.toContain('@grpc/grpc-js');
    expect(names).not.toContain('protobufjs');
    expect(names.sort()).toEqual(
      [
        '@opentelemetry/api',
        'cjs-module-lexer',
        'es-module-lexer',
        'healthspan',
        'hookified',
        'import-in-the-middle',
        'keyv',
        'module-details-from-path',
      ].sort(),
    );
  });

  it('prints no npm warning, and npm ls --all exits 0', () => {
    expect(installOutput.split('\n').filter((l) => /^npm warn/i.test(l))).toEqual([]);
    const ls = run('npm', ['ls', '--all'], app);
    expect(ls.code, ls.out).toBe(0);
  });

  it('says which package to install when grpc is configured without it, and the app runs on', () => {
    writeFileSync(path.join(app, 'grpc.cjs'), "require('healthspan').start({}); console.log('app ran');\n");
    const r = spawnSync(process.execPath, ['grpc.cjs'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('app ran\n');
    expect(r.stderr).toContain(
      'healthspan: warning: the OTLP trace exporter could not be loaded: OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs the package @grpc/grpc-js, which is not installed (npm install @grpc/grpc-js), or use http/protobuf; traces are not exported',
    );
  });
});

describe('start-up, as a user app gets it', () => {
  // A node:http app that, at its first request, prints which Node built-ins and how many
  // module files are loaded: what the preload added before the app served anything.
  const APP = [
    "const http = require('node:http');",
    'const server = http.createServer((_req, res) => res.end("hi")).listen(0, "127.0.0.1", () => {',
    '  http.get("http://127.0.0.1:" + server.address().port + "/", (res) => {',
    '    res.resume().on("end", () => {',
    '      const builtins = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13));',
    '      const ours = Object.keys(require.cache).filter((f) => f.includes("/node_modules/healthspan/dist/")).map((f) => f.split("/node_modules/healthspan/dist/")[1]);',
    '      console.log(JSON.stringify({ builtins, files: Object.keys(require.cache).length, ours }));',
    '      server.close();',
    '    });',
    '  });',
    '});',
  ].join('\n');

  // Which of our files a start loads: the main bundle, and of dist/vendor/ only the chunks of
  // what is configured (tsup.config.ts CHUNKS): the metrics SDK for Prometheus, the logs SDK and
  // its OTLP exporter for alert log records. The OTLP transport of the traces loads with the
  // first export, after the first request.
  it.each([
    ['--import', 'metrics and logs off', 'none', 'none', ['index.cjs']],
    ['--require', 'Prometheus metrics', 'prometheus', 'none', ['index.cjs', 'register/require.cjs', 'vendor/metrics.cjs']],
    ['--import', 'alert log records', 'none', 'otlp', ['index.cjs', 'vendor/logs.cjs', 'vendor/metrics.cjs', 'vendor/otlp.cjs']],
  ])(
    'with %s and %s, the first request is served without crypto, zlib, v8, fs/promises or readline, under 150 module files, and only the chunks it uses',
    (flag, _what, metrics, logs, chunks) => {
      writeFileSync(path.join(app, 'first-request.cjs'), `${APP}\n`);
      const r = spawnSync(process.execPath, [flag, 'healthspan/register', 'first-request.cjs'], {
        cwd: app,
        encoding: 'utf8',
        env: {
          ...process.env,
          TMPDIR: mkdtempSync(path.join(base, 'tmp-')),
          OTEL_METRICS_EXPORTER: metrics,
          HEALTHSPAN_PROMETHEUS_SERVE: 'false',
          OTEL_LOGS_EXPORTER: logs,
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
          HEALTHSPAN_SHUTDOWN_TIMEOUT: '200',
        },
      });
      expect(r.status, r.stderr).toBe(0);
      const { builtins, files, ours } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { builtins: string[]; files: number; ours: string[] };
      expect(builtins).toContain('http');
      for (const unused of ['crypto', 'zlib', 'v8', 'internal/fs/promises', 'internal/readline/interface']) expect(builtins).not.toContain(unused);
      expect(files).toBeLessThan(150);
      expect(ours.sort()).toEqual(chunks);
    },
  );
});

describe('the OpenTelemetry API, shared with the app', () => {
  // Before the app requires the API itself: how many of the installed API's files healthspan
  // loaded; then whether the app's own API reaches healthspan's tracer provider and context.
  const APP = [
    "const ours = Object.keys(require.cache).filter((f) => f.includes('/node_modules/@opentelemetry/api/')).length;",
    "const api = require('@opentelemetry/api');",
    "const span = api.trace.getTracer('app').startSpan('manual');",
    'const child = api.context.with(api.trace.setSpan(api.context.active(), span), () => api.trace.getTracer("app").startSpan("child"));',
    'console.log(JSON.stringify({ ours, recording: span.isRecording(), sameTrace: child.spanContext().traceId === span.spanContext().traceId }));',
  ].join('\n');
  const run = () => {
    writeFileSync(path.join(app, 'api-app.cjs'), `${APP}\n`);
    const r = spawnSync(process.execPath, ['--require', 'healthspan/register', 'api-app.cjs'], {
      cwd: app,
      encoding: 'utf8',
      env: {
        ...process.env,
        TMPDIR: mkdtempSync(path.join(base, 'tmp-')),
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      },
    });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ours: number; recording: boolean; sameTrace: boolean };
  };

  it('is not loaded from its 53 files when the installed version is the one bundled, and the app still reaches our tracer and context', () => {
    expect(run()).toEqual({ ours: 0, recording: true, sameTrace: true });
  });

  it('is required as installed when the installed version differs, with the same result', () => {
    const file = path.join(app, 'node_modules/@opentelemetry/api/package.json');
    const original = readFileSync(file, 'utf8');
    const pkg = JSON.parse(original) as { version: string };
    writeFileSync(file, JSON.stringify({ ...pkg, version: `${pkg.version}-not-bundled` }));
    try {
      const r = run();
      expect(r.ours).toBeGreaterThan(10);
      expect(r).toMatchObject({ recording: true, sameTrace: true });
    } finally {
      writeFileSync(file, original);
    }
  });
});

describe('types, as a TypeScript consumer sees them', () => {
  const consumer = {
    'esm.mts': [
      "import 'healthspan/register';",
      "import { start, createCache, getHealth, type HealthspanOptions } from 'healthspan';",
      "import type { StartOptions } from 'healthspan';",
      '// @ts-expect-error internal classes are not exported',
      "import { InsightProcessor } from 'healthspan';",
      "const options: HealthspanOptions = { serviceName: 'checkout' };",
      'const enabled: boolean = start(options).enabled;',
      "const cache = createCache<{ id: number }>({ name: 'users' });",
      'const score: number | undefined = getHealth()?.score;',
      '// @ts-expect-error serviceName is a string',
      'start({ serviceName: 42 });',
      'const extended: StartOptions = { ...options, spanProcessors: [], metricReaders: [], extraInstrumentations: [] };',
      '// @ts-expect-error instrumentations is a list of names; objects go to extraInstrumentations',
      'start({ instrumentations: [{ instrumentationName: "x" }] });',
      'start(extended);',
      'export { enabled, cache, score };',
    ],
    'cjs.cts': [
      "import healthspan = require('healthspan');",
      'const enabled: boolean = healthspan.start().enabled;',
      '// @ts-expect-error start returns the SDK, not a promise',
      'healthspan.start().then(() => {});',
      'export = enabled;',
    ],
  };

  function typecheck(dir: string, compilerOptions: Record<string, unknown>, files: string[]) {
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules/@types')],
          ...compilerOptions,
        },
        files,
      }),
    );
    return run(process.execPath, [TSC, '-p', dir], dir);
  }

  it('type-checks ESM and CommonJS files with moduleResolution nodenext (skipLibCheck off)', () => {
    for (const [file, lines] of Object.entries(consumer)) writeFileSync(path.join(app, file), `${lines.join('\n')}\n`);
    const r = typecheck(app, { module: 'nodenext', moduleResolution: 'nodenext' }, Object.keys(consumer));
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it('type-checks with moduleResolution bundler', () => {
    writeFileSync(path.join(app, 'bundled.ts'), `${consumer['esm.mts'].join('\n')}\n`);
    const r = typecheck(app, { module: 'esnext', moduleResolution: 'bundler' }, ['bundled.ts']);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it('fails on a wrong use, so the checks above are not checking `any`', () => {
    writeFileSync(path.join(app, 'wrong.mts'), "import { start } from 'healthspan';\nconst n: number = start().enabled;\nexport { n };\n");
    const r = typecheck(app, { module: 'nodenext', moduleResolution: 'nodenext' }, ['wrong.mts']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("error TS2322: Type 'boolean' is not assignable to type 'number'.");
  });
});
