import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { scenarioJsonSchema } from '../src/scenario/json-schema.js';
import { scenarioSchema } from '../src/scenario/schema.js';
import { ROOT } from './helpers.js';
import { mutate, mutation } from './scenario-mutations.js';

/**
 * The published JSON Schema (what an editor checks a scenario against) gives the same verdict as the zod
 * schema (what `validate` and `run` check) on every scenario in `scenarios/` and on the fuzz test's
 * mutations of them, checked with a JSON Schema validator of its own (ajv), not with zod.
 */
const scenarioDir = join(ROOT, 'scenarios');
const files = readdirSync(scenarioDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ file: join(scenarioDir, f), text: readFileSync(join(scenarioDir, f), 'utf8') }));

// strictTypes/strictRequired are lints about schema style (a `required` inside `anyOf` without its
// `properties`), not validity; everything else in strict mode stays on (unknown keywords fail).
const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
const validate = ajv.compile(scenarioJsonSchema());

/** The rules of `ZOD_ONLY_RULES`, as zod words them. */
const ZOD_ONLY = [/maxConnections must be ≥ preAllocatedConnections/, /size_variation must be less than/];

function yamlValue(text: string): { ok: true; value: unknown } | { ok: false } {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return { ok: false };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch {
    return { ok: false };
  }
}

describe('scenario JSON Schema', () => {
  it('accepts every scenario in scenarios/', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const { file, text } of files) {
      const v = yamlValue(text);
      expect(v.ok).toBe(true);
      expect(validate(v.ok ? v.value : undefined), `${file}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });

  it('every scenario in scenarios/ names the schema for yaml-language-server', () => {
    for (const { file, text } of files) {
      expect(text.split('\n')[0], file).toBe(
        '# yaml-language-server: $schema=../schema/scenario.schema.json',
      );
    }
  });

  it('rejects what zod rejects and accepts what zod accepts, on 2,500 fuzzed scenarios', () => {
    let rejected = 0;
    let compared = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...files),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        ({ text }, ms) => {
          const mutated = mutate(text, ms);
          const v = yamlValue(mutated);
          if (!v.ok) return; // a YAML error: neither schema sees a value
          compared++;
          const byZod = scenarioSchema.safeParse(v.value);
          const bySchema = validate(v.value);
          if (!byZod.success) rejected++;
          if (!byZod.success && bySchema) {
            const only = byZod.error.issues.every((i) => ZOD_ONLY.some((r) => r.test(i.message)));
            expect(only, `${mutated}\nzod: ${JSON.stringify(byZod.error.issues)}`).toBe(true);
          } else {
            expect(
              bySchema,
              `${mutated}\nzod ${byZod.success}; schema: ${ajv.errorsText(validate.errors)}`,
            ).toBe(byZod.success);
          }
        },
      ),
      { numRuns: 2_500, seed: 20261123 },
    );
    // The mutations must reach the schemas and break most scenarios, or this checks nothing.
    expect(compared).toBeGreaterThan(800);
    expect(rejected).toBeGreaterThan(400);
  });

  it('agrees with zod when any one value of a scenario is replaced, or any one key misspelled', () => {
    const replacements: unknown[] = ['', [], {}, -1, 0, 0.5, 1e9, true, null, 'x', '0s', '2h', '2s', '-1s'];
    const stringEdits = (v: string) => [`${v}x`, `x${v}`, v.slice(1), v.toUpperCase(), ` ${v}`];
    let compared = 0;
    let rejected = 0;
    const check = (value: unknown, what: string) => {
      compared++;
      const byZod = scenarioSchema.safeParse(value);
      if (!byZod.success) rejected++;
      const bySchema = validate(value);
      if (!byZod.success && bySchema) {
        const only = byZod.error.issues.every((i) => ZOD_ONLY.some((r) => r.test(i.message)));
        expect(only, `${what}\nzod: ${JSON.stringify(byZod.error.issues)}`).toBe(true);
      } else {
        expect(bySchema, `${what}\nzod ${byZod.success}; schema: ${ajv.errorsText(validate.errors)}`).toBe(
          byZod.success,
        );
      }
    };
    for (const { file, text } of files) {
      const v = yamlValue(text);
      if (!v.ok) throw new Error(`${file} does not parse`);
      const walk = (node: unknown, path: (string | number)[]) => {
        if (node === null || typeof node !== 'object') return;
        for (const [k, child] of Object.entries(node)) {
          const at = [...path, Array.isArray(node) ? Number(k) : k];
          const edits = [...replacements, ...(typeof child === 'string' ? stringEdits(child) : [])];
          for (const r of edits)
            check(setAt(v.value, at, r), `${file}: ${at.join('.')} = ${JSON.stringify(r)}`);
          if (!Array.isArray(node)) check(renameAt(v.value, at, `${k}s`), `${file}: ${at.join('.')} renamed`);
          walk(child, at);
        }
      };
      walk(v.value, []);
    }
    expect(compared).toBeGreaterThan(3_000);
    expect(rejected).toBeGreaterThan(compared / 3);
  });
});

function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

function renameAt(root: unknown, path: readonly (string | number)[], to: string): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const key = path.at(-1)!;
  node[to] = node[key];
  delete node[key];
  return copy;
}
