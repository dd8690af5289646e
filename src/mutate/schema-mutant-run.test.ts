import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadScenario } from '../scenario/load.js';
import { discoverSchemaMutants, schemaMutantScenario } from './schema-mutant-run.js';
import { constraintNames } from './schema-mutants.js';
import { loadSqlParser } from './sql-parser.js';

await loadSqlParser();
const ROOT = join(import.meta.dirname, '..', '..');
const file = join(ROOT, 'scenarios', 'single-completion.yaml');
const out = mkdtempSync(join(tmpdir(), 'whatbreaks-schema-mutant-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('schemaMutantScenario', () => {
  test('writes the schema without the constraint into <dir>/schema and points a copy of the scenario at it', () => {
    const scenario = loadScenario(file);
    const original = scenario.database.schema;
    const copy = schemaMutantScenario(scenario, 'job_status_history_job_id_status_key', join(out, 'm'));
    expect(copy.database.schema).toEqual([join(out, 'm', 'schema', '1-schema.sql')]);
    const files = copy.database.schema.map((path) => ({ path, sql: readFileSync(path, 'utf8') }));
    const before = constraintNames(original.map((path) => ({ path, sql: readFileSync(path, 'utf8') })));
    expect(constraintNames(files)).toEqual(
      before.filter((c) => c !== 'job_status_history_job_id_status_key'),
    );
    // The rest of the scenario is the original's; the original is untouched.
    expect(copy.database.seed).toEqual(scenario.database.seed);
    expect(copy.invariants).toBe(scenario.invariants);
    expect(scenario.database.schema).toBe(original);
  });

  test('an unknown constraint is a USAGE error naming the ones there are', () => {
    expect(() => schemaMutantScenario(loadScenario(file), 'no_such_key', join(out, 'x'))).toThrow(
      expect.objectContaining({
        code: 'USAGE',
        hint: expect.stringContaining('job_status_history_job_id_status_key'),
      }),
    );
  });

  test('discoverSchemaMutants: the scenario files as it names them, their points and refused keys', async () => {
    const d = await discoverSchemaMutants(loadScenario(file), []);
    expect(d.files).toEqual(['../targets/jobs/schema.sql']);
    expect(d.points.map((p) => [p.constraint, p.file])).toEqual([
      ['jobs_status_check', '../targets/jobs/schema.sql'],
      ['job_status_history_job_id_status_key', '../targets/jobs/schema.sql'],
    ]);
    expect(d.refused.map((p) => p.constraint)).toEqual([
      'jobs_pkey',
      'job_status_history_pkey',
      'notifications_pkey',
    ]);
  });
});
