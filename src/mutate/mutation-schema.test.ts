import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixtureMutationFile } from './mutation-fixture.js';
import { MUTATION_SCHEMA_VERSION, validateMutationFile } from './mutation-schema.js';
import { MUTATION_SCHEMA_FILE, mutationSchemaText } from './mutation-schema-write.js';

describe('mutation.json schema', () => {
  it('the published src/mutate/mutation.schema.json is generated from the zod schema (run mutation-schema-write)', () => {
    expect(readFileSync(MUTATION_SCHEMA_FILE, 'utf8')).toBe(mutationSchemaText());
  });

  it('is JSON Schema 2020-12, requires the version and lets later fields in', () => {
    const s = JSON.parse(readFileSync(MUTATION_SCHEMA_FILE, 'utf8'));
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s.required).toEqual(
      expect.arrayContaining(['schemaVersion', 'kind', 'tool', 'mutants', 'score', 'discovery']),
    );
    expect(s.properties.schemaVersion.const).toBe(MUTATION_SCHEMA_VERSION);
    expect(s.additionalProperties).toBeUndefined();
    expect(validateMutationFile({ ...fixtureMutationFile(), addedLater: 1 }).ok).toBe(true);
  });

  it('accepts the file mutate writes (with kind and schedule), rejects broken ones with paths', () => {
    const file = fixtureMutationFile();
    expect(file).toMatchObject({
      schemaVersion: 1,
      kind: 'mutation',
      trialsPerMutant: 2,
      durationMs: 15_000,
    });
    expect(validateMutationFile(file)).toMatchObject({ ok: true });
    const bad = structuredClone(file) as unknown as Record<string, unknown>;
    (bad.mutants as Record<string, unknown>[])[0]!.outcome = 'maybe';
    bad.score = 2;
    delete bad.schemaVersion;
    const r = validateMutationFile(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.issues.some((i) => i.startsWith('mutants.0.outcome:'))).toBe(true);
      expect(r.issues.some((i) => i.startsWith('score:'))).toBe(true);
      expect(r.issues.some((i) => i.startsWith('schemaVersion:'))).toBe(true);
    }
  });
});
