/**
 * `drop-constraint`: schema mutants. The scenario's schema files are parsed, their constraints listed,
 * and each mutant is the same files without one of them:
 *
 * | constraint                                   | the mutant                                              |
 * |----------------------------------------------|---------------------------------------------------------|
 * | `UNIQUE`, `EXCLUDE`, `CHECK` (column or table) | the constraint removed from `CREATE TABLE`            |
 * | `ALTER TABLE … ADD CONSTRAINT`               | that command removed (the statement, if it was the only one) |
 * | `CREATE UNIQUE INDEX` (also partial)         | `CREATE INDEX`: same name, columns and `WHERE`, not unique |
 * | `PRIMARY KEY` on columns the application fills in (a natural key: `idempotency_keys(key)`, `task_claims(task, tick)`) | the key removed |
 *
 * Not mutated, each listed with the reason:
 * - a primary key or unique constraint whose columns the database fills in (`serial`, identity, a
 *   `DEFAULT`): concurrent inserts cannot collide on it, so it protects nothing against a race;
 * - a key a foreign key references: without it the schema does not apply;
 * - a key that an `ON CONFLICT` of a statement the run saw names as its arbiter: without it that
 *   statement fails on every call, so the mutant would be killed by the error, not by the race (the
 *   `drop-on-conflict` mutant of that statement tests the same protection).
 * Foreign keys and NOT NULL are not listed: they are not protections against concurrent requests.
 *
 * The statements that are not changed keep their bytes; the changed one is deparsed. Every mutant is
 * checked by reading it back: it must have exactly the constraints of the original but the one dropped.
 */
import { WhatbreaksError } from '../errors.js';
import { type Body, columnRef, nodesOf } from './ast.js';
import {
  buildSchemaModel,
  type ConstraintKind,
  type ConstraintModel,
  type SchemaModel,
} from './schema-model.js';
import { deparse, loadSqlParser, type ParsedStatement, parseSql, spliceSql } from './sql-parser.js';

/** One schema file as the scenario names it, with its text. */
export interface SchemaFile {
  readonly path: string;
  readonly sql: string;
}

export interface ConstraintPoint {
  /** `drop-constraint@<constraint name>`: PostgreSQL's name for it, stable while the schema is. */
  readonly id: string;
  readonly operator: 'drop-constraint';
  readonly constraint: string;
  readonly kind: Exclude<ConstraintKind, 'foreign-key'>;
  readonly table: string;
  readonly columns: readonly string[];
  readonly partial: boolean;
  /** The constraint as written (`UNIQUE (job_id, status)`). */
  readonly clause: string;
  /** The schema file that declares it. */
  readonly file: string;
}

export interface RefusedConstraint extends ConstraintPoint {
  readonly reason: string;
}

export interface SchemaDiscovery {
  readonly schema: SchemaModel;
  readonly points: ConstraintPoint[];
  readonly refused: RefusedConstraint[];
  /** Schema files the parser could not read (no point comes from them). */
  readonly unparsed: { file: string; error: string }[];
}

interface Parsed {
  files: readonly SchemaFile[];
  statements: ParsedStatement[][];
  unparsed: { file: string; error: string }[];
}

function parseFiles(files: readonly SchemaFile[]): Parsed {
  const statements: ParsedStatement[][] = [];
  const unparsed: { file: string; error: string }[] = [];
  for (const f of files) {
    const p = parseSql(f.sql);
    if (p.ok) statements.push(p.statements);
    else {
      statements.push([]);
      unparsed.push({ file: f.path, error: p.error });
    }
  }
  return { files, statements, unparsed };
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/** Why `c` cannot be a mutant, or undefined. `arbiters`: ON CONFLICT targets seen in statements. */
function refusal(c: ConstraintModel, model: SchemaModel, arbiters: readonly Arbiter[]): string | undefined {
  const isKey = c.kind === 'primary-key' || c.kind === 'unique' || c.kind === 'unique-index';
  if (isKey && !c.onExpressions) {
    const cols = model.tables.get(c.table)?.columns;
    if (cols && c.columns.length > 0 && c.columns.every((k) => cols.get(k)?.generated)) {
      return 'the database fills in its columns (serial, identity or DEFAULT): concurrent inserts cannot collide on it';
    }
    const fk = model.constraints.find(
      (f) =>
        f.kind === 'foreign-key' &&
        f.references?.table === c.table &&
        (f.references.columns.length ? sameSet(f.references.columns, c.columns) : c.kind === 'primary-key'),
    );
    if (fk) return `foreign key ${fk.name} (${fk.table}) references it: without it the schema does not apply`;
  }
  const arbiter = arbiters.find(
    (a) =>
      a.table === c.table &&
      (a.constraint === c.name || (a.columns !== undefined && isKey && sameSet(a.columns, c.columns))),
  );
  if (arbiter) {
    return `the ON CONFLICT of \`${arbiter.statement}\` names it as its arbiter: without it that statement fails on every call (drop-on-conflict tests that protection)`;
  }
  return undefined;
}

/** An `INSERT … ON CONFLICT` target: its columns, or `ON CONSTRAINT name`. */
interface Arbiter {
  table: string;
  columns?: string[];
  constraint?: string;
  statement: string;
}

function arbitersOf(statements: readonly string[]): Arbiter[] {
  const out: Arbiter[] = [];
  for (const sql of statements) {
    const p = parseSql(sql);
    if (!p.ok) continue;
    for (const st of p.statements) {
      for (const insert of nodesOf(st.node, 'InsertStmt')) {
        const oc = insert.onConflictClause as Body | undefined;
        if (!oc) continue;
        const table = String((insert.relation as Body | undefined)?.relname ?? '');
        const infer = oc.infer as Body | undefined;
        const elems = Array.isArray(infer?.indexElems) ? infer.indexElems : [];
        const columns = elems.map((e) => {
          const el = (e as { IndexElem?: Body }).IndexElem;
          return typeof el?.name === 'string' ? el.name : (columnRef(el?.expr)?.at(-1) ?? '?');
        });
        out.push({
          table,
          columns: infer?.conname ? undefined : columns,
          constraint: typeof infer?.conname === 'string' ? infer.conname : undefined,
          statement: st.text.replace(/\s+/g, ' '),
        });
      }
    }
  }
  return out;
}

/**
 * List the constraint mutants of the schema files. `statements`: SQL texts the run saw (optional), to
 * find keys that an `ON CONFLICT` needs.
 */
export async function discoverConstraintPoints(
  files: readonly SchemaFile[],
  statements: readonly string[] = [],
): Promise<SchemaDiscovery> {
  await loadSqlParser();
  const parsed = parseFiles(files);
  const schema = buildSchemaModel(parsed.statements);
  const arbiters = arbitersOf(statements);
  const points: ConstraintPoint[] = [];
  const refused: RefusedConstraint[] = [];
  for (const c of schema.constraints) {
    if (c.kind === 'foreign-key') continue;
    const point: ConstraintPoint = {
      id: `drop-constraint@${c.name}`,
      operator: 'drop-constraint',
      constraint: c.name,
      kind: c.kind,
      table: c.table,
      columns: c.columns,
      partial: c.partial,
      clause: c.definition,
      file: files[c.file]!.path,
    };
    const reason = refusal(c, schema, arbiters);
    if (reason) refused.push({ ...point, reason });
    else points.push(point);
  }
  return { schema, points, refused, unparsed: parsed.unparsed };
}

/** A comparable description of a constraint, independent of default names (they shift when one goes). */
function signature(c: ConstraintModel): string {
  return `${c.kind} ${c.table} ${c.definition}`;
}

/**
 * The schema files without constraint `name` (a point's `constraint`). Files other than the one that
 * declares it are returned as they were. Throws (USAGE) for an unknown name; throws if the mutant does not
 * read back as the original less that one constraint (a bug here, never a silent wrong schema).
 */
export function dropConstraint(files: readonly SchemaFile[], name: string): SchemaFile[] {
  const parsed = parseFiles(files);
  const model = buildSchemaModel(parsed.statements);
  const c = model.constraints.find((x) => x.name === name && x.kind !== 'foreign-key');
  if (!c) {
    throw new WhatbreaksError(
      'USAGE',
      `no constraint named "${name}" in the schema files`,
      `constraints: ${model.constraints.map((x) => x.name).join(', ')}`,
    );
  }
  const st = parsed.statements[c.file]![c.statement]!;
  const tree = structuredClone(st.node) as unknown as Record<string, Body>;
  let text: string;
  const place = c.place;
  if (place.in === 'index') {
    tree.IndexStmt!.unique = false;
    text = deparse(tree);
  } else if (place.in === 'alter') {
    const cmds = tree.AlterTableStmt!.cmds as unknown[];
    if (cmds.length === 1) text = `/* drop-constraint@${name}: ALTER TABLE removed */`;
    else {
      cmds.splice(place.command, 1);
      text = deparse(tree);
    }
  } else {
    const elts = tree.CreateStmt!.tableElts as unknown[];
    if (place.in === 'table') elts.splice(place.element, 1);
    else {
      const col = (elts[place.element] as { ColumnDef: Body }).ColumnDef;
      const own = col.constraints as unknown[];
      own.splice(place.constraint, 1);
      if (own.length === 0) delete col.constraints;
    }
    text = deparse(tree);
  }
  const out = files.map((f, i) =>
    i === c.file
      ? { path: f.path, sql: spliceSql(f.sql, [{ startByte: st.startByte, endByte: st.endByte, text }]) }
      : f,
  );
  // Read the mutant back: the same constraints, less this one.
  const back = parseFiles(out);
  if (back.unparsed.length)
    throw new Error(`schema mutant ${name} does not parse: ${back.unparsed[0]!.error}`);
  const want = model.constraints
    .filter((x) => x !== c)
    .map(signature)
    .sort();
  const got = buildSchemaModel(back.statements).constraints.map(signature).sort();
  if (JSON.stringify(want) !== JSON.stringify(got)) {
    throw new Error(
      `schema mutant ${name} changed more than that constraint: ${JSON.stringify({ want, got })}`,
    );
  }
  return out;
}

/** For tests and reports: the constraint names a schema declares (PostgreSQL's names). */
export function constraintNames(files: readonly SchemaFile[]): string[] {
  return buildSchemaModel(parseFiles(files).statements).constraints.map((c) => c.name);
}
