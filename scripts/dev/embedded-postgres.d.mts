// Types of embedded-postgres.mjs.
import type { ChildProcess } from 'node:child_process';

export interface EmbeddedPostgresOptions {
  /** Kept between runs; initialised on first use. */
  dataDir: string;
  /** Used instead when running as root and the postgres user cannot reach `dataDir`. @default undefined */
  fallbackDataDir?: string;
  user: string;
  password: string;
  /** Created when missing. */
  database: string;
  /** Progress lines (one per step). @default nothing */
  log?: (line: string) => void;
  /** Folders are shown relative to it. @default process.cwd() */
  root?: string;
}
export interface EmbeddedPostgres {
  /** postgres://user:password@127.0.0.1:port/database */
  url: string;
  port: number;
  dataDir: string;
  process: ChildProcess | undefined;
}
export function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres>;
