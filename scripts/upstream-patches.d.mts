import type { Plugin } from 'esbuild';

export interface UpstreamPatch {
  file: RegExp;
  /** Each `from` must occur exactly once in the file; replaced by `to`, in order. */
  edits: { from: string; to: string }[];
}
export const PATCHES: UpstreamPatch[];
export interface LazyBuiltin {
  importer: RegExp;
  builtin: string;
  exports: Record<string, string>;
}
export const LAZY_BUILTINS: LazyBuiltin[];
export function lazyStandIn(load: string, exports: Record<string, string>): string;
export const patchUpstream: Plugin;
