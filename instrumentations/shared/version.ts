declare const __HEALTHSPAN_VERSION__: string | undefined;

/** healthspan's version, replaced at build time from package.json (see tsup.config.ts). */
export const VERSION: string = typeof __HEALTHSPAN_VERSION__ === 'string' ? __HEALTHSPAN_VERSION__ : '0.0.0-dev';
