// The `@default` JSDoc of the public option types (src/config/types.ts) says what the settings
// table (src/config/settings.ts) does: a default changed in one place and not the other fails
// here, and so does a field of SdkConfig without a setting (or a setting without a field).
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config/settings.js';
import { INSTRUMENTATION_NAMES } from '../../src/config/values.js';
import { HEALTH_DEFAULTS } from '../../src/insight/health.js';

const typesFile = fileURLToPath(new URL('../../src/config/types.ts', import.meta.url));
const program = ts.createProgram([typesFile], {
  strict: true,
  target: ts.ScriptTarget.ES2023,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  noEmit: true,
  types: [],
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(typesFile)!;

/** Every leaf property of SdkConfig by dotted path, with the text of its `@default` tag and its comment. */
function leaves(): Map<string, string | undefined> {
  const root = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'SdkConfig')!;
  const out = new Map<string, string | undefined>();
  const walk = (type: ts.Type, prefix: string) => {
    for (const prop of type.getProperties()) {
      const path = prefix + prop.name;
      const propType = checker.getNonNullableType(checker.getTypeOfSymbol(prop));
      // A group of settings is one of our interfaces (TracesConfig …); everything else is a leaf.
      const decl = propType.getSymbol()?.declarations?.[0];
      if (decl && ts.isInterfaceDeclaration(decl) && decl.getSourceFile() === source) walk(propType, `${path}.`);
      else {
        out.set(
          path,
          prop
            .getJsDocTags(checker)
            .find((t) => t.name === 'default')
            ?.text?.map((p) => p.text)
            .join('')
            .trim(),
        );
        comments.set(path, ts.displayPartsToString(prop.getDocumentationComment(checker)));
      }
    }
  };
  walk(checker.getTypeAtLocation(root), '');
  return out;
}

/** A value as the JSDoc writes it: `'otlp'`, `['prometheus']`, `{}`, `5000`. */
function literal(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    return entries.length ? `{ ${entries.map(([k, x]) => `${k}: ${literal(x)}`).join(', ')} }` : '{}';
  }
  return String(v);
}

const comments = new Map<string, string>();
const documented = leaves();
const settings = SETTINGS.filter((s) => s.path !== undefined);

/** Where the JSDoc states the effective value and the table keeps an empty one that means it. */
const EFFECTIVE: Record<string, unknown> = { 'insight.healthWeights': HEALTH_DEFAULTS.weights };

describe('@default in src/config/types.ts', () => {
  it('exists on every field of SdkConfig, and every field is one setting of the table', () => {
    expect([...documented.keys()].sort()).toEqual(settings.map((s) => s.path).sort());
    expect([...documented].filter(([, d]) => d === undefined || d === '').map(([p]) => p)).toEqual([]);
  });

  it.each(
    settings.filter((s) => typeof s.default !== 'function' && s.default !== undefined && s.path !== 'instrumentations').map((s) => [s.path!, s] as const),
  )('%s: the JSDoc and the table say the same', (path, s) => {
    expect(documented.get(path)).toBe(literal(EFFECTIVE[path] ?? s.default));
  });

  it('instrumentations: "all of them" lists every name the table knows', () => {
    expect(documented.get('instrumentations')).toBe('all of them');
    const listed = /by short name \(([^)]*)\)/.exec(comments.get('instrumentations') ?? '')?.[1];
    expect(listed?.split(/,\s*/).map((n) => n.replace(/`/g, ''))).toEqual([...INSTRUMENTATION_NAMES]);
    expect(SETTINGS.find((s) => s.path === 'instrumentations')?.default).toEqual([...INSTRUMENTATION_NAMES]);
  });
});
