// Types of user-app.mjs.
export interface InstalledPackage {
  name: string;
  version: string;
  path: string;
}
export interface InstallCost {
  bytes: number;
  packages: number;
  otelCopies: Record<string, string[]>;
  npmLsOk: boolean;
  warnings: number;
  seconds: number;
}
export interface UserApp {
  /** The temporary folder holding the tarball and every app folder. */
  base: string;
  /** The app folder: healthspan, upstream's auto-instrumentations-node, pg, ws and bench/apps. */
  dir: string;
  /** The same with the `baseline` tarball, when given. */
  baselineDir?: string;
  versions: { healthspan: string; upstream: string; pg: string; baseline?: string };
  install: { healthspan: InstallCost; upstream: InstallCost; baseline?: InstallCost };
  /** Removes `base` (kept when BENCH_KEEP_APP is set). */
  cleanup(): void;
}
export function measureInstall(dir: string): { bytes: number; packages: InstalledPackage[] };
export function otelCopies(packages: InstalledPackage[]): Record<string, string[]>;
/**
 * Builds and packs the repository at `root` and installs the tarball into fresh app folders.
 * @param options.baseline a tarball of an earlier healthspan, installed in a folder of its own. @default undefined
 * @param options.log progress lines. @default nothing
 */
export function prepareUserApp(root: string, options?: { baseline?: string; log?: (line: string) => void }): UserApp;
