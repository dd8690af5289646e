import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { scenarioJsonSchema } from './json-schema.js';
import { referenceFiles } from './reference-write.js';
import { scenarioSchema } from './schema.js';

describe('scenario reference (schema/scenario.schema.json, docs/scenarios.md)', () => {
  it.each(referenceFiles().map((f) => [f.file, f.text]))(
    '%s is up to date (npm run gen:schema)',
    (file, text) => {
      expect(readFileSync(file, 'utf8')).toBe(text);
    },
  );

  it('documents every field of every load, invariant, fault and toxic type', () => {
    const docs = referenceFiles()[1]!.text;
    const root = scenarioJsonSchema({ forDocs: true }) as {
      properties: Record<
        string,
        { oneOf?: unknown[]; anyOf?: unknown[]; items?: { oneOf?: unknown[]; anyOf?: unknown[] } }
      >;
    };
    const kinds = [root.properties.load, root.properties.invariants?.items, root.properties.faults?.items];
    for (const kind of kinds) {
      for (const v of (kind?.oneOf ?? kind?.anyOf ?? []) as {
        properties: Record<string, { const?: string }>;
      }[]) {
        const type = v.properties.type?.const;
        expect(docs, `type ${type}`).toContain(`\`${type}\``);
        for (const field of Object.keys(v.properties))
          expect(docs, `${type}.${field}`).toContain(`| \`${field}\` |`);
      }
    }
  });

  it("every type's YAML example is valid YAML that the type's schema accepts", () => {
    const root = scenarioJsonSchema({ forDocs: true }) as { properties: Record<string, unknown> };
    const yamls: string[] = [];
    JSON.stringify(root, (k, v) => {
      if (k === 'yaml' && typeof v === 'string') yamls.push(v);
      return v;
    });
    expect(yamls.length).toBeGreaterThan(15);
    const base = { target: { command: 'true' }, invariants: [{ type: 'sql', name: 'x', query: 'SELECT 1' }] };
    for (const y of yamls) {
      const value = parse(y) as unknown;
      // A block is `load: …`, a list of invariants or faults, or a toxic (checked inside a fault).
      const wrapped = Array.isArray(value)
        ? 'name' in (value[0] as object)
          ? { ...base, load: { type: 'idle', durationMs: 1 }, invariants: value }
          : 'at' in (value[0] as object)
            ? { ...base, load: { type: 'idle', durationMs: '1m' }, faults: value }
            : undefined
        : 'load' in (value as object)
          ? { ...base, ...(value as object) }
          : 'faults' in (value as object)
            ? { ...base, load: { type: 'idle', durationMs: '1m' }, ...(value as object) }
            : undefined;
      if (!wrapped) continue; // a toxic's own example: its fault type's example covers the shape
      const r = scenarioSchema.safeParse(wrapped);
      expect(r.success, `${y}\n${JSON.stringify(r.error?.issues)}`).toBe(true);
    }
  });
});
