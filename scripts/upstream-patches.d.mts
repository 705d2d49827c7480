import type { Plugin } from 'esbuild';

export interface UpstreamPatch {
  file: RegExp;
  from: string;
  to: string;
}
export const PATCHES: UpstreamPatch[];
export const patchUpstream: Plugin;
