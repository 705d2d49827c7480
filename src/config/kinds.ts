import {
  ADMIN_TOKEN_LENGTH,
  HEALTH_WEIGHT_MAX,
  adminToken,
  healthWeights,
  hostName,
  httpUrl,
  intIn,
  keyValueList,
  listOf,
  nonEmptyString,
  numberIn,
  oneOf,
  parseBool,
  stringList,
  urlPath,
} from './parse.js';
import { HEALTH_COMPONENTS, SECRET_HEADERS } from './values.js';

import type { Kind, ParseContext } from './parse.js';

export type { Kind, ParseContext };

const code = (values: readonly string[]) => values.map((v) => `\`${v}\``).join(', ');

export const bool: Kind<boolean> = { parse: parseBool, expected: 'true or false', docType: 'boolean' };

type Unit = 'ms' | 'MiB' | 'port' | 'share';
const NOUN: Record<Unit, string> = { ms: 'milliseconds', MiB: 'MiB', port: 'a port', share: 'a share' };

/** A number within inclusive bounds; `integer` refuses decimals. Bounds are written once, here. */
export function range(o: { min: number; max: number; integer?: boolean; unit?: Unit }): Kind<number> {
  const integer = o.integer ?? false;
  const noun = o.unit ? NOUN[o.unit] : integer ? 'an integer' : 'a number';
  return {
    parse: integer ? intIn(o.min, o.max) : numberIn(o.min, o.max),
    expected: `${noun} from ${o.min} to ${o.max}`,
    docType: `${integer ? 'integer' : 'number'}${o.unit ? `, ${o.unit}` : ''} (${o.min}–${o.max})`,
    range: { min: o.min, max: o.max, integer },
  };
}

/** Whole milliseconds. */
export const ms = (min: number, max: number) => range({ min, max, integer: true, unit: 'ms' });
export const int = (min: number, max: number) => range({ min, max, integer: true });
export const port = range({ min: 1, max: 65535, integer: true, unit: 'port' });

export function oneOfKind<T extends string>(values: readonly T[]): Kind<T> {
  return { parse: oneOf(values), expected: values.join('|'), docType: code(values) };
}

/** A comma list (env) or array (option) of known values; `none` anywhere means the empty list. */
export function listKind<T extends string>(values: readonly T[], o: { noneIsEmpty?: boolean } = {}): Kind<T[]> {
  const parse = listOf(values);
  return {
    parse: (v) => {
      const list = parse(v);
      return list && o.noneIsEmpty && list.includes('none' as T) ? [] : list;
    },
    expected: `a comma list of ${values.join(', ')}`,
    docType: `comma list of ${code(values)}`,
  };
}

/** A list of known names, `all` or `none` (OTEL_NODE_RESOURCE_DETECTORS). */
export function namesOrAllKind<T extends string>(values: readonly T[], note: string): Kind<T[]> {
  const parse = listOf(values);
  return {
    parse: (v) => {
      const list = stringList(v)?.map((s) => s.toLowerCase());
      if (!list) return undefined;
      if (list.includes('none')) return [];
      if (list.includes('all')) return [...values];
      return parse(list);
    },
    expected: `a comma list of ${values.join(', ')}, all or none; ${note}`,
    docType: `comma list of ${code(values)}, or \`all\` / \`none\``,
  };
}

/**
 * Known names where each unknown entry is left out, not the whole list: a typo in one name
 * must not turn off the others. Env names may carry `prefix`.
 */
export function knownNamesKind(values: readonly string[], o: { prefix: string; noun: string }): Kind<string[]> {
  return {
    parse: (v, ctx) => {
      if (ctx.option && !Array.isArray(v)) return undefined;
      const items = Array.isArray(v) ? v.map((s) => String(s)) : stringList(v);
      if (!items) return undefined;
      const names = items
        .map((s) => s.trim().toLowerCase())
        .map((s) => (s.startsWith(o.prefix) ? s.slice(o.prefix.length) : s))
        .filter(Boolean);
      return names.filter((n) => {
        if (values.includes(n)) return true;
        ctx.leftOut(n, `one of ${values.join(', ')}`);
        return false;
      });
    },
    expected: `a comma list of ${values.join(', ')}`,
    expectedOption: `an array of ${o.noun}`,
    docType: `comma list of ${code(values)} (the \`${o.prefix}\` prefix is accepted)`,
  };
}

/** Header names to record; a credential or malformed name is left out with a warning. */
export const headerNames: Kind<string[]> = {
  parse: (v, ctx) => {
    const list = stringList(v);
    if (!list) return undefined;
    const kept: string[] = [];
    for (const h of list.map((s) => s.toLowerCase())) {
      if (SECRET_HEADERS.includes(h)) ctx.leftOut(h, 'a header that is not a credential: credentials are never captured');
      else if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h)) ctx.leftOut(h, 'a valid header name');
      else kept.push(h);
    }
    return kept;
  },
  expected: 'a comma list of header names',
  docType: 'comma list of header names',
};

export const names: Kind<string[]> = { parse: stringList, expected: 'a comma list of parameter names', docType: 'comma list of names' };
export const name: Kind<string> = { parse: nonEmptyString, expected: 'a non-empty name', docType: 'string' };
export const url: Kind<string> = { parse: httpUrl, expected: 'an http(s) URL', docType: 'http(s) URL' };
export const host: Kind<string> = { parse: hostName, expected: 'a host name or IP address', docType: 'host name or IP address' };
export const path: Kind<string> = { parse: urlPath, expected: 'a path starting with /', docType: 'path starting with `/`' };
export const keyValues: Kind<Record<string, string>> = {
  parse: keyValueList,
  expected: 'key=value pairs separated by commas',
  expectedOption: 'an object of strings',
  docType: '`key=value,…` (percent-encoded values)',
};
export const token: Kind<string> = {
  parse: adminToken,
  expected: `a token of ${ADMIN_TOKEN_LENGTH.min} to ${ADMIN_TOKEN_LENGTH.max} visible ASCII characters without spaces`,
  docType: `string, ${ADMIN_TOKEN_LENGTH.min}–${ADMIN_TOKEN_LENGTH.max} visible ASCII characters, no spaces`,
};
export const weights: Kind<Partial<Record<(typeof HEALTH_COMPONENTS)[number], number>>> = {
  parse: healthWeights,
  expected: `name=weight pairs of ${HEALTH_COMPONENTS.join(', ')}, with weights from 0 to ${HEALTH_WEIGHT_MAX}`,
  docType: `comma list of \`component=weight\` (components ${code(HEALTH_COMPONENTS)}; weights 0–${HEALTH_WEIGHT_MAX})`,
};
