/**
 * Schema mutants of a scenario (docs/mutants.md, `drop-constraint`): the constraint points of its
 * `database.schema` files, and for one point a copy of the scenario whose `database.schema` names the
 * same files without that constraint, written where a person can read them:
 *
 *   scenario.database.schema ──dropConstraint(name)──► <dir>/schema/<n>-<file name> ──► scenario copy
 *
 * The run itself is unchanged: every trial's reset applies the copy's schema files, then the seed and
 * `setup` as usual. `replay` re-applies a schema mutant with the same function.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { Scenario } from '../scenario/types.js';
import {
  type ConstraintPoint,
  discoverConstraintPoints,
  dropConstraint,
  type SchemaDiscovery,
  type SchemaFile,
} from './schema-mutants.js';

/**
 * The scenario's `database.schema` files with their text, each `path` relative to the scenario's folder
 * (as the scenario file writes it, e.g. `../targets/jobs/schema.sql`), in the scenario's order.
 */
export function scenarioSchemaFiles(scenario: Scenario): SchemaFile[] {
  return scenario.database.schema.map((f) => ({
    path: relative(scenario.dir, f) || basename(f),
    sql: readFileSync(f, 'utf8'),
  }));
}

/**
 * The constraint points of the scenario's schema files. `statements`: the SQL texts the candidate sent
 * (its discovery run), so that keys an `ON CONFLICT` names as arbiter are refused. (A scenario on an
 * existing database, `database.url`, cannot have schema files: the scenario validator refuses them.)
 */
export async function discoverSchemaMutants(
  scenario: Scenario,
  statements: readonly string[],
): Promise<SchemaDiscovery & { files: string[] }> {
  const files = scenarioSchemaFiles(scenario);
  return { ...(await discoverConstraintPoints(files, statements)), files: files.map((f) => f.path) };
}

/**
 * A copy of `scenario` whose `database.schema` holds the scenario's schema files without constraint
 * `constraintName` (a point's `constraint`). The files are written to `<dir>/schema/` as
 * `<n>-<file name>` (n = the file's position, 1-based, so two `schema.sql` from different folders do
 * not collide); `dir` is created if needed. Everything else in the scenario is shared with the original.
 * Throws `USAGE` when no schema file declares that constraint (`dropConstraint`).
 */
export function schemaMutantScenario(scenario: Scenario, constraintName: string, dir: string): Scenario {
  const mutated = dropConstraint(scenarioSchemaFiles(scenario), constraintName);
  const folder = resolve(dir, 'schema');
  mkdirSync(folder, { recursive: true });
  const schema = mutated.map((f, i) => {
    const file = join(folder, `${i + 1}-${basename(f.path)}`);
    writeFileSync(file, f.sql);
    return file;
  });
  return { ...scenario, database: { ...scenario.database, schema } };
}

/** For people: `drop-constraint@<name>: UNIQUE (job_id, status) on job_status_history`. */
export function schemaMutantLabel(point: ConstraintPoint): string {
  return `${point.id}: ${point.clause} on ${point.table}`;
}
