// Types of user-app.mjs, for the tests that use it (test/package).
export interface InstalledPackage {
  name: string;
  version: string;
  path: string;
}
export function measureInstall(dir: string): { bytes: number; packages: InstalledPackage[] };
export function otelCopies(packages: InstalledPackage[]): Record<string, string[]>;
