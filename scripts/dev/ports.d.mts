// Types of ports.mjs.
/** @param host @default '127.0.0.1' */
export function freePort(host?: string): Promise<number>;
/** @param host @default '127.0.0.1' */
export function isPortFree(port: number, host?: string): Promise<boolean>;
