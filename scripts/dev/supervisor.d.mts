// Types of supervisor.mjs.
import type { ChildProcess, SpawnOptions } from 'node:child_process';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}
export interface StopResult extends ChildExit {
  /** From the stop signal to the exit. */
  ms: number;
  /** True when the child outlived `timeoutMs` and got SIGKILL. */
  killed: boolean;
}
export interface SpawnChildOptions extends SpawnOptions {
  /** What stopChild() and the exit hook send it. @default 'SIGTERM' */
  stopSignal?: NodeJS.Signals;
  /** A process group of its own, so a terminal's Ctrl-C reaches it only through us. @default true */
  detached?: boolean;
}
export interface SuperviseOptions {
  /** Prefix of the lines written to stderr. @default 'dev' */
  name?: string;
  /** The first SIGINT/SIGTERM/SIGHUP. @default a shutdown with `code` (128 + the signal's number) */
  onSignal?: (signal: NodeJS.Signals, code: number) => void;
}

export function spawnChild(argv: string[], options?: SpawnChildOptions): ChildProcess;
export function track<T extends ChildProcess>(child: T, stopSignal?: NodeJS.Signals): T;
export function isTracked(child: ChildProcess): boolean;
export function liveCount(): number;
export function exited(child: ChildProcess): Promise<ChildExit>;
export function stopChild(child: ChildProcess | undefined, signal?: NodeJS.Signals, timeoutMs?: number): Promise<StopResult>;
export function killAll(signal?: NodeJS.Signals): void;
export function onCleanup(cleanup: (code: number) => unknown): void;
export function isShuttingDown(): boolean;
export function shutdown(code: number, message?: string): Promise<never>;
export function superviseSignals(options?: SuperviseOptions): void;
/** True while `pid` runs (also when it is another user's). */
export function isAlive(pid: number): boolean;
/** The command line of a running process (arguments joined by spaces), or null (gone, or not Linux). */
export function cmdlineOf(pid: number): string | null;
