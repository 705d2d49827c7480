import { describe, expect, it } from 'vitest';
import { Logger, createDiagLogger } from '../../src/log.js';

function setup(level: 'info' | 'warn' | 'none' = 'info') {
  const lines: string[] = [];
  let now = 0;
  const log = new Logger(
    level,
    1000,
    (l) => lines.push(l),
    () => now,
  );
  return { log, lines, tick: (ms: number) => (now += ms) };
}

describe('Logger', () => {
  it('prints a repeated warning once per interval with the number held back', () => {
    const { log, lines, tick } = setup();
    for (let i = 0; i < 50; i++) log.warn('export failed', 'k');
    tick(1000);
    log.warn('export failed again', 'k');
    expect(lines).toEqual(['healthspan: warning: export failed', 'healthspan: warning: export failed again (49 more since the last report)']);
  });

  it('limits each key on its own', () => {
    const { log, lines } = setup();
    log.warn('a');
    log.warn('b');
    log.warn('a');
    expect(lines).toEqual(['healthspan: warning: a', 'healthspan: warning: b']);
  });

  it('honours the level', () => {
    const { log, lines } = setup('warn');
    log.info('hidden');
    log.warn('shown');
    const quiet = setup('none');
    quiet.log.error('nothing');
    expect(lines).toEqual(['healthspan: warning: shown']);
    expect(quiet.lines).toEqual([]);
  });

  it('rate-limits OpenTelemetry diagnostics whose messages differ only in numbers', () => {
    const { log, lines } = setup();
    const diag = createDiagLogger(log);
    for (let i = 0; i < 20; i++) diag.error(`Export failed after ${i} ms`, new Error('ECONNREFUSED'));
    expect(lines).toEqual(['healthspan: error: [otel] Export failed after 0 ms ECONNREFUSED']);
  });

  it('never throws when the write fails', () => {
    const log = new Logger('info', 0, () => {
      throw new Error('EPIPE');
    });
    expect(() => log.warn('x')).not.toThrow();
  });
});
