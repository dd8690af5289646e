/**
 * What the scenario's schema files say about tables, columns, keys and constraints, read from their
 * parsed statements (`CREATE TABLE`, `ALTER TABLE … ADD CONSTRAINT`, `CREATE [UNIQUE] INDEX`).
 *
 * Constraint names are the ones PostgreSQL gives: the written name, else its default (`jobs_pkey`,
 * `job_status_history_job_id_status_key`, `trucks_capacity_kg_check`, `bookings_truck_id_fkey`), built
 * as PostgreSQL's `makeObjectName` builds them (`<table>_<columns>_<suffix>`, shortened to 63 bytes,
 * a number appended on a clash). Those are the names in its error messages, so a mutant named after one
 * is recognisable. Tables are known by their name without schema (`public.jobs` is `jobs`).
 */
import { type Body, columnRef, forEachNode, names } from './ast.js';
import { deparse, type ParsedStatement } from './sql-parser.js';

export type ConstraintKind = 'primary-key' | 'unique' | 'exclude' | 'check' | 'unique-index' | 'foreign-key';

/** Where a constraint is written, relative to its statement's tree. */
export type ConstraintPlace =
  /** `CREATE TABLE`'s `tableElts[element]` is the constraint. */
  | { in: 'table'; element: number }
  /** `CREATE TABLE`'s `tableElts[element]` is a column; its `constraints[constraint]` is this one. */
  | { in: 'column'; element: number; constraint: number }
  /** `ALTER TABLE`'s `cmds[command]` adds it. */
  | { in: 'alter'; command: number }
  /** The statement is `CREATE UNIQUE INDEX`. */
  | { in: 'index' };

export interface ConstraintModel {
  /** PostgreSQL's name for it (written or default). */
  readonly name: string;
  readonly kind: ConstraintKind;
  readonly table: string;
  /** Key columns (primary key, unique, unique index, foreign key); columns a CHECK or EXCLUDE uses. */
  readonly columns: readonly string[];
  /** A unique index or exclusion constraint with a `WHERE` (partial). */
  readonly partial: boolean;
  /** A unique index on expressions (`lower(email)`): `columns` are the columns they use, not a key. */
  readonly onExpressions?: boolean;
  /** The definition as SQL (`UNIQUE (job_id, status)`, `CHECK (capacity_kg > 0)`). */
  readonly definition: string;
  /** Index of the schema file, and of the statement in it. */
  readonly file: number;
  readonly statement: number;
  readonly place: ConstraintPlace;
  /** A foreign key's referenced table and columns (none written: the referenced table's primary key). */
  readonly references?: { table: string; columns: readonly string[] };
}

export interface ColumnModel {
  readonly name: string;
  /** Filled in by the database: serial types, identity, a DEFAULT, a generated column. */
  readonly generated: boolean;
}

export interface TableModel {
  readonly name: string;
  readonly columns: ReadonlyMap<string, ColumnModel>;
}

export interface SchemaModel {
  readonly tables: ReadonlyMap<string, TableModel>;
  readonly constraints: readonly ConstraintModel[];
  /**
   * Column sets that identify one row of `table`: primary key, unique constraints and unique indexes on
   * plain columns, not partial. Undefined when the schema does not create the table.
   */
  keysOf(table: string): string[][] | undefined;
}

const NAMEDATALEN = 64;
const SERIAL = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);

/** PostgreSQL's `makeObjectName`: `name1_name2_label`, name1 and name2 shortened to fit 63 bytes. */
export function makeObjectName(name1: string, name2: string | undefined, label: string): string {
  let overhead = label ? label.length + 1 : 0;
  if (name2) overhead++;
  const avail = NAMEDATALEN - 1 - overhead;
  let n1 = name1.length;
  let n2 = name2?.length ?? 0;
  while (n1 + n2 > avail) {
    if (n1 > n2) n1--;
    else n2--;
  }
  let out = name1.slice(0, n1);
  if (name2) out += `_${name2.slice(0, n2)}`;
  if (label) out += `_${label}`;
  return out;
}

/** Distinct column names an expression uses, in order of first use. */
function columnsUsed(expr: unknown): string[] {
  const out: string[] = [];
  forEachNode(expr, (type, body) => {
    if (type !== 'ColumnRef') return;
    const ref = columnRef({ ColumnRef: body });
    const col = ref?.[ref.length - 1];
    if (col && !out.includes(col)) out.push(col);
  });
  return out;
}

/** PostgreSQL's `FigureColname` for the cases an index expression has: a function's or column's name. */
function figureColname(expr: unknown): string {
  const e = expr as { FuncCall?: Body; ColumnRef?: Body; TypeCast?: Body };
  if (e.FuncCall) return names(e.FuncCall.funcname).at(-1) ?? 'expr';
  if (e.ColumnRef) return columnRef(e)?.at(-1) ?? 'expr';
  if (e.TypeCast) return figureColname(e.TypeCast.arg);
  return 'expr';
}

/** Index columns as PostgreSQL names them in an index name (`ChooseIndexColumnNames`). */
function indexColumnNames(elems: unknown[]): string[] {
  return elems.map((e) => {
    const el = (e as { IndexElem?: Body }).IndexElem;
    return typeof el?.name === 'string' ? el.name : figureColname(el?.expr);
  });
}

/** Read tables, columns and constraints from the parsed statements of each schema file. */
export function buildSchemaModel(files: readonly (readonly ParsedStatement[])[]): SchemaModel {
  const tables = new Map<string, { name: string; columns: Map<string, ColumnModel> }>();
  const constraints: ConstraintModel[] = [];
  const taken = new Set<string>();
  const choose = (table: string, cols: string | undefined, label: string, written: unknown): string => {
    if (typeof written === 'string') {
      taken.add(written);
      return written;
    }
    let name = makeObjectName(table, cols, label);
    for (let pass = 1; taken.has(name); pass++) name = makeObjectName(table, cols, `${label}${pass}`);
    taken.add(name);
    return name;
  };
  const addConstraint = (
    c: Body,
    table: string,
    column: string | undefined,
    at: { file: number; statement: number; place: ConstraintPlace },
  ) => {
    const keys = column ? [column] : names(c.keys);
    const definition = deparse({ Constraint: c });
    switch (c.contype) {
      case 'CONSTR_PRIMARY':
        constraints.push({
          name: choose(table, undefined, 'pkey', c.conname),
          kind: 'primary-key',
          table,
          columns: keys,
          partial: false,
          definition,
          ...at,
        });
        break;
      case 'CONSTR_UNIQUE':
        constraints.push({
          name: choose(table, keys.join('_'), 'key', c.conname),
          kind: 'unique',
          table,
          columns: keys,
          partial: false,
          definition,
          ...at,
        });
        break;
      case 'CONSTR_EXCLUSION': {
        const elems = (Array.isArray(c.exclusions) ? c.exclusions : []).map(
          (pair) => ((pair as { List?: { items?: unknown[] } }).List?.items ?? [])[0],
        );
        constraints.push({
          name: choose(table, indexColumnNames(elems).join('_'), 'excl', c.conname),
          kind: 'exclude',
          table,
          columns: columnsUsed(elems),
          partial: c.where_clause !== undefined,
          definition,
          ...at,
        });
        break;
      }
      case 'CONSTR_CHECK': {
        const used = columnsUsed(c.raw_expr);
        constraints.push({
          name: choose(table, used.length === 1 ? used[0] : undefined, 'check', c.conname),
          kind: 'check',
          table,
          columns: used,
          partial: false,
          definition,
          ...at,
        });
        break;
      }
      case 'CONSTR_FOREIGN': {
        const fkCols = column ? [column] : names(c.fk_attrs);
        const pk = c.pktable as Body | undefined;
        constraints.push({
          name: choose(table, fkCols.join('_'), 'fkey', c.conname),
          kind: 'foreign-key',
          table,
          columns: fkCols,
          partial: false,
          definition,
          ...at,
          references: { table: String(pk?.relname ?? ''), columns: names(c.pk_attrs) },
        });
        break;
      }
    }
  };

  files.forEach((statements, file) => {
    statements.forEach((s, statement) => {
      const node = s.node as unknown as Record<string, Body | undefined>;
      const create = node.CreateStmt;
      if (create) {
        const table = String((create.relation as Body | undefined)?.relname ?? '');
        const columns = new Map<string, ColumnModel>();
        tables.set(table, { name: table, columns });
        const elts = Array.isArray(create.tableElts) ? create.tableElts : [];
        elts.forEach((e, element) => {
          const col = (e as { ColumnDef?: Body }).ColumnDef;
          if (col) {
            const name = String(col.colname);
            const typ = names((col.typeName as Body | undefined)?.names);
            const own = Array.isArray(col.constraints) ? col.constraints : [];
            const generated =
              SERIAL.has(typ[typ.length - 1] ?? '') ||
              own.some((k) =>
                ['CONSTR_DEFAULT', 'CONSTR_IDENTITY', 'CONSTR_GENERATED'].includes(
                  String((k as { Constraint?: Body }).Constraint?.contype),
                ),
              );
            columns.set(name, { name, generated });
            own.forEach((k, constraint) => {
              const c = (k as { Constraint?: Body }).Constraint;
              if (c)
                addConstraint(c, table, name, {
                  file,
                  statement,
                  place: { in: 'column', element, constraint },
                });
            });
            return;
          }
          const c = (e as { Constraint?: Body }).Constraint;
          if (c) addConstraint(c, table, undefined, { file, statement, place: { in: 'table', element } });
        });
        return;
      }
      const alter = node.AlterTableStmt;
      if (alter) {
        const table = String((alter.relation as Body | undefined)?.relname ?? '');
        const cmds = Array.isArray(alter.cmds) ? alter.cmds : [];
        cmds.forEach((cmd, command) => {
          const c = (cmd as { AlterTableCmd?: Body }).AlterTableCmd;
          const def = (c?.def as { Constraint?: Body } | undefined)?.Constraint;
          if (c?.subtype === 'AT_AddConstraint' && def) {
            addConstraint(def, table, undefined, { file, statement, place: { in: 'alter', command } });
          }
        });
        return;
      }
      const index = node.IndexStmt;
      if (index) {
        const table = String((index.relation as Body | undefined)?.relname ?? '');
        const elems = Array.isArray(index.indexParams) ? index.indexParams : [];
        // CREATE UNIQUE INDEX makes an index, not a constraint: PostgreSQL's suffix is `idx` for both.
        const name = choose(table, indexColumnNames(elems).join('_'), 'idx', index.idxname);
        if (!index.unique) return;
        const plain = elems.every((e) => typeof (e as { IndexElem?: Body }).IndexElem?.name === 'string');
        constraints.push({
          name,
          kind: 'unique-index',
          table,
          columns: plain ? indexColumnNames(elems) : columnsUsed(elems),
          onExpressions: !plain,
          partial: index.whereClause !== undefined,
          definition: deparse({ IndexStmt: index }),
          file,
          statement,
          place: { in: 'index' },
        });
      }
    });
  });

  const keyKinds = new Set<ConstraintKind>(['primary-key', 'unique', 'unique-index']);
  return {
    tables,
    constraints,
    keysOf(table) {
      if (!tables.has(table)) return undefined;
      return constraints
        .filter((c) => c.table === table && keyKinds.has(c.kind) && !c.partial && c.columns.length > 0)
        .filter((c) => !c.onExpressions)
        .map((c) => [...c.columns]);
    },
  };
}

/** The primary-key columns of `table` in `model`, or undefined. */
export function primaryKeyOf(model: SchemaModel, table: string): readonly string[] | undefined {
  return model.constraints.find((c) => c.table === table && c.kind === 'primary-key')?.columns;
}
