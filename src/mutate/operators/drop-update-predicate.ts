/**
 * `drop-update-predicate`: turns a conditional update into a plain one by keeping only the predicates on
 * the row's key. `UPDATE jobs SET status = 'completed' WHERE id = $1 AND status = 'in_progress'` becomes
 * `… WHERE id = $1`: the update no longer re-checks the state it expects, so its row count no longer
 * tells the caller it lost a race. One site per `UPDATE` (also one in a CTE) whose `WHERE` is an `AND`
 * of a key predicate and at least one more.
 *
 * The key, in this order:
 * 1. when the schema files create the table: the smallest of its keys (primary key, unique constraint,
 *    unique index on plain columns, not partial) whose every column has an equality in the `WHERE`
 *    (`col = …`, `col IN (…)`, `col = ANY(…)`); a `WHERE` that covers no key has no site (it is not an
 *    update of one row);
 * 2. otherwise (table not in the schema, e.g. created by the application's migrations): the first
 *    equality `col = …` in the `WHERE`.
 * Everything else in the `AND` is dropped at once. A dropped predicate that holds a parameter (`AND
 * version = $2`) is kept as `(version = $2 OR true)` instead: the statement must keep every parameter the
 * client binds, with the type PostgreSQL infers for it, and `x OR true` is true whatever `x` is.
 */
import { type Body, columnRef, forEachNode, names, paramNumbers } from '../ast.js';
import type { MutationSite, OperatorContext, StatementOperator } from '../operator.js';
import { deparse } from '../sql-parser.js';

/** The target table's column an equality-like conjunct tests (`id = $1`, `t.id IN (…)`), if any. */
function equalityColumn(conjunct: unknown, table: string, alias: string | undefined): string | undefined {
  const e = (conjunct as { A_Expr?: Body }).A_Expr;
  if (!e) return undefined;
  const op = names(e.name)[0];
  const kindOk =
    (e.kind === 'AEXPR_OP' && op === '=') ||
    (e.kind === 'AEXPR_IN' && op === '=') ||
    (e.kind === 'AEXPR_OP_ANY' && op === '=');
  if (!kindOk) return undefined;
  const own = (side: unknown): string | undefined => {
    const ref = columnRef(side);
    if (!ref) return undefined;
    if (ref.length === 1) return ref[0];
    if (ref.length === 2 && (ref[0] === table || ref[0] === alias)) return ref[1];
    return undefined;
  };
  const left = own(e.lexpr);
  const right = e.kind === 'AEXPR_OP' ? own(e.rexpr) : undefined;
  // `a = b` between two of the table's own columns is a condition, not a key lookup.
  if (left && right) return undefined;
  return left ?? right;
}

/** Indexes of the conjuncts to keep (the key's), or undefined when there is no key predicate. */
function keyConjuncts(
  conjuncts: unknown[],
  table: string,
  alias: string | undefined,
  context: OperatorContext,
): number[] | undefined {
  const cols = conjuncts.map((c) => equalityColumn(c, table, alias));
  const keys = context.schema?.keysOf(table);
  if (keys === undefined) {
    const first = cols.findIndex((c) => c !== undefined);
    return first < 0 ? undefined : [first];
  }
  const covered = keys
    .filter((key) => key.every((k) => cols.includes(k)))
    .sort((a, b) => a.length - b.length)[0];
  return covered?.map((k) => cols.indexOf(k));
}

/** `(x OR true)`: a predicate this operator already made always true. */
function isNeutralized(conjunct: unknown): boolean {
  const b = (conjunct as { BoolExpr?: Body }).BoolExpr;
  if (b?.boolop !== 'OR_EXPR' || !Array.isArray(b.args)) return false;
  const last = b.args[b.args.length - 1] as { A_Const?: { boolval?: { boolval?: boolean } } };
  return last.A_Const?.boolval?.boolval === true;
}

export const dropUpdatePredicate = {
  name: 'drop-update-predicate',
  summary: 'keep only the key predicates of a conditional UPDATE',
  sites(statement, context) {
    const out: MutationSite[] = [];
    forEachNode(statement, (type, body) => {
      if (type !== 'UpdateStmt' || !body.whereClause) return;
      const update = body;
      const where = update.whereClause as { BoolExpr?: Body };
      if (where.BoolExpr?.boolop !== 'AND_EXPR') return;
      const conjuncts = (where.BoolExpr.args as unknown[]) ?? [];
      const relation = update.relation as Body;
      const table = String(relation.relname ?? '');
      const alias = (relation.alias as Body | undefined)?.aliasname as string | undefined;
      const keep = keyConjuncts(conjuncts, table, alias, context);
      if (!keep) return;
      // `(x OR true)` is what this operator leaves of a predicate with parameters: already dropped.
      const dropped = conjuncts.filter((c, i) => !keep.includes(i) && !isNeutralized(c));
      if (dropped.length === 0) return;
      out.push({
        clause: dropped.map((c) => deparse(c)).join(' AND '),
        apply() {
          const next = conjuncts.flatMap((c, i) => {
            if (keep.includes(i) || isNeutralized(c)) return [c];
            if (paramNumbers(c).length === 0) return [];
            return [
              { BoolExpr: { boolop: 'OR_EXPR', args: [c, { A_Const: { boolval: { boolval: true } } }] } },
            ];
          });
          update.whereClause = next.length === 1 ? next[0] : { BoolExpr: { boolop: 'AND_EXPR', args: next } };
        },
      });
    });
    return out;
  },
} as const satisfies StatementOperator;
